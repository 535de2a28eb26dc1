"""Which words of the original text produce each feature of the vectorizer, and in what share.

A bag-of-n-grams feature is a word n-gram (``word:you idiot``) or a character n-gram inside a
word (``char: idi``) of the *normalized* text, which no longer has the user's offsets. Rather
than align the two texts, the vectorizer itself is asked: each word of the original text
(:func:`~smartmod.explain.words.split_words`) and each run of up to ``n`` consecutive words
(``n`` the longest word n-gram) is vectorized on its own, in one batch, and

* a feature of a single word belongs to that word (its unigrams and character n-grams, and
  any n-gram inside it, ``hello@you`` → ``hello xxuser``);
* a feature of a run of ``k`` words that neither run of its first nor of its last ``k - 1``
  words has crosses all ``k`` (``you idiot`` for the run ``you``, ``idiot``), and belongs to
  each of them equally.

Each occurrence of a feature counts once, so a feature found in three places gives each a
third; the shares of a feature sum to 1 over the words. A feature the whole text has but no
run of words produces (normalization that looks across more words, which is rare) belongs to
no word.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy
import scipy.sparse

from smartmod.explain.words import Word

__all__ = ["feature_shares"]


def feature_shares(vectorizer: Any, text: str, words: Sequence[Word]) -> scipy.sparse.csr_matrix:
    """The share of each feature each word produces.

    Parameters
    ----------
    vectorizer : CountVectorizer or TfidfVectorizer
        Fitted; its ``word_ngram_range`` bounds how many words an n-gram can cross.
    text : str
    words : sequence of W :class:`~smartmod.explain.words.Word`
        The words of ``text``, in order.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (W, V)
        ``shares[w, j]``: the part of feature ``j`` that word ``w`` produces; each column sums
        to 1 or (a feature no word produces) to 0.
    """
    n_features = sum(map(len, vectorizer.vocabularies_.values()))
    if not words:
        return scipy.sparse.csr_matrix((0, n_features))
    longest = vectorizer.word_ngram_range[1] if "word" in vectorizer.vocabularies_ else 1
    runs = [(first, length) for length in range(1, min(longest, len(words)) + 1) for first in range(len(words) - length + 1)]
    features = vectorizer.transform([text[words[first].start:words[first + length - 1].end] for first, length in runs])  # (R, V)
    columns = {run: features.indices[features.indptr[row]:features.indptr[row + 1]] for row, run in enumerate(runs)}
    owners, owned, weights = [], [], []
    for (first, length), found in columns.items():
        if length > 1:  # only what the run has and its two shorter runs lack crosses all its words
            found = numpy.setdiff1d(found, numpy.union1d(columns[first, length - 1], columns[first + 1, length - 1]), assume_unique=True)
        for word in range(first, first + length):
            owners.append(numpy.full(found.size, word))
            owned.append(found)
            weights.append(numpy.full(found.size, 1.0 / length))
    shares = scipy.sparse.csr_matrix(
        (numpy.concatenate(weights), (numpy.concatenate(owners), numpy.concatenate(owned))), shape=(len(words), n_features)
    )  # duplicates summed: a word in two occurrences of a feature holds both parts
    totals = numpy.asarray(shares.sum(axis=0)).ravel()  # (V,) occurrences of each feature
    shares.data /= totals[shares.indices]
    return shares
