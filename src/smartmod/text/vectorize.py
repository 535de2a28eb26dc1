"""Bag-of-n-grams features: counts (:class:`CountVectorizer`) and TF-IDF (:class:`TfidfVectorizer`).

Each analyzer fills its own block of columns: ``"word"`` n-grams (:func:`word_ngrams` of
:func:`word_tokens`) then ``"char"`` n-grams within word boundaries (:func:`char_wb_ngrams`).
A feature is named ``"word:you suck"`` or ``"char: fu"``; columns within a block are in the
order of their names, and each block's vocabulary is fitted on its own (``min_df``,
``max_features``).

TF-IDF is counts, then weighting, as in scikit-learn's ``TfidfVectorizer``::

    tf  = 1 if binary else (1 + ln count if sublinear_tf else count)
    idf = ln((1 + N) / (1 + df)) + 1 if smooth_idf else ln(N / df) + 1      (N documents)
    x   = tf * idf, then each row of each block divided by its l2 (or l1) norm

so with ``analyzer="word+char"`` a row holds two unit vectors side by side, as a
scikit-learn ``FeatureUnion`` of a word and a character vectorizer gives (norm sqrt(2)).

Counting is :func:`~smartmod.text.ngram_counts.count_ngrams`; weighting runs in NumPy over
the whole batch.
"""
from __future__ import annotations

import inspect
import functools
import itertools
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy
import scipy.sparse

from smartmod.nn.serialize import SerializationError, atomic_write_bytes, load_arrays, read_json, save_arrays
from smartmod.text.ngram_counts import CharNgramColumns, count_ngrams, transform_cache
from smartmod.text.normalize import normalize
from smartmod.text.restore import ObfuscationRestorer
from smartmod.text.tokenize import check_ngram_range

__all__ = ["CountVectorizer", "TfidfVectorizer"]

VECTORIZER_FORMAT = "smartmod.text.vectorizer"
FORMAT_VERSION = 1
CONFIG_FILE, ARRAYS_FILE = "vectorizer.json", "arrays.npz"
ANALYZERS = {"word": ("word",), "char": ("char",), "word+char": ("word", "char")}


class CountVectorizer:
    """Texts to a sparse matrix of n-gram counts (or presence, with ``binary``).

    Parameters
    ----------
    analyzer : {"word+char", "word", "char"}
        Which n-grams to count; ``"word+char"`` puts both blocks side by side.
    word_ngram_range, char_ngram_range : (int, int)
        Inclusive n-gram lengths ``(min_n, max_n)``, in words and in characters.
    min_df : int or float
        Keep n-grams found in at least this many documents (int) or this fraction of them (float).
    max_features : int or None
        Keep at most this many n-grams per analyzer, the most frequent in the whole corpus
        (ties by name); None keeps all.
    binary : bool
        Count each n-gram at most once per text.
    keep_emoji : bool
        Emoji are word tokens (:func:`word_tokens`).
    preprocess : callable or None
        Applied to each text before tokenization; :func:`normalize` by default, None for
        text that is already normalized.
    dtype : numpy dtype
        Of the returned matrix (weights are computed in float64).
    restore_obfuscated : bool
        In :meth:`transform`, read a word token missing from the fitted word vocabulary that
        looks obfuscated (``1d107``, ``id*ot``, ``idiooot``) as the vocabulary word it spells
        (:mod:`smartmod.text.restore`), for both analyzers. Needs word unigrams; with several
        candidates the one in most training documents wins (by idf; a vectorizer without idf
        keeps such a token). With :func:`normalize` as ``preprocess``, runs of spaced letters
        are also split into vocabulary words (``y o u i d i o t`` → ``you idiot``, not
        ``youidiot``). :meth:`load` turns it off for vectorizers saved without it.

    Attributes
    ----------
    vocabularies_ : dict of str to dict of str to int
        For each analyzer, its n-grams and their column within the analyzer's block.
    """

    def __init__(
        self,
        analyzer: str = "word+char",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int | float = 2,
        max_features: int | None = None,
        binary: bool = False,
        keep_emoji: bool = True,
        preprocess: Callable[[str], str] | None = normalize,
        dtype: Any = numpy.float32,
        restore_obfuscated: bool = True,
    ):
        self.analyzer = analyzer
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.binary = binary
        self.keep_emoji = keep_emoji
        self.preprocess = preprocess
        self.dtype = dtype
        self.restore_obfuscated = restore_obfuscated

    # ------------------------------------------------------------------ public API

    def fit(self, texts: Iterable[str]) -> CountVectorizer:
        """Learn the vocabularies (and weights) from ``texts``; returns ``self``."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str]) -> scipy.sparse.csr_matrix:
        """:meth:`fit`, then the features of the same texts, shape (N, V), in one pass over them."""
        self._check_parameters()
        growing = {name: defaultdict(itertools.count().__next__) for name in self._analyzers()}
        counts = self._count(texts, growing)
        if counts[0].shape[0] == 0:
            raise ValueError("fit needs at least one text, got none")
        vocabularies = {}
        for position, (name, matrix) in enumerate(zip(self._analyzers(), counts)):
            columns, features = self._select_features(name, matrix, list(growing[name]))
            vocabularies[name] = {feature: column for column, feature in enumerate(features)}
            counts[position] = matrix.tocsc()[:, columns].tocsr()  # CSR back from CSC has sorted columns
            if name == "char":  # the cache holds the growing vocabulary's columns
                new_columns = numpy.full(matrix.shape[1], -1, dtype=numpy.int64)
                new_columns[columns] = numpy.arange(len(columns))
                self._char_columns = self._char_columns.renumbered(new_columns, vocabularies["char"])
        self.vocabularies_ = vocabularies
        self._fit_weights(counts)
        return self._weight(counts)

    def transform(self, texts: Iterable[str], layout: str = "csr") -> scipy.sparse.csr_matrix:
        """The features of ``texts``: a (N, V) ``scipy.sparse.csr_matrix`` of ``dtype``.

        ``layout="csc"`` gives the same matrix as a ``csc_matrix``, the layout a wide first
        layer multiplies fastest (:func:`~smartmod.nn.layers.dense.sparse_times_dense`),
        without converting it to rows and back. An empty or whitespace-only text gives a row
        of zeros. Raises TypeError naming the index of a text that is not a str.
        """
        self._check_fitted()
        restorer = self._obfuscation_restorer()
        return self._weight(self._count(texts, self.vocabularies_, restorer, self._transform_preprocess(restorer), layout))

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Each feature name (``"word:..."``, ``"char:..."``) and its column in the output."""
        return {feature: column for column, feature in enumerate(self.get_feature_names())}

    def get_feature_names(self) -> list[str]:
        """The name of each output column, shape (V,)."""
        self._check_fitted()
        return [f"{name}:{feature}" for name, vocabulary in self.vocabularies_.items() for feature in vocabulary]

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-ready data (``preprocess`` as its name)."""
        config = {name: getattr(self, name) for name in list(inspect.signature(type(self)).parameters)}
        config["word_ngram_range"] = list(self.word_ngram_range)
        config["char_ngram_range"] = list(self.char_ngram_range)
        config["preprocess"] = None if self.preprocess is None else "normalize" if self.preprocess is normalize else "custom"
        config["dtype"] = numpy.dtype(self.dtype).name
        return config

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the fitted vectorizer to ``directory``: vectorizer.json and arrays.npz, no pickle.

        A custom ``preprocess`` function is code, so it is not saved: :meth:`load` asks for it.
        """
        self._check_fitted()
        directory = Path(directory)
        document = {
            "format": VECTORIZER_FORMAT,
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "config": self.get_config(),
            "features": {name: list(vocabulary) for name, vocabulary in self.vocabularies_.items()},
        }
        save_arrays(directory / ARRAYS_FILE, self._state_arrays())
        atomic_write_bytes(directory / CONFIG_FILE, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, preprocess: Callable[[str], str] | None = None) -> CountVectorizer:
        """Rebuild a vectorizer written by :meth:`save`.

        ``preprocess`` is required, and only allowed, when the saved one was a custom function.
        """
        directory = Path(directory)
        document = read_json(directory / CONFIG_FILE, f"a saved vectorizer directory ({CONFIG_FILE} + {ARRAYS_FILE})")
        if not isinstance(document, dict) or document.get("format") != VECTORIZER_FORMAT:
            raise SerializationError(f"{directory / CONFIG_FILE} is not a smartmod vectorizer (expected format {VECTORIZER_FORMAT!r})")
        if document.get("format_version", 0) > FORMAT_VERSION:
            raise SerializationError(f"{directory} was written by a newer smartmod (vectorizer format {document['format_version']}); upgrade smartmod")
        if document.get("class") != cls.__name__:
            raise SerializationError(f"{directory} holds a {document.get('class')}, not a {cls.__name__}; load it with {document.get('class')}.load")
        config = dict(document.get("config") or {})
        config.setdefault("restore_obfuscated", False)  # saved before it existed: count tokens as written, as then
        config["preprocess"] = _resolve_preprocess(config.get("preprocess"), preprocess, directory)
        try:
            vectorizer = cls(**config)
            vectorizer._check_parameters()
            vectorizer.vocabularies_ = {name: {feature: column for column, feature in enumerate(features)} for name, features in document["features"].items()}
            if tuple(vectorizer.vocabularies_) != vectorizer._analyzers():
                raise ValueError(f"features for {list(vectorizer.vocabularies_)}, but analyzer {vectorizer.analyzer!r} needs {list(vectorizer._analyzers())}")
            vectorizer._set_state_arrays(load_arrays(directory / ARRAYS_FILE))
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, SerializationError):
                raise
            raise SerializationError(f"{directory} holds a vectorizer smartmod cannot rebuild: {error}") from error
        return vectorizer

    # ------------------------------------------------------------------ hooks for subclasses

    def _fit_weights(self, counts: list[scipy.sparse.csr_matrix]) -> None:
        """Learn weights from the training counts, one (N, V_block) matrix per analyzer."""

    def _weight_block(self, counts: scipy.sparse.csr_matrix, name: str) -> scipy.sparse.csr_matrix:
        """The features of one analyzer's block from its float64 counts, shape (N, V_block)."""
        if self.binary:
            counts.data[:] = 1.0
        return counts

    def _state_arrays(self) -> dict[str, numpy.ndarray]:
        return {}

    def _set_state_arrays(self, arrays: dict[str, numpy.ndarray]) -> None:
        """Restore what :meth:`_state_arrays` saved."""

    def _word_document_frequency(self) -> Callable[[str], float] | None:
        """A function ordering word-vocabulary entries as their training document frequency, if known."""
        return None

    # ------------------------------------------------------------------ counting

    def _analyzers(self) -> tuple[str, ...]:
        return ANALYZERS[self.analyzer]

    def _count(
        self, texts: Iterable[str], vocabularies: dict[str, dict[str, int]], restore: ObfuscationRestorer | None = None,
        preprocess: Callable[[str], str] | None = None, layout: str = "csr",
    ) -> list[scipy.sparse.csr_matrix]:
        """One (N, V_block) float64 count matrix per analyzer, in ``layout``; see :func:`count_ngrams`."""
        char_columns = None
        if "char" in self._analyzers():
            char_columns = getattr(self, "_char_columns", None)
            if char_columns is None or char_columns.vocabulary is not vocabularies["char"]:
                char_columns = self._char_columns = CharNgramColumns(vocabularies["char"], tuple(self.char_ngram_range))
        preprocess = preprocess or self.preprocess
        self._transform_cache = transform_cache(getattr(self, "_transform_cache", None), vocabularies, self.word_ngram_range,
                                                char_columns, self.keep_emoji, restore, preprocess)
        return count_ngrams(
            texts,
            vocabularies,
            word_ngram_range=tuple(self.word_ngram_range),
            char_columns=char_columns,
            keep_emoji=self.keep_emoji,
            preprocess=preprocess,
            restore=restore,
            piece_features=self._transform_cache,
            layout=layout,
        )

    def _transform_preprocess(self, restorer: ObfuscationRestorer | None) -> Callable[[str], str] | None:
        """``preprocess``; :func:`normalize` splitting spaced-letter runs into words of the vocabulary when restoring."""
        if restorer is not None and self.preprocess is normalize:
            return functools.partial(normalize, segment=restorer.segment)
        return self.preprocess

    def _obfuscation_restorer(self) -> ObfuscationRestorer | None:
        """The per-token restoration cache over the fitted word vocabulary, when ``restore_obfuscated``."""
        if not self.restore_obfuscated or "word" not in self.vocabularies_:
            return None
        restorer = getattr(self, "_restorer", None)
        if restorer is None or restorer.vocabulary is not self.vocabularies_["word"]:
            restorer = self._restorer = ObfuscationRestorer(self.vocabularies_["word"], self._word_document_frequency())
        return restorer

    # ------------------------------------------------------------------ fitting and weighting

    def _select_features(self, name: str, counts: scipy.sparse.csr_matrix, features: list[str]) -> tuple[numpy.ndarray, list[str]]:
        """The columns of ``counts`` to keep (``min_df``, ``max_features``) in name order, and their names."""
        n_documents = counts.shape[0]
        document_frequency = numpy.bincount(counts.indices, minlength=counts.shape[1])
        min_documents = self.min_df if isinstance(self.min_df, int) else self.min_df * n_documents
        kept = numpy.flatnonzero(document_frequency >= min_documents).tolist()
        if not kept:
            raise ValueError(
                f"no {name} n-gram occurs in at least min_df={self.min_df} of the {n_documents} texts; lower min_df or fit on more texts"
            )
        if self.max_features is not None and len(kept) > self.max_features:
            totals = numpy.bincount(counts.indices, weights=counts.data, minlength=counts.shape[1])
            kept = sorted(kept, key=lambda column: (-totals[column], features[column]))[: self.max_features]
        kept.sort(key=features.__getitem__)
        return numpy.array(kept, dtype=numpy.int64), [features[column] for column in kept]

    def _weight(self, counts: list[scipy.sparse.csr_matrix]) -> scipy.sparse.csr_matrix:
        """Weight each analyzer's block and put the blocks side by side, shape (N, V)."""
        blocks = [self._weight_block(matrix.astype(self.dtype), name) for name, matrix in zip(self._analyzers(), counts)]
        features = blocks[0] if len(blocks) == 1 else scipy.sparse.hstack(blocks, format=blocks[0].format)
        features.sort_indices()
        return features

    def _check_parameters(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise ValueError(f"analyzer must be one of {sorted(ANALYZERS)}, got {self.analyzer!r}")
        check_ngram_range(self.word_ngram_range, "word_ngram_range")
        check_ngram_range(self.char_ngram_range, "char_ngram_range")
        if isinstance(self.min_df, bool) or not (
            (isinstance(self.min_df, int) and self.min_df >= 1) or (isinstance(self.min_df, float) and 0.0 < self.min_df <= 1.0)
        ):
            raise ValueError(f"min_df must be an int >= 1 (documents) or a float in (0, 1] (fraction), got {self.min_df!r}")
        if self.max_features is not None and (isinstance(self.max_features, bool) or not isinstance(self.max_features, int) or self.max_features < 1):
            raise ValueError(f"max_features must be None or an int >= 1, got {self.max_features!r}")
        if not isinstance(self.restore_obfuscated, bool):
            raise TypeError(f"restore_obfuscated must be True or False, got {self.restore_obfuscated!r}")
        if self.preprocess is not None and not callable(self.preprocess):
            raise TypeError(f"preprocess must be a callable str -> str or None, got {type(self.preprocess).__name__}")
        numpy.dtype(self.dtype)

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabularies_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit(texts) or {type(self).__name__}.load(directory) first")


class TfidfVectorizer(CountVectorizer):
    """Texts to TF-IDF features: n-gram counts weighted by inverse document frequency.

    Parameters are those of :class:`CountVectorizer` and:

    sublinear_tf : bool
        Use ``1 + ln(count)`` instead of the count.
    norm : {"l2", "l1", None}
        Scale each row of each analyzer's block to unit norm.
    use_idf : bool
        Multiply by the inverse document frequency.
    smooth_idf : bool
        Count every n-gram once more, in one extra document that holds them all, so no
        document frequency is zero.

    Attributes
    ----------
    idf_ : numpy.ndarray, shape (V,), float64
        The inverse document frequency of each output column (set when ``use_idf``).
    """

    def __init__(
        self,
        analyzer: str = "word+char",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int | float = 2,
        max_features: int | None = None,
        binary: bool = False,
        keep_emoji: bool = True,
        preprocess: Callable[[str], str] | None = normalize,
        dtype: Any = numpy.float32,
        sublinear_tf: bool = True,
        norm: str | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        restore_obfuscated: bool = True,
    ):
        super().__init__(analyzer, word_ngram_range, char_ngram_range, min_df, max_features, binary, keep_emoji, preprocess, dtype, restore_obfuscated)
        self.sublinear_tf = sublinear_tf
        self.norm = norm
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf

    def _check_parameters(self) -> None:
        super()._check_parameters()
        if self.norm not in ("l2", "l1", None):
            raise ValueError(f"norm must be 'l2', 'l1' or None, got {self.norm!r}")

    def _fit_weights(self, counts: list[scipy.sparse.csr_matrix]) -> None:
        if not self.use_idf:
            return
        n_documents = counts[0].shape[0] + int(self.smooth_idf)
        document_frequency = numpy.concatenate([numpy.bincount(matrix.indices, minlength=matrix.shape[1]) for matrix in counts])
        self.idf_ = numpy.log(n_documents / (document_frequency + int(self.smooth_idf))) + 1.0  # (V,)

    def _weight_block(self, counts: scipy.sparse.csr_matrix, name: str) -> scipy.sparse.csr_matrix:
        features = super()._weight_block(counts, name)
        data = features.data  # weighted in place, in the output dtype: each step is one pass over the nonzeros
        by_rows = features.format == "csr"  # else csc
        lengths = numpy.diff(features.indptr)  # nonzeros per row (csr) or per column (csc)
        if self.sublinear_tf:
            numpy.log(data, out=data)
            data += 1.0
        if self.use_idf:
            offset = sum(len(self.vocabularies_[other]) for other in self._analyzers()[: self._analyzers().index(name)])
            idf = self.idf_[offset:offset + features.shape[1]].astype(data.dtype)
            data *= idf[features.indices] if by_rows else numpy.repeat(idf, lengths)
        if self.norm is not None and data.size:
            magnitudes = data * data if self.norm == "l2" else numpy.abs(data)
            if by_rows:
                # (N,) row sums; the appended 0 lets a trailing empty row start past the data, and
                # an empty row, which reduceat gives its next element, is reset after
                norms = numpy.add.reduceat(numpy.append(magnitudes, magnitudes.dtype.type(0)), features.indptr[:-1])
                norms[lengths == 0] = 1.0
            else:
                norms = numpy.bincount(features.indices, weights=magnitudes, minlength=features.shape[0]).astype(data.dtype)  # (N,)
            norms = numpy.sqrt(norms) if self.norm == "l2" else norms
            norms[norms == 0.0] = 1.0
            data /= numpy.repeat(norms, lengths) if by_rows else norms[features.indices]
        return features

    def _word_document_frequency(self) -> Callable[[str], float] | None:
        if not self.use_idf or "word" not in self.vocabularies_:
            return None
        word_columns, idf = self.vocabularies_["word"], self.idf_  # the word block comes first
        # idf = log(n / df) + 1, or log((1 + n) / (1 + df)) + 1 smoothed: exp(-idf) ∝ df (or 1 + df)
        return lambda word: math.exp(-idf[word_columns[word]])

    def _state_arrays(self) -> dict[str, numpy.ndarray]:
        return {"idf": self.idf_} if self.use_idf else {}

    def _set_state_arrays(self, arrays: dict[str, numpy.ndarray]) -> None:
        if not self.use_idf:
            return
        n_features = sum(len(vocabulary) for vocabulary in self.vocabularies_.values())
        idf = arrays.get("idf")
        if idf is None or idf.shape != (n_features,):
            raise ValueError(f"expected an idf array of shape ({n_features},) in {ARRAYS_FILE}, got {None if idf is None else idf.shape}")
        self.idf_ = idf.astype(numpy.float64)


def _resolve_preprocess(saved: str | None, given: Callable[[str], str] | None, directory: Path) -> Callable[[str], str] | None:
    """The preprocess function of a saved vectorizer: its record, or ``given`` for a custom one."""
    if saved == "custom":
        if given is None:
            raise SerializationError(
                f"{directory} was fitted with a custom preprocess function, which is code and is not saved; "
                "pass the same function: load(directory, preprocess=my_function)"
            )
        return given
    if given is not None:
        raise ValueError(f"{directory} was saved with preprocess={saved!r}; preprocess= is only for vectorizers saved with a custom function")
    if saved not in ("normalize", None):
        raise SerializationError(f"{directory / CONFIG_FILE} names an unknown preprocess {saved!r}")
    return normalize if saved == "normalize" else None
