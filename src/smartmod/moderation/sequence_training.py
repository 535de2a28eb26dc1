"""Training the sequence classifiers of :mod:`~smartmod.moderation.sequence_networks`.

The recipe is the TF-IDF model's (:mod:`smartmod.moderation.training`: masked binary
cross-entropy over the seven categories, the same imbalance strategies, Adam, early stopping on
validation loss) with two differences that make sequences cheap:

- texts become token ids once (:class:`~smartmod.text.sequence_encoder.SequenceEncoder`, its
  vocabulary fitted on the training texts), held in one post-padded ``(N, max_length)`` array;
- each epoch runs over length-bucketed batches with their padding columns trimmed
  (:mod:`~smartmod.moderation.sequence_batches`), and each step is
  :meth:`Trainer.train_step <smartmod.nn.train.Trainer.train_step>`.

Training keeps the weights of the epoch with the lowest validation loss. Embeddings start random,
or from a saved word2vec model (``config.embeddings``, :mod:`smartmod.text.word2vec`).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy

from smartmod.moderation.imbalance_strategies import training_set, with_category_weights
from smartmod.moderation.sequence_batches import bucketed_batches, predict_sequences
from smartmod.moderation.sequence_networks import SequenceClassifier, sequence_network
from smartmod.nn import backend
from smartmod.nn.callbacks import EarlyStopping
from smartmod.nn.module import Module
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer
from smartmod.text.sequence_encoder import SequenceEncoder
from smartmod.text.vocab import Vocabulary

__all__ = ["FittedSequenceModel", "fit_sequence_network", "fit_sequence_model", "pretrained_embedding"]


def fit_sequence_network(network: Module, loss: Any, train_ids: numpy.ndarray, train_labels: numpy.ndarray, validation_ids: numpy.ndarray,
                         validation_labels: numpy.ndarray, *, lr: float, batch_size: int, epochs: int, patience: int, seed: int,
                         clip_norm: float | None = None, progress: bool = False) -> dict[str, list[float]]:
    """Adam on length-bucketed batches, early-stopped on the validation loss; returns the history.

    Parameters
    ----------
    network : Module
        Token ids (B, T) → logits (B, C), e.g. a :class:`SequenceClassifier`.
    loss : masked loss on logits (``BCEWithLogitsLoss``, ``FocalLoss``)
    train_ids, validation_ids : int arrays (N, L), (V, L), post-padded with 0
    train_labels, validation_labels : float arrays (N, C), (V, C); NaN = not labeled

    Returns
    -------
    dict of lists, one entry per epoch run: ``loss``, ``val_loss``, ``lr`` and ``seconds`` (the
    epoch's training time, validation excluded). The network ends with the weights of the epoch
    of lowest ``val_loss``.
    """
    if len(train_ids) != len(train_labels) or len(validation_ids) != len(validation_labels):
        raise ValueError(f"ids and labels must have one row each: train {len(train_ids)} vs {len(train_labels)}, "
                         f"validation {len(validation_ids)} vs {len(validation_labels)}")
    optimizer = Adam(network.parameters(), lr=lr)
    trainer = Trainer(network, loss, optimizer, batch_size=batch_size, clip_norm=clip_norm, seed=seed, progress=False)
    stopping = EarlyStopping("val_loss", patience=patience)
    backend.seed(seed)
    history: dict[str, list[float]] = {}
    for epoch in range(epochs):
        started = time.perf_counter()
        shuffle_seed = int(backend.to_numpy(backend.rng().integers(0, 2**31 - 1)))
        batches = bucketed_batches(train_ids, batch_size, shuffle=True, seed=shuffle_seed)
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, total=-(-len(train_ids) // batch_size), desc=f"epoch {epoch + 1}", leave=False)
        losses = [trainer.train_step(ids, train_labels[rows]) for rows, ids in batches]
        seconds = time.perf_counter() - started
        logs = {"loss": float(numpy.mean(losses)), "lr": float(optimizer.lr), "seconds": seconds,
                "val_loss": float(loss.forward(predict_sequences(network, validation_ids), validation_labels))}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        stopping.on_epoch_end(trainer, epoch, logs)
        if trainer.stop_training:
            break
    if stopping.best_weights and stopping.best_epoch != len(history["loss"]) - 1:
        network.load_state_dict(stopping.best_weights)
    return history


@dataclass
class FittedSequenceModel:
    """What :func:`fit_sequence_model` returns."""

    encoder: SequenceEncoder
    network: SequenceClassifier
    history: dict[str, list[float]]
    validation_logits: numpy.ndarray  # (V, C), uncalibrated
    seconds: dict[str, float]  # encode, train
    embedding_coverage: dict[str, Any] | None = None  # with pretrained embeddings: their path and how much of the vocabulary they cover


def fit_sequence_model(config: Any, train_texts: list[str], train_labels: numpy.ndarray, validation_texts: list[str],
                       validation_labels: numpy.ndarray) -> FittedSequenceModel:
    """Fit the encoder's vocabulary and ``config.architecture`` on the training texts, early-stopped on the validation texts.

    Parameters
    ----------
    config : TextTrainingConfig
        Reads ``architecture``, ``embedding_dim``, ``hidden``, ``dropout``, ``pooling``,
        ``num_layers``, ``num_heads``, ``positions``, ``max_length``, ``min_df`` (the vocabulary's
        minimum count), ``max_features`` (its size), ``embeddings``, ``imbalance``, ``lr``,
        ``batch_size``, ``epochs``, ``patience``, ``clip_norm``, ``seed`` and ``progress``.
    train_texts, validation_texts : lists of N and V str
    train_labels, validation_labels : (N, C) and (V, C) arrays of 0, 1, NaN (not labeled)
    """
    if config.imbalance == "smote":
        raise ValueError("imbalance 'smote' interpolates TF-IDF vectors and has no meaning for token ids; "
                         "use none, pos_weight, focal, oversample or undersample with a sequence architecture")
    started = time.perf_counter()
    encoder = SequenceEncoder(max_length=config.max_length, min_count=config.min_df, max_size=config.max_features).fit(train_texts)
    train_ids = encoder.transform(train_texts)
    validation_ids = encoder.transform(validation_texts)
    encoded = time.perf_counter()

    backend.seed(config.seed)
    network = sequence_network(config.architecture, len(encoder.vocabulary_), train_labels.shape[1], embedding_dim=config.embedding_dim,
                               hidden=config.hidden, dropout=config.dropout, pooling=config.pooling, num_layers=config.num_layers,
                               num_heads=config.num_heads, positions=config.positions, max_length=config.max_length)
    coverage = None
    if config.embeddings is not None:
        table, coverage = pretrained_embedding(config.embeddings, encoder.vocabulary_, config.embedding_dim, config.seed)
        network.embedding.weight.data[...] = table
    loss, train_ids, train_labels = training_set(config.imbalance, train_ids, train_labels, config.seed)
    loss = with_category_weights(loss, config.category_weights, train_labels)
    history = fit_sequence_network(network, loss, train_ids, train_labels, validation_ids, validation_labels, lr=config.lr,
                                   batch_size=config.batch_size, epochs=config.epochs, patience=config.patience, seed=config.seed,
                                   clip_norm=config.clip_norm, progress=config.progress)
    trained = time.perf_counter()
    return FittedSequenceModel(encoder, network, history, predict_sequences(network, validation_ids),
                               {"encode": round(encoded - started, 1), "train": round(trained - encoded, 1)}, coverage)


def pretrained_embedding(path: str | os.PathLike, vocabulary: Vocabulary, embedding_dim: int, seed: int) -> tuple[numpy.ndarray, dict[str, Any]]:
    """The starting embedding table ``(len(vocabulary), embedding_dim)`` from a word2vec model saved at ``path``.

    Words the model knows get its vectors, padding stays zero, the rest are small random rows
    (:meth:`Word2Vec.embedding_matrix <smartmod.text.word2vec.Word2Vec.embedding_matrix>`). The
    model must have been trained on the same tokens: :func:`~smartmod.text.normalize.normalize`
    then :func:`~smartmod.text.tokenize.word_tokens`. Returns the table and its coverage of the
    vocabulary, with the path.
    """
    from smartmod.text.word2vec import Word2Vec

    table, coverage = Word2Vec.load(path).embedding_matrix(vocabulary, seed=seed)
    if table.shape[1] != embedding_dim:
        raise ValueError(f"the word2vec vectors at {path} have {table.shape[1]} dimensions but embedding_dim is {embedding_dim}; "
                         f"set embedding_dim to {table.shape[1]}")
    return table, {"path": str(path), **coverage}
