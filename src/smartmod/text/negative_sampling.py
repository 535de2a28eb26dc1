"""One SGD step of the negative-sampling objective, with hand-written gradients.

Mikolov et al. 2013 ("Distributed Representations of Words and Phrases and their
Compositionality", eq. 4) replace the softmax over the vocabulary by a logistic loss on one true
target and ``K`` noise words. For an example with hidden vector ``h`` (D,) and output vectors
``u_0`` (the true target) and ``u_1..u_K`` (the noise words), with scores ``s_k = u_k · h`` and
labels ``y_0 = 1``, ``y_k = 0``:

    L = -log σ(s_0) - Σ_k log σ(-s_k)            # forward
    ∂L/∂s_k = σ(s_k) - y_k                        # backward, per score
    ∂L/∂h   = Σ_k (σ(s_k) - y_k) u_k
    ∂L/∂u_k = (σ(s_k) - y_k) h

The hidden vector mixes rows of the input matrix: skip-gram's ``h`` is the centre word's row,
CBOW's the mean of the context words' rows. A batch holds B examples; their gradients are summed
per word before the update, through sparse (words × examples) matrices that add the rows of
repeated words (faster than ``numpy.add.at`` or sorting with ``numpy.add.reduceat``: see
docs/word2vec.md), and without materializing the (B, K+1, D) outer products ``(σ(s) - y) h``.
"""
from __future__ import annotations

import numpy
import scipy.sparse
from scipy.special import expit

__all__ = ["WordRows", "negative_sampling_step"]


class WordRows:
    """The distinct words of a batch, and a sparse (U, B) matrix from them to the B examples.

    Entry ``(word, example)`` of the matrix is the weight with which the word's vector enters the
    example (summed where a word repeats). ``matrix.T @ rows`` mixes the words' vectors (U, D)
    into per-example vectors (B, D); ``matrix @ per_example`` sums per-example rows back into
    per-word rows (U, D), the scatter-add of the gradient.

    Parameters
    ----------
    word_ids : int array (n,)
        The word of each entry.
    examples : int array (n,)
        The example (column) of each entry.
    size : int
        B, the number of examples.

    Attributes
    ----------
    words : int array (U,)
        The distinct words, ascending.
    inverse : int array (n,)
        Position in :attr:`words` of each entry's word: ``words[inverse] == word_ids``.
    """

    def __init__(self, word_ids: numpy.ndarray, examples: numpy.ndarray, size: int):
        keys = word_ids.astype(numpy.uint16) if len(word_ids) and 0 <= word_ids.min() and word_ids.max() < 1 << 16 else word_ids
        self._order = numpy.argsort(keys, kind="stable")  # (n,); numpy radix-sorts 16-bit keys, several times faster
        sorted_ids = word_ids[self._order]
        starts = numpy.ones(len(sorted_ids), dtype=bool)
        numpy.not_equal(sorted_ids[1:], sorted_ids[:-1], out=starts[1:])  # (n,) True where a new word begins
        self.words = sorted_ids[starts]  # (U,)
        self.inverse = numpy.empty(len(sorted_ids), dtype=numpy.int64)
        self.inverse[self._order] = numpy.cumsum(starts) - 1
        self._indptr = numpy.append(numpy.flatnonzero(starts), len(sorted_ids))
        self._columns = examples[self._order]
        self._size = size

    def matrix(self, weights: numpy.ndarray) -> scipy.sparse.csr_matrix:
        """The (U, B) matrix holding ``weights`` (n,), given in the order of ``word_ids``."""
        return scipy.sparse.csr_matrix((weights[self._order], self._columns, self._indptr), shape=(len(self.words), self._size))


def negative_sampling_step(
    input_vectors: numpy.ndarray,
    output_vectors: numpy.ndarray,
    inputs: WordRows,
    input_weights: numpy.ndarray | None,
    targets: numpy.ndarray,
    target_weights: numpy.ndarray,
    learning_rate: float,
    input_update_weights: numpy.ndarray | None = None,
) -> float:
    """Update the vectors in place by one SGD step on a batch; returns the batch's summed loss.

    Each matrix is read once at the batch's distinct words and written back once, so a word
    repeated in the batch gets the sum of its gradients.

    Parameters
    ----------
    input_vectors : float array (V, D)
        Word vectors of the input side (the embeddings), updated in place.
    output_vectors : float array (V, D)
        Word vectors of the output side (word2vec.c's ``syn1neg``), updated in place.
    inputs : WordRows
        Which input words make each example's hidden vector.
    input_weights : float array (n,) or None
        Their weights, in the order ``inputs`` was built from (CBOW: 1/count); None when each
        example has exactly one input word, entry ``b`` for example ``b``, of weight 1 (skip-gram).
    targets : int array (B, K+1)
        Column 0 the true target word, columns 1..K the noise words.
    target_weights : float array (B, K+1)
        1, or 0 for a noise word equal to the true target (word2vec.c skips those).
    learning_rate : float
    input_update_weights : float array (n,) or None
        The share of ``∂L/∂h`` each input entry receives; None: ``input_weights``, the exact
        gradient. word2vec.c's CBOW passes ones: every context word gets the whole ``∂L/∂h``,
        ``count`` times the gradient of the mean.

    Returns
    -------
    float
        ``Σ_b Σ_k weight · L`` of the batch before the update.
    """
    batch, dtype = targets.shape[0], input_vectors.dtype
    input_rows = input_vectors.take(inputs.words, axis=0)  # (U_in, D)
    if input_weights is None:
        hidden = input_rows.take(inputs.inverse, axis=0)  # (B, D), one input word per example
        input_weights = numpy.ones(batch, dtype=dtype)
    else:
        hidden = numpy.asarray(inputs.matrix(input_weights.astype(dtype, copy=False)).T @ input_rows)  # (B, D)
    update_weights = input_weights if input_update_weights is None else input_update_weights
    spreading = inputs.matrix(update_weights.astype(dtype, copy=False))  # (U_in, B)
    target_words = WordRows(targets.ravel(), numpy.repeat(numpy.arange(batch), targets.shape[1]), batch)
    output_rows = output_vectors.take(target_words.words, axis=0)  # (U_out, D)
    outputs = output_rows.take(target_words.inverse, axis=0).reshape(*targets.shape, -1)  # (B, K+1, D)

    scores = numpy.einsum("bd,bkd->bk", hidden, outputs)  # (B, K+1) s_k = u_k · h
    probabilities = expit(scores)  # (B, K+1) σ(s)
    correct = 1 - probabilities  # σ(-s_k) for the noise words
    correct[:, 0] = probabilities[:, 0]  # σ(s_0) for the true target
    loss = -float(numpy.sum(target_weights * numpy.log(numpy.maximum(correct, numpy.finfo(correct.dtype).tiny))))

    grad_scores = target_weights * probabilities  # (B, K+1) ∂L/∂s_k = σ(s_k) - y_k, the label y_0 = 1 subtracted next
    grad_scores[:, 0] -= target_weights[:, 0]
    grad_hidden = numpy.einsum("bk,bkd->bd", grad_scores, outputs)  # (B, D) Σ_k ∂L/∂s_k u_k
    output_vectors[target_words.words] = output_rows - learning_rate * (target_words.matrix(grad_scores.ravel()) @ hidden)  # ∂L/∂u = Σ ∂L/∂s h
    input_vectors[inputs.words] = input_rows - learning_rate * (spreading @ grad_hidden)  # (U_in, D) ∂L/∂h into each input word
    return loss
