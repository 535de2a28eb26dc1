"""Maps of word vectors in two dimensions: PCA and t-SNE coordinates, drawn as labelled PNGs.

PCA keeps the two directions of largest variance (a linear view: analogies show as parallel
offsets); t-SNE (:mod:`smartmod.text.tsne`) keeps neighbourhoods (clusters show, distances
between them mean little). Figures are drawn like :mod:`smartmod.eval.plots`: a
``matplotlib.figure.Figure`` on an Agg canvas, no pyplot, returned as PNG bytes.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["pca_coordinates", "word_map_png"]


def pca_coordinates(points: numpy.ndarray, components: int = 2) -> numpy.ndarray:
    """The projection of the centred ``points`` (N, F) on their ``components`` principal axes, (N, components).

    The axes are the leading right singular vectors of the centred matrix (Pearson 1901), each
    signed so that its largest coordinate is positive, which makes the result deterministic.
    """
    centred = numpy.asarray(points, dtype=numpy.float64) - numpy.mean(points, axis=0)
    _, _, axes = numpy.linalg.svd(centred, full_matrices=False)  # (min(N, F), F), rows by decreasing variance
    axes = axes[:components]
    axes *= numpy.sign(axes[numpy.arange(len(axes)), numpy.abs(axes).argmax(axis=1)])[:, None]
    return centred @ axes.T


def word_map_png(coordinates: numpy.ndarray, words: Sequence[str], groups: Sequence[str], title: str) -> bytes:
    """A scatter plot of ``coordinates`` (N, 2), each point labelled with its word and coloured by its group."""
    coordinates = numpy.asarray(coordinates, dtype=numpy.float64)
    if coordinates.shape != (len(words), 2) or len(groups) != len(words):
        raise ValueError(f"need coordinates of shape (N, 2) with N words and N groups; got {coordinates.shape}, "
                         f"{len(words)} words and {len(groups)} groups")
    figure = Figure(figsize=(11, 9), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    names = list(dict.fromkeys(groups))
    palette = [f"C{index % 10}" for index in range(len(names))]
    for name, colour in zip(names, palette):
        chosen = numpy.array([group == name for group in groups])
        axes.scatter(coordinates[chosen, 0], coordinates[chosen, 1], s=14, color=colour, label=name)
        for (x, y), word in zip(coordinates[chosen], numpy.asarray(words, dtype=object)[chosen]):
            axes.annotate(word, (x, y), xytext=(3, 2), textcoords="offset points", fontsize=7, color=colour, parse_math=False)
    axes.legend(loc="best", fontsize=8, markerscale=1.5)
    axes.set_title(title, parse_math=False)
    axes.set_xticks([])
    axes.set_yticks([])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()
