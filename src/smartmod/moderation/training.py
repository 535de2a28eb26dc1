"""Training the text moderation model on every shared text dataset at once.

The recipe (model v1): TF-IDF over words and character n-grams → Dense → ReLU → Dropout →
Dense with one logit per category, trained with binary cross-entropy where every category a
record's dataset does not label is masked out. The data is split three ways, seeded, stratified
over labels and datasets, duplicate texts grouped on one side:

- train: fits the vectorizer and the network;
- validation: early stopping, temperature scaling and the per-category thresholds;
- holdout: touched once at the end for the reported figures, so they are not tuned on.

``architecture`` swaps the TF-IDF MLP for a sequence classifier over token ids (BiLSTM, BiGRU
with attention, transformer, ...: :mod:`~smartmod.moderation.sequence_networks`, trained on
length-bucketed batches by :mod:`~smartmod.moderation.sequence_training`); data, split, identity
negatives, loss, calibration, thresholds, evaluation and bundle stay the same.

The bundle also keeps the model's score, length and out-of-vocabulary distributions on the
validation rows (``reference.json``), the reference that serving compares live traffic with
(``smartmod.eval.drift``); ``validation_reference`` recomputes it for an existing bundle.
"""
from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy

from smartmod.data.categories import CATEGORIES, label_matrix, soft_label_matrix
from smartmod.data.paths import data_root
from smartmod.data.splits import combine_groups, group_duplicates, stratified_group_split
from smartmod.data.text_readers import read_all_text
from smartmod.eval.drift import DriftReference
from smartmod.moderation.augment import identity_negatives
from smartmod.moderation.bundle import BundleConfig, TextModelBundle
from smartmod.moderation.imbalance_strategies import RESAMPLING, STRATEGIES, training_set, with_category_weights
from smartmod.moderation.moderator import Moderator
from smartmod.moderation.sequence_networks import SEQUENCE_ARCHITECTURES
from smartmod.moderation.sequence_training import fit_sequence_model
from smartmod.moderation.specialists import fit_specialist, with_specialists
from smartmod.nn import Dense, Dropout, Module, Parallel, ReLU, Sequential, backend
from smartmod.nn.callbacks import EarlyStopping
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from smartmod.text.normalize import normalize
from smartmod.text.vectorize import TfidfVectorizer

__all__ = ["TextTrainingConfig", "load_training_config", "train_text_model", "prepare_records", "split_records", "validation_reference"]

# A sequence model reads the first max_length tokens of what it is given, so its bundle scores long
# texts in windows of about that many tokens: texts in the shared data average 5.7 characters a token.
SEQUENCE_WINDOW_CHARS_PER_TOKEN = 6


@dataclass
class TextTrainingConfig:
    datasets: list[str] | None = None  # dataset names to train on; None = every shared text dataset (English records only)
    max_records_per_dataset: int | None = None  # keep a seeded sample of this many per dataset (quick runs, tests)
    validation_size: float = 0.1  # early stopping, calibration and thresholds
    holdout_size: float = 0.1  # reported figures only
    seed: int = 0
    word_ngram_range: list[int] = field(default_factory=lambda: [1, 2])
    char_ngram_range: list[int] = field(default_factory=lambda: [2, 5])
    max_features: int = 50000  # most frequent n-grams kept per analyzer (words, characters); sequence models: words in the vocabulary
    min_df: int = 2  # documents an n-gram needs; sequence models: occurrences a word needs to enter the vocabulary
    hidden: int = 128  # units in the hidden layer; sequence models: recurrent units per direction, or the transformer's feed-forward width
    wide: bool = False  # add a linear path from the features to the logits beside the MLP ("wide and deep")
    specialists: list[str] = field(default_factory=list)  # categories scored by their own logistic regression (moderation/specialists.py); tfidf-mlp only
    dropout: float = 0.3
    architecture: str = "tfidf-mlp"  # tfidf-mlp, or a sequence model: mean-embedding | rnn | lstm | bilstm | bigru-attention | lstm-attention | transformer
    embedding_dim: int = 64  # sequence models: word-vector width (the transformer's d_model)
    max_length: int = 64  # sequence models: tokens kept per text (the first ones)
    pooling: str | None = None  # sequence models: last | mean | max | attention | class; None = the architecture's default
    num_layers: int = 1  # sequence models: stacked recurrent layers or transformer blocks
    num_heads: int = 4  # transformer: attention heads (must divide embedding_dim)
    positions: str = "learned"  # transformer: learned | sinusoidal position vectors
    clip_norm: float | None = None  # clip the global gradient norm before each step (None: no clipping)
    embeddings: str | None = None  # sequence models: a saved word2vec directory (smartmod.text.word2vec) to start the embeddings from; None: random
    lr: float = 2e-3
    batch_size: int = 256
    epochs: int = 10  # upper bound; early stopping on validation loss usually ends sooner
    patience: int = 2
    imbalance: str = "pos_weight"  # none | pos_weight | focal | oversample | undersample | smote
    soft_labels: bool = False  # train on annotators' vote shares where a dataset has them (Davidson, HateXplain); evaluate on the majority labels
    category_weights: str = "none"  # none | balanced: each category about the same share of the loss (BCE strategies only)
    identity_negatives: int = 10  # copies of the benign identity-mention sentences added to training (0: none; moderation/augment.py)
    threshold_target_precision: float | None = None  # None: thresholds maximize F1 per category
    threshold_floor: float = 0.5  # never flag below this calibrated probability ("more likely harmful than not")
    weight_storage: str = "int8"  # float32 | float16 | int8 (see moderation/quantize.py)
    name: str = "text-tfidf-mlp"
    version: str = "1"
    progress: bool = True


def text_network(n_features: int, n_categories: int, config: TextTrainingConfig) -> Module:
    """Features ``(N, F)`` → logits ``(N, C)``: Dense → ReLU → Dropout → Dense, and with
    ``config.wide`` a Dense from the features straight to the logits added to it."""
    deep = Sequential(Dense(n_features, config.hidden, init="he_uniform"), ReLU(), Dropout(config.dropout), Dense(config.hidden, n_categories))
    if not config.wide:
        return deep
    return Parallel(Dense(n_features, n_categories, init="zeros"), deep)


def load_training_config(path: str | Path) -> TextTrainingConfig:
    """Read a JSON training config; unknown keys are errors that list the known ones."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"training config {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"training config {path} is not valid JSON: {error}") from error
    known = {f.name for f in fields(TextTrainingConfig)}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ValueError(f"training config {path} has unknown keys {unknown}; known keys: {sorted(known)}")
    return TextTrainingConfig(**document)


def prepare_records(config: TextTrainingConfig) -> tuple[list, numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """The English records of the configured datasets with their label matrix ``(N, C)``, split
    groups ``(N,)`` (same normalized text or same source group: one group) and sources ``(N,)``."""
    records = [record for record in read_all_text(names=config.datasets) if record.language == "en"]
    if config.max_records_per_dataset is not None:
        records = _sample_per_source(records, config.max_records_per_dataset, config.seed)
    texts = [record.text for record in records]
    groups = combine_groups(group_duplicates(texts, key=normalize), numpy.array([f"{r.source}:{r.group}" for r in records]))
    return records, label_matrix(records), groups, numpy.array([record.source for record in records])


def _sample_per_source(records: list, limit: int, seed: int) -> list:
    if limit < 1:
        raise ValueError(f"max_records_per_dataset must be positive, got {limit}")
    rng = numpy.random.default_rng(seed)
    by_source: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        by_source.setdefault(record.source, []).append(index)
    keep = sorted(i for rows in by_source.values() for i in (rows if len(rows) <= limit else rng.choice(rows, limit, replace=False).tolist()))
    return [records[i] for i in keep]


def split_records(labels: numpy.ndarray, groups: numpy.ndarray, sources: numpy.ndarray, config: TextTrainingConfig) -> dict[str, numpy.ndarray]:
    """Row indices of the train, validation and holdout sides."""
    held = config.validation_size + config.holdout_size
    train, rest = stratified_group_split(labels, groups, test_size=held, seed=config.seed, strata=sources)
    validation, holdout = stratified_group_split(labels[rest], groups[rest], test_size=config.holdout_size / held, seed=config.seed + 1, strata=sources[rest])
    return {"train": numpy.sort(train), "validation": numpy.sort(rest[validation]), "holdout": numpy.sort(rest[holdout])}


def _data_fingerprint(sources: list[str]) -> str:
    """SHA-256 over the shared data's checksum lines of the text datasets used."""
    sums = data_root() / "SHA256SUMS"
    if not sums.is_file():
        return "unknown (no SHA256SUMS beside the data)"
    stems = {source.split("-")[0] for source in sources}  # "hateval-en" → "/hateval2019/", "harmeme-c" → "/meme-texts/harmeme/"
    lines = sorted(line for line in sums.read_text().splitlines() if "text/" in line and any(f"/{stem}" in line for stem in stems))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def validation_reference(bundle: TextModelBundle) -> DriftReference:
    """The drift reference of a bundle ``train_text_model`` wrote, recomputed: its training config
    (from the card) rebuilds the validation rows from the shared data, which the bundle scores."""
    try:
        config = TextTrainingConfig(**bundle.card["training"]["config"])
        trained_on = bundle.card["data"]["sha256"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"the model card holds no training config and data hash ({error!r}); only a bundle written by "
                         "'smartmod train text' can have its validation rows rebuilt") from None
    records, labels, groups, sources = prepare_records(config)
    if _data_fingerprint(sorted(set(sources.tolist()))) != trained_on:
        warnings.warn("the shared data differs from the data the model was trained on (card data.sha256); "
                      "the validation rows rebuilt from it may not be the ones the model was validated on")
    texts = [records[i].text for i in split_records(labels, groups, sources, config)["validation"]]
    moderator = Moderator(bundle)
    return DriftReference.from_predictions(moderator.scores(texts), moderator.categories, texts, bundle.vectorizer)


@dataclass
class FittedTextModel:
    """What :func:`fit_text_model` returns."""

    bundle: TextModelBundle  # encoder (vectorizer), network, temperatures and thresholds (no card yet)
    history: dict[str, list[float]]  # per-epoch losses
    validation_scores: numpy.ndarray  # (V, C) calibrated probabilities of the validation rows
    identity_negatives_added: int
    seconds: dict[str, float]  # vectorize (or encode), train
    embedding_coverage: dict[str, Any] | None = None  # sequence models started from word2vec: its path and coverage of the vocabulary
    specialists: list[dict[str, Any]] = field(default_factory=list)  # each specialist's category, chosen C, validation log-losses and rows


def fit_text_model(config: TextTrainingConfig, texts: list[str], labels: numpy.ndarray, train: numpy.ndarray,
                   validation: numpy.ndarray, targets: numpy.ndarray | None = None) -> FittedTextModel:
    """Fit ``config.architecture`` on the ``train`` rows (plus the benign identity-mention
    sentences), early-stopped on the ``validation`` rows, whose scores then fit the temperatures
    and thresholds.

    Parameters
    ----------
    texts : list of N str
    labels : (N, C) array of 0, 1, NaN (not labeled)
    train, validation : arrays of row indices into ``texts``
    targets : (N, C) array in [0, 1] or NaN, optional
        What the network is trained towards, where it differs from ``labels`` (vote shares:
        :func:`training_targets`). Early stopping, calibration, thresholds and specialists use ``labels``.
    """
    from smartmod.eval import apply_temperature
    from smartmod.moderation.evaluation import calibrate_and_threshold

    backend.seed(config.seed)
    extra = identity_negatives() * config.identity_negatives
    train_texts = [texts[i] for i in train] + [record.text for record in extra]
    train_labels = numpy.vstack([labels[train], label_matrix(extra)]) if extra else labels[train]
    train_targets = train_labels
    if targets is not None:
        if targets.shape != labels.shape:
            raise ValueError(f"targets must have the labels' shape {labels.shape}, got {targets.shape}")
        train_targets = numpy.vstack([targets[train], label_matrix(extra)]) if extra else targets[train]
    validation_texts, validation_labels = [texts[i] for i in validation], labels[validation]
    coverage, specialists = None, []
    _check_specialists(config)
    _check_soft_labels(config)
    if config.architecture == "tfidf-mlp":
        encoder, network, history, validation_logits, seconds, specialists = _fit_tfidf_mlp(config, train_texts, train_labels, validation_texts, validation_labels,
                                                                                            train_targets)
        encoding = "tfidf"
    elif config.architecture in SEQUENCE_ARCHITECTURES:
        fitted = fit_sequence_model(config, train_texts, train_targets, validation_texts, validation_labels)
        encoder, network, history, validation_logits, seconds = fitted.encoder, fitted.network, fitted.history, fitted.validation_logits, fitted.seconds
        encoding, coverage = "token-ids", fitted.embedding_coverage
    else:
        raise ValueError(f"unknown architecture {config.architecture!r}; choose tfidf-mlp or one of {sorted(SEQUENCE_ARCHITECTURES)}")

    temperatures, thresholds = calibrate_and_threshold(validation_logits, validation_labels, CATEGORIES, config.threshold_target_precision, config.threshold_floor)
    windows = {} if encoding == "tfidf" else {"window_chars": SEQUENCE_WINDOW_CHARS_PER_TOKEN * config.max_length, "window_overlap": config.max_length}
    bundle_config = BundleConfig(categories=list(CATEGORIES), thresholds=thresholds, temperatures=temperatures, network=network.to_config(),
                                 name=config.name, version=config.version, weight_storage=config.weight_storage, input_encoding=encoding, **windows)
    validation_scores = apply_temperature(validation_logits, numpy.array([temperatures[c] for c in CATEGORIES]))  # (V, C)
    return FittedTextModel(TextModelBundle(bundle_config, encoder, network), history, validation_scores, len(extra), seconds, coverage,
                           specialists)


def training_targets(config: TextTrainingConfig, records: list) -> numpy.ndarray | None:
    """The targets the network trains towards: the vote shares with ``config.soft_labels``
    (:func:`~smartmod.data.categories.soft_label_matrix`), else None (the labels themselves)."""
    return soft_label_matrix(records) if config.soft_labels else None


def _check_soft_labels(config: TextTrainingConfig) -> None:
    """Vote shares go with a loss-side imbalance strategy: resampling picks rows by 0/1 labels."""
    if not isinstance(config.soft_labels, bool):
        raise ValueError(f"soft_labels must be true or false, got {config.soft_labels!r}")
    if config.soft_labels and config.imbalance in RESAMPLING:
        loss_side = ", ".join(repr(name) for name in STRATEGIES if name not in RESAMPLING)
        raise ValueError(f"soft_labels cannot be combined with imbalance {config.imbalance!r}, which picks rows by their 0/1 labels; "
                         f"use imbalance {loss_side}, or set soft_labels to false")


def _check_specialists(config: TextTrainingConfig) -> None:
    """A config's ``specialists`` are known categories, each once, on the plain TF-IDF MLP."""
    if not config.specialists:
        return
    unknown = sorted(set(config.specialists) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"specialists {unknown} are not categories; choose among {list(CATEGORIES)}")
    if len(set(config.specialists)) != len(config.specialists):
        raise ValueError(f"specialists lists a category twice: {config.specialists}")
    if config.architecture != "tfidf-mlp":
        raise ValueError(f"specialists read TF-IDF features: use them with architecture 'tfidf-mlp', not {config.architecture!r}")
    if config.wide:
        raise ValueError("specialists replace a category's head of the plain MLP; set 'wide' to false to use them")


def _fit_tfidf_mlp(config: TextTrainingConfig, train_texts: list[str], train_labels: numpy.ndarray, validation_texts: list[str],
                   validation_labels: numpy.ndarray, train_targets: numpy.ndarray) -> tuple[TfidfVectorizer, Module, dict[str, list[float]], numpy.ndarray, dict[str, float]]:
    """The vectorizer and the MLP fitted on the training texts: ``(vectorizer, network, history, validation logits (V, C), seconds)``.
    The MLP learns ``train_targets``; the specialists, logistic regressions on 0/1 labels, ``train_labels``."""
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(
        word_ngram_range=tuple(config.word_ngram_range), char_ngram_range=tuple(config.char_ngram_range),
        min_df=config.min_df, max_features=config.max_features,
    )
    train_features = vectorizer.fit(train_texts).transform(train_texts)
    validation_features = vectorizer.transform(validation_texts)
    vectorized = time.perf_counter()

    network = text_network(train_features.shape[1], len(CATEGORIES), config)
    original_features, original_labels = train_features, train_labels  # the specialists learn from the real rows, not resampled ones
    loss, train_features, train_labels = training_set(config.imbalance, train_features, train_targets, config.seed)
    loss = with_category_weights(loss, config.category_weights, train_labels)
    optimizer = Adam(network.parameters(), lr=config.lr)
    trainer = Trainer(network, loss, optimizer, batch_size=config.batch_size, clip_norm=config.clip_norm, seed=config.seed,
                      progress=config.progress, callbacks=[EarlyStopping("val_loss", patience=config.patience)])
    history = trainer.fit(train_features, train_labels, epochs=config.epochs, validation_data=(validation_features, validation_labels))
    trained = time.perf_counter()
    specialists = [fit_specialist(category, original_features, original_labels[:, CATEGORIES.index(category)], validation_features,
                                  validation_labels[:, CATEGORIES.index(category)]) for category in config.specialists]
    network = with_specialists(network, specialists, CATEGORIES)
    validation_logits = numpy.asarray(predict(network, validation_features))
    seconds = {"vectorize": round(vectorized - started, 1), "train": round(trained - vectorized, 1)}
    if specialists:
        seconds["specialists"] = round(time.perf_counter() - trained, 1)
    chosen = [{"category": s.category, "C": s.strength, "validation_log_loss": {str(c): round(loss, 5) for c, loss in s.validation_log_loss.items()},
               "rows": s.rows} for s in specialists]
    return vectorizer, network, history, validation_logits, seconds, chosen


def train_text_model(config: TextTrainingConfig, output: str | Path, report_dir: str | Path | None = None) -> dict[str, Any]:
    """Train, calibrate, evaluate on the holdout, save the bundle to ``output``; returns the summary."""
    from smartmod.moderation.evaluation import evaluate_bundle_scores, olid_threshold

    started = time.perf_counter()
    with_category_weights(BCEWithLogitsLoss(), config.category_weights, numpy.zeros((0, len(CATEGORIES))))  # a bad name fails before any work
    _check_specialists(config)
    _check_soft_labels(config)
    records, labels, groups, sources = prepare_records(config)
    texts = [record.text for record in records]
    sides = split_records(labels, groups, sources, config)
    fitted = fit_text_model(config, texts, labels, sides["train"], sides["validation"], training_targets(config, records))
    bundle, history, vectorizer = fitted.bundle, fitted.history, fitted.bundle.vectorizer
    # every figure below (drift reference, holdout) is of the model as saved, its weights rounded to their storage
    validation_texts = [texts[i] for i in sides["validation"]]
    validation_scores = bundle.probabilities(validation_texts) if bundle.use_stored_weights() else fitted.validation_scores
    bundle.reference = DriftReference.from_predictions(validation_scores, CATEGORIES, validation_texts, vectorizer).to_dict()
    holdout = sides["holdout"]
    evaluation = evaluate_bundle_scores(
        bundle, [texts[i] for i in holdout], labels[holdout], sources[holdout], [records[i].original for i in holdout],
        history=history, report_dir=report_dir,
        olid_tuned_threshold=olid_threshold(validation_scores, labels[sides["validation"]], sources[sides["validation"]], CATEGORIES),
    )
    bundle.card = {
        "model": {"name": config.name, "version": config.version, **_model_description(config, vectorizer),
                  "parameters": bundle.network.num_parameters(), "weight_storage": config.weight_storage},
        "data": {"datasets": sorted(set(sources.tolist())), "records": len(records), "sha256": _data_fingerprint(sorted(set(sources.tolist()))),
                 "split_sizes": {side: int(len(rows)) for side, rows in sides.items()}, "identity_negatives_added": fitted.identity_negatives_added},
        "training": {"config": asdict(config), "epochs_run": len(history["loss"]),
                     **({"pretrained_embeddings": fitted.embedding_coverage} if fitted.embedding_coverage else {}),
                     **({"specialists": fitted.specialists} if fitted.specialists else {}),
                     "seconds": {**fitted.seconds, "total": round(time.perf_counter() - started, 1)}},
        "calibration": {"temperatures": bundle.config.temperatures},
        "thresholds": bundle.config.thresholds,
        "holdout_figures": evaluation,
        "limits": [
            "English only: trained on English text (the Spanish HatEval split is excluded).",
            _reading_limit(config),
            "Identity terms co-occur with hate in the training data; the card's identity-template figure measures how often benign mentions are flagged.",
            "Labels come from different datasets with different definitions; a category's score is only as consistent as those definitions.",
            *_single_source_limits(labels, sources),
        ],
    }
    bundle.save(output)
    return bundle.card


def _model_description(config: TextTrainingConfig, encoder: Any) -> dict[str, Any]:
    """The model card's ``architecture`` line and input size (n-gram features or vocabulary words)."""
    if config.architecture == "tfidf-mlp":
        return {"architecture": "TF-IDF (words + character n-grams) → MLP, one sigmoid per category", "features": len(encoder.get_feature_names())}
    pooling = config.pooling or SEQUENCE_ARCHITECTURES[config.architecture][2]
    start = "word2vec" if config.embeddings else "random"
    return {"architecture": f"token ids (first {config.max_length} words) → embedding ({config.embedding_dim}, {start} start) → "
                            f"{config.architecture} → {pooling} pooling → one sigmoid per category", "vocabulary": len(encoder.vocabulary_)}


def _single_source_limits(labels: numpy.ndarray, sources: numpy.ndarray) -> list[str]:
    """A limit line for each category that one dataset alone labels (spam: the SMS set)."""
    lines = []
    for column, category in enumerate(CATEGORIES):
        labeling = sorted(set(sources[~numpy.isnan(labels[:, column])].tolist()))
        if len(labeling) == 1:
            lines.append(f"'{category}' is learned from one dataset alone ({labeling[0]}); how it carries to other kinds of text was not measured.")
    return lines


def _reading_limit(config: TextTrainingConfig) -> str:
    if config.architecture == "tfidf-mlp":
        return "Bag of words and character n-grams: no word order beyond bigrams, so negation, sarcasm and implicit hate are weak spots."
    return (f"Reads the first {config.max_length} words of each window of {SEQUENCE_WINDOW_CHARS_PER_TOKEN * config.max_length} characters; "
            "words outside its vocabulary (and misspellings it cannot restore) all read as one unknown word.")
