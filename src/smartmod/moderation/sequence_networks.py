"""Sequence classifiers for moderation: token ids in, one logit per harm category out.

Every architecture has the same shape::

    ids (B, T) → Embedding (B, T, E) → body (B, T, D) → pooling over time (B, D) → head → logits (B, C)

and reads its padding from the ids (id 0 is padding, :class:`~smartmod.text.vocab.Vocabulary`),
handing the mask to every layer that mixes steps, so padded positions change nothing.

==================  =============================================================  ===============
architecture        body                                                           pooling
==================  =============================================================  ===============
mean-embedding      none: averaged word vectors, then an MLP head (Iyyer et al.    mean
                    2015, "Deep unordered composition rivals syntactic methods")
rnn                 Elman RNN                                                      last step
lstm                LSTM (forget-gate bias 1)                                      last step
bilstm              bidirectional LSTM                                             max (or attention)
bigru-attention     bidirectional GRU (Yang et al. 2016, hierarchical attention)   attention
lstm-attention      LSTM                                                           attention
transformer         transformer encoder, learned or sinusoidal positions           mean (or class)
==================  =============================================================  ===============

``class`` pooling prepends a learned class token to every sequence and reads the encoder's
output at its position, as BERT's [CLS] (Devlin et al. 2019): :class:`~smartmod.nn.layers.ClassToken`
and :class:`~smartmod.nn.layers.ClassTokenPooling`.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.layers import (
    GRU,
    ClassToken,
    ClassTokenPooling,
    LSTM,
    RNN,
    AttentionPooling,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    LastStepPooling,
    LearnedPositionalEmbedding,
    MaxOverTimePooling,
    MeanOverTimePooling,
    ReLU,
    RecurrentStack,
    SinusoidalPositionalEncoding,
    TransformerEncoder,
)
from smartmod.nn.module import Module, Sequential, layer_from_config
from smartmod.text.vocab import Vocabulary

__all__ = ["SEQUENCE_ARCHITECTURES", "POOLINGS", "SequenceClassifier", "sequence_network"]

#: Each architecture's body ("none", a recurrent cell, or "transformer"), whether it reads both
#: directions, and its default pooling.
SEQUENCE_ARCHITECTURES: dict[str, tuple[str, bool, str]] = {
    "mean-embedding": ("none", False, "mean"),
    "rnn": ("rnn", False, "last"),
    "lstm": ("lstm", False, "last"),
    "bilstm": ("lstm", True, "max"),
    "bigru-attention": ("gru", True, "attention"),
    "lstm-attention": ("lstm", False, "attention"),
    "transformer": ("transformer", False, "mean"),
}
POOLINGS = ("last", "mean", "max", "attention", "class")
_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class SequenceClassifier(Module):
    """Embedding → optional positions → optional body → pooling over time → head.

    Parameters
    ----------
    embedding : Embedding
        ``(V, E)`` table; row 0 (padding) stays zero.
    pooling : Module
        Takes ``(x (B, T, D), padding_mask (B, T))`` and returns (B, D).
    head : Module
        (B, D) → logits (B, C).
    body : Module or None
        A recurrent layer (RNN, LSTM, GRU, Bidirectional, RecurrentStack) called as
        ``body(x, padding_mask)``, or a TransformerEncoder called with ``key_padding_mask``.
    positions : Module or None
        Adds position vectors to the embeddings (transformers).
    class_token : ClassToken or None
        Prepends a learned (E,) token to every sequence, before the positions (for
        :class:`~smartmod.nn.layers.ClassTokenPooling`); it is never padding.

    Shapes: ``forward(ids)`` takes int ids (B, T), 0 at padded positions, and returns (B, C).
    """

    def __init__(self, embedding: Embedding, pooling: Module, head: Module, body: Module | None = None,
                 positions: Module | None = None, class_token: ClassToken | None = None):
        super().__init__()
        self.embedding, self.pooling, self.head = embedding, pooling, head
        for name, child in (("body", body), ("positions", positions), ("class_token", class_token)):
            if child is not None:
                setattr(self, name, child)
        self.has_body, self.has_positions, self.has_class_token = body is not None, positions is not None, class_token is not None

    def forward(self, ids: Any) -> Any:
        xp = backend.get_array_module(ids)
        if ids.ndim != 2:
            raise ValueError(f"SequenceClassifier takes token ids (batch, steps), got shape {ids.shape}")
        padded = ids == Vocabulary.pad_id  # (B, T)
        x = self.embedding.forward(ids)  # (B, T, E)
        if self.has_class_token:
            x = self.class_token.forward(x)  # (B, 1 + T, E)
            padded = xp.concatenate([xp.zeros((x.shape[0], 1), dtype=bool), padded], axis=1)
        if self.has_positions:
            x = self.positions.forward(x)
        if self.has_body:
            x = self.body.forward(x, key_padding_mask=padded) if isinstance(self.body, TransformerEncoder) else self.body.forward(x, padded)  # (B, T, D)
        return self.head.forward(self.pooling.forward(x, padded))  # (B, D) -> (B, C)

    def backward(self, grad_output: Any) -> None:
        grad = self.pooling.backward(self.head.backward(grad_output))  # (B, T, D)
        if self.has_body:
            grad = self.body.backward(grad)  # (B, T, E)
        if self.has_positions:
            grad = self.positions.backward(grad)
        if self.has_class_token:
            grad = self.class_token.backward(grad)  # (B, T, E)
        self.embedding.backward(grad)
        return None  # ids are discrete: no input gradient

    def get_config(self) -> dict[str, Any]:
        return {name: child.to_config() for name, child in self._modules.items()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "SequenceClassifier":
        return cls(**{name: layer_from_config(child) for name, child in config.items()})


def sequence_network(architecture: str, vocabulary_size: int, num_outputs: int, *, embedding_dim: int = 64, hidden: int = 64,
                     dropout: float = 0.2, pooling: str | None = None, num_layers: int = 1, num_heads: int = 4,
                     positions: str = "learned", max_length: int = 64) -> SequenceClassifier:
    """Build one of :data:`SEQUENCE_ARCHITECTURES`.

    Parameters
    ----------
    architecture : str
    vocabulary_size : int
        V, rows of the embedding table (padding and out-of-vocabulary included).
    num_outputs : int
        C, one logit per category.
    embedding_dim : int
        E, the word-vector width (the transformer's d_model).
    hidden : int
        H: recurrent units per direction, the MLP's hidden layer (mean-embedding), or the
        transformer's feed-forward width.
    dropout : float
        Before the output layer, between stacked recurrent layers, and inside transformer blocks.
    pooling : str or None
        One of :data:`POOLINGS`; None takes the architecture's default. ``last`` needs a
        one-directional recurrent body, ``class`` a transformer.
    num_layers : int
        Stacked recurrent layers or transformer blocks.
    num_heads : int
        Attention heads (transformer); must divide ``embedding_dim``.
    positions : {"learned", "sinusoidal"}
        Position vectors of the transformer.
    max_length : int
        The longest sequence the transformer's positions cover.
    """
    if architecture not in SEQUENCE_ARCHITECTURES:
        raise ValueError(f"unknown sequence architecture {architecture!r}; choose one of {sorted(SEQUENCE_ARCHITECTURES)}")
    body_kind, bidirectional, default_pooling = SEQUENCE_ARCHITECTURES[architecture]
    pooling = pooling or default_pooling
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
    if pooling == "last" and (bidirectional or body_kind not in _CELLS):
        raise ValueError(f"'last' pooling reads the final state of a one-directional recurrent layer; {architecture!r} has none: use mean, max or attention")
    if pooling == "class" and body_kind != "transformer":
        raise ValueError(f"'class' pooling needs a transformer body to mix the class vector with the words; {architecture!r} has none")
    if positions not in ("learned", "sinusoidal"):
        raise ValueError(f"positions must be 'learned' or 'sinusoidal', got {positions!r}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")

    embedding = Embedding(vocabulary_size, embedding_dim, padding_idx=Vocabulary.pad_id)
    body: Module | None = None
    position_layer: Module | None = None
    width = embedding_dim  # D, the width each step has after the body
    if body_kind in _CELLS:
        cell = _CELLS[body_kind]
        extra = {"forget_bias": 1.0} if cell is LSTM else {}
        layers = []
        for index in range(num_layers):
            layer = cell(width if index == 0 else (2 if bidirectional else 1) * hidden, hidden, **extra)
            layers.append(Bidirectional(layer) if bidirectional else layer)
        body = layers[0] if num_layers == 1 else RecurrentStack(*layers, dropout=dropout)
        width = (2 if bidirectional else 1) * hidden
    elif body_kind == "transformer":
        length = max_length + (pooling == "class")
        position_layer = LearnedPositionalEmbedding(length, embedding_dim) if positions == "learned" else SinusoidalPositionalEncoding(embedding_dim, length)
        body = TransformerEncoder(num_layers, embedding_dim, num_heads, hidden, dropout=dropout, norm_first=True, final_norm=True)

    pooling_layer = {"last": LastStepPooling, "mean": MeanOverTimePooling, "max": MaxOverTimePooling, "class": ClassTokenPooling}.get(pooling)
    pooling_module = AttentionPooling(width, attention_size=width) if pooling == "attention" else pooling_layer()
    if body_kind == "none":
        head = Sequential(Dense(width, hidden, init="he_uniform"), ReLU(), Dropout(dropout), Dense(hidden, num_outputs))
    else:
        head = Sequential(Dropout(dropout), Dense(width, num_outputs))
    class_token = ClassToken(embedding_dim) if pooling == "class" else None
    return SequenceClassifier(embedding, pooling_module, head, body=body, positions=position_layer, class_token=class_token)
