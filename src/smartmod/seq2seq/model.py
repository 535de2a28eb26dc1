"""The encoder–decoder transformer (Vaswani et al. 2017, figure 1) for sequences of token ids."""
from __future__ import annotations

from typing import Any, Callable

import numpy

from smartmod.nn import backend
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.embedding import Embedding
from smartmod.nn.layers.positional import SinusoidalPositionalEncoding
from smartmod.nn.layers.transformer import TransformerEncoder
from smartmod.nn.layers.transformer_decoder import TransformerDecoder
from smartmod.nn.module import Module

__all__ = ["Seq2SeqTransformer"]

PAD = 0  # the padding id of both vocabularies (CharacterVocabulary.PAD)


class Seq2SeqTransformer(Module):
    """Source ids → embeddings + sinusoidal positions → encoder → memory; target ids so far →
    embeddings + positions → causal decoder attending to the memory → logits of the next token.

    Parameters
    ----------
    source_vocabulary_size, target_vocabulary_size : int
        Id 0 pads in both (padded source positions are masked out of attention).
    d_model, num_heads, d_ff, dropout : transformer sizes (see :class:`~smartmod.nn.TransformerEncoder`).
    encoder_layers, decoder_layers : int
    max_length : int
        The longest source or target sequence.
    norm_first : bool
        Pre-norm layers with a final LayerNorm on each stack (True) or post-norm (False).

    Shapes: ``forward(source (B, S) ints, target_input (B, T) ints)`` returns logits
    ``(B, T, target_vocabulary_size)``: position t predicts target token t from the START token
    and target tokens before t (teacher forcing). ``backward(d_logits)`` returns None (ids).
    """

    def __init__(self, source_vocabulary_size: int, target_vocabulary_size: int, d_model: int = 64, num_heads: int = 4,
                 d_ff: int = 128, encoder_layers: int = 2, decoder_layers: int = 2, dropout: float = 0.1,
                 max_length: int = 64, norm_first: bool = True):
        super().__init__()
        self.config = {"source_vocabulary_size": source_vocabulary_size, "target_vocabulary_size": target_vocabulary_size,
                       "d_model": d_model, "num_heads": num_heads, "d_ff": d_ff, "encoder_layers": encoder_layers,
                       "decoder_layers": decoder_layers, "dropout": dropout, "max_length": max_length, "norm_first": norm_first}
        stack = {"d_model": d_model, "num_heads": num_heads, "d_ff": d_ff, "dropout": dropout,
                 "norm_first": norm_first, "final_norm": norm_first}
        self.source_embedding = Embedding(source_vocabulary_size, d_model, padding_idx=PAD)
        self.target_embedding = Embedding(target_vocabulary_size, d_model, padding_idx=PAD)
        self.positions = SinusoidalPositionalEncoding(d_model, max_length)
        self.source_dropout, self.target_dropout = Dropout(dropout), Dropout(dropout)
        self.encoder = TransformerEncoder(encoder_layers, **stack)
        self.decoder = TransformerDecoder(decoder_layers, **stack)
        self.output = Dense(d_model, target_vocabulary_size)

    def encode(self, source: Any) -> tuple[Any, Any]:
        """The memory ``(B, S, d_model)`` of ``source`` ``(B, S)``, and its padding mask ``(B, S)``."""
        padding = source == PAD
        embedded = self.source_dropout.forward(self.positions.forward(self.source_embedding.forward(source)))  # (B, S, d)
        return self.encoder.forward(embedded, key_padding_mask=padding), padding

    def decode(self, target_input: Any, memory: Any, memory_padding: Any) -> Any:
        """Logits ``(B, T, V)`` of the token after each prefix of ``target_input`` ``(B, T)``."""
        embedded = self.target_dropout.forward(self.positions.forward(self.target_embedding.forward(target_input)))  # (B, T, d)
        hidden = self.decoder.forward(embedded, memory, memory_key_padding_mask=memory_padding)  # (B, T, d)
        return self.output.forward(hidden)  # (B, T, V)

    def forward(self, source: Any, target_input: Any) -> Any:
        memory, padding = self.encode(source)
        return self.decode(target_input, memory, padding)

    def backward(self, grad_output: Any) -> None:
        grad_hidden = self.output.backward(grad_output)  # (B, T, d)
        grad_target, grad_memory = self.decoder.backward(grad_hidden)
        self.target_embedding.backward(self.target_dropout.backward(self.positions.backward(grad_target)))
        grad_source = self.source_dropout.backward(self.positions.backward(self.encoder.backward(grad_memory)))
        self.source_embedding.backward(grad_source)
        return None  # ids are discrete: no gradient

    def next_token_scorer(self, source: Any) -> Callable[[numpy.ndarray], numpy.ndarray]:
        """A function for :mod:`smartmod.seq2seq.decoding`: prefixes ``(N · k, t)`` of ``source``'s
        ``N`` rows, k per row, consecutive → log-probabilities ``(N · k, V)`` of each next token.

        The source is encoded once, in evaluation mode (call ``eval()`` first).
        """
        memory, padding = self.encode(source)  # (N, S, d), (N, S)
        rows = memory.shape[0]
        xp = backend.get_array_module(memory)

        def next_log_probs(prefixes: numpy.ndarray) -> numpy.ndarray:
            per_row = prefixes.shape[0] // rows
            logits = self.decode(prefixes, xp.repeat(memory, per_row, axis=0), xp.repeat(padding, per_row, axis=0))[:, -1]  # (N · k, V)
            shifted = logits - logits.max(axis=-1, keepdims=True)
            return backend.to_numpy(shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True)))

        return next_log_probs

    def get_config(self) -> dict[str, Any]:
        return dict(self.config)
