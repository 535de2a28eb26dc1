"""Exact t-SNE in NumPy, for maps of a few hundred word vectors.

van der Maaten and Hinton 2008, "Visualizing Data using t-SNE" (JMLR 9):

1. the conditional affinities ``p_{j|i} ∝ exp(-β_i |x_i - x_j|²)``, each row's precision ``β_i``
   found by binary search so that its perplexity ``exp(H(P_i))`` equals the one asked for;
2. the joint affinities ``p_ij = (p_{j|i} + p_{i|j}) / 2N``;
3. the map's affinities under a Student-t kernel, ``q_ij ∝ (1 + |y_i - y_j|²)^-1``;
4. gradient descent on ``KL(P || Q)``, whose gradient is
   ``∂C/∂y_i = 4 Σ_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|²)^-1``,
   with momentum (0.5, then 0.8), early exaggeration (P times 12 for the first 250 iterations,
   which lets clusters form first; scikit-learn's values, the paper's were 4 and 50) and the
   per-coordinate gains of the authors' implementation (Jacobs 1988, "Increased rates of
   convergence through learning rate adaptation").

Memory and time grow as N²: fine for hundreds of points, not for the whole vocabulary.
"""
from __future__ import annotations

import numpy

__all__ = ["tsne", "conditional_affinities"]


def _squared_distances(points: numpy.ndarray) -> numpy.ndarray:
    """|x_i - x_j|² for every pair of rows of ``points`` (N, F); (N, N), zero diagonal."""
    squared = numpy.sum(points ** 2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * points @ points.T
    numpy.fill_diagonal(distances, 0)
    return numpy.maximum(distances, 0)


def conditional_affinities(points: numpy.ndarray, perplexity: float, tolerance: float = 1e-5, steps: int = 100) -> numpy.ndarray:
    """Rows ``p_{j|i}`` (N, N), each of perplexity ``perplexity``, by binary search on all precisions at once.

    Parameters
    ----------
    points : float array (N, F)
    perplexity : float
        The effective number of neighbours, below N.
    """
    distances = _squared_distances(numpy.asarray(points, dtype=numpy.float64))
    count = len(distances)
    target = numpy.log(perplexity)  # the wanted entropy, in nats
    nearest = numpy.where(numpy.eye(count, dtype=bool), numpy.inf, distances).min(axis=1, keepdims=True)
    shifted = distances - nearest  # the same rows after normalization; keeps exp from underflowing to zero
    beta, low, high = numpy.ones(count), numpy.zeros(count), numpy.full(count, numpy.inf)
    for _ in range(steps):
        affinities = numpy.exp(-shifted * beta[:, None])
        numpy.fill_diagonal(affinities, 0)
        rows = affinities / affinities.sum(axis=1, keepdims=True)
        entropy = -numpy.sum(rows * numpy.log(numpy.maximum(rows, 1e-300)), axis=1)  # (N,) H(P_i) in nats
        too_flat = entropy > target  # too many neighbours: raise the precision
        low = numpy.where(too_flat, beta, low)
        high = numpy.where(too_flat, high, beta)
        beta = numpy.where(numpy.isinf(high), beta * 2, (low + high) / 2)
        if numpy.all(numpy.abs(entropy - target) < tolerance):
            break
    return rows


def tsne(
    points: numpy.ndarray,
    perplexity: float = 30.0,
    iterations: int = 1000,
    learning_rate: float | None = None,
    exaggeration: float = 12.0,
    exaggeration_iterations: int = 250,
    seed: int = 0,
) -> numpy.ndarray:
    """A 2-D map of ``points`` (N, F) that keeps neighbours together; returns float64 (N, 2).

    ``perplexity`` must be below N (5 to 50 is usual); the map starts from a seeded Gaussian of
    standard deviation 1e-4 and is centred at the origin. ``learning_rate`` None is
    ``max(N / exaggeration / 4, 50)`` (Belkina et al. 2019, scikit-learn's "auto"): the 200 of
    the paper overshoots on a few hundred points.
    """
    points = numpy.asarray(points, dtype=numpy.float64)
    if points.ndim != 2 or len(points) < 3:
        raise ValueError(f"t-SNE needs an (N, F) array of at least 3 points, got shape {points.shape}")
    if not 1 <= perplexity < len(points):
        raise ValueError(f"perplexity must be at least 1 and below the number of points ({len(points)}), got {perplexity}")
    if learning_rate is None:
        learning_rate = max(len(points) / exaggeration / 4, 50.0)
    conditional = conditional_affinities(points, perplexity)
    joint = numpy.maximum((conditional + conditional.T) / (2 * len(points)), 1e-12)  # (N, N) p_ij
    rng = numpy.random.default_rng(seed)
    embedding = rng.normal(0.0, 1e-4, size=(len(points), 2))  # (N, 2)
    update, gains = numpy.zeros_like(embedding), numpy.ones_like(embedding)
    for iteration in range(iterations):
        early = iteration < exaggeration_iterations
        kernel = 1 / (1 + _squared_distances(embedding))  # (N, N) (1 + |y_i - y_j|²)^-1
        numpy.fill_diagonal(kernel, 0)
        similarities = numpy.maximum(kernel / kernel.sum(), 1e-12)  # q_ij
        forces = ((exaggeration if early else 1.0) * joint - similarities) * kernel  # (N, N)
        gradient = 4 * (forces.sum(axis=1, keepdims=True) * embedding - forces @ embedding)  # (N, 2) Σ_j f_ij (y_i - y_j)
        same_direction = numpy.sign(gradient) == numpy.sign(update)
        gains = numpy.maximum(numpy.where(same_direction, gains * 0.8, gains + 0.2), 0.01)
        update = (0.5 if early else 0.8) * update - learning_rate * gains * gradient
        embedding = embedding + update
        embedding -= embedding.mean(axis=0)
    return embedding
