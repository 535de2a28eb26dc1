"""The user-facing Python API: ``Moderator.load("default").predict(texts)``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy

from smartmod.moderation.bundle import TextModelBundle

__all__ = ["Moderator", "DEFAULT_MODEL_DIR", "resolve_model"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "default"


def resolve_model(name_or_path: str | Path) -> Path:
    """``"default"`` is the model bundled in the package; anything else is a bundle directory."""
    if str(name_or_path) == "default":
        if not (DEFAULT_MODEL_DIR / "config.json").is_file():
            raise FileNotFoundError(
                f"the bundled default model is missing from {DEFAULT_MODEL_DIR}; reinstall smartmod or train one with "
                "'smartmod train text --config configs/default-text.json'"
            )
        return DEFAULT_MODEL_DIR
    path = Path(name_or_path)
    if not path.is_dir():
        raise FileNotFoundError(f"no model directory at {path}; pass 'default' or the folder a training run wrote")
    return path


def _window_bounds(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, end)`` of overlapping character windows covering a text of ``length`` (one when it fits)."""
    if length <= size:
        return [(0, length)]
    step = size - overlap
    return [(start, min(start + size, length)) for start in range(0, length - overlap, step)]


class Moderator:
    """Scores texts for every harm category with a calibrated probability.

    Texts longer than the model's window (``window_chars``, 2,000 by default) are cut into
    overlapping windows, each window is scored, and every category takes its maximum over the
    windows: harm anywhere in a long text is harm in the text. Empty or whitespace-only texts
    are scored like any other (they carry no features, so they get the model's base rates).
    """

    def __init__(self, bundle: TextModelBundle):
        self.bundle = bundle
        self.categories: tuple[str, ...] = tuple(bundle.config.categories)
        self.thresholds: dict[str, float] = dict(bundle.config.thresholds)

    @classmethod
    def load(cls, name_or_path: str | Path = "default") -> "Moderator":
        return cls(TextModelBundle.load(resolve_model(name_or_path)))

    @property
    def name(self) -> str:
        return self.bundle.config.name

    @property
    def version(self) -> str:
        return self.bundle.config.version

    def scores(self, texts: Sequence[str]) -> numpy.ndarray:
        """Calibrated probabilities, shape ``(len(texts), C)`` in the order of ``categories``."""
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string (wrap it: [text])")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index} is a {type(text).__name__}, not a str")
        pieces: list[str] = []
        owner: list[int] = []
        for index, text in enumerate(texts):
            windows = [text[start:end] for start, end in self.windows(text)]
            pieces.extend(windows)
            owner.extend([index] * len(windows))
        window_scores = self.bundle.probabilities(pieces)
        if len(pieces) == len(texts):
            return window_scores
        result = numpy.zeros((len(texts), len(self.categories)), dtype=numpy.float32)
        numpy.maximum.at(result, numpy.asarray(owner), window_scores)
        return result

    def warm_up(self) -> None:
        """Build now what scoring otherwise builds on its first call: the vectorizer's lookup
        tables and caches. Called before forking workers, so they share one copy of them."""
        self.scores(["warm up the lookup tables"])

    def windows(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` character windows ``text`` is scored in: ``[(0, len(text))]`` when it fits."""
        return _window_bounds(len(text), self.bundle.config.window_chars, self.bundle.config.window_overlap)

    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One ``{category: probability}`` per text."""
        return [dict(zip(self.categories, map(float, row))) for row in self.scores(texts)]

    def flags(self, scores: numpy.ndarray) -> numpy.ndarray:
        """Boolean ``(N, C)``: which scores reach their category's threshold."""
        return scores >= numpy.array([self.thresholds[c] for c in self.categories], dtype=numpy.float32)

    def moderate(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Scores plus ``flagged`` (any category over threshold) and the ``categories`` flagged."""
        scores = self.scores(texts)
        over = self.flags(scores)
        return [
            {
                "scores": dict(zip(self.categories, map(float, row))),
                "flagged": bool(flags.any()),
                "categories": [c for c, flag in zip(self.categories, flags) if flag],
            }
            for row, flags in zip(scores, over)
        ]

    def explain(self, text: str, method: str = "lime", category: str | None = None) -> dict[str, Any]:
        """Why ``text`` scores as it does: the scores, each word's importance and the harmful spans.

        ``method`` is one of :data:`smartmod.explain.EXPLANATION_METHODS` (default
        :data:`smartmod.explain.DEFAULT_METHOD`, spelled out here so scoring need not import the
        explainers); ``category`` is the one explained (default: the highest-scoring). See :func:`smartmod.explain.explain_text`
        for the returned dict, and docs/text-model.md for how well each method agrees with people.
        ``gradient_x_input`` differentiates through TF-IDF features, so it explains TF-IDF models
        only; occlusion and LIME explain any model, sequence models included.
        """
        if method == "gradient_x_input" and self.bundle.config.input_encoding != "tfidf":
            raise ValueError(f"method 'gradient_x_input' explains TF-IDF models only; {self.name} reads {self.bundle.config.input_encoding} "
                             "(a sequence model): use method='occlusion' or 'lime'")
        from smartmod.explain import explain_text  # imported when asked: scoring does not need it

        return explain_text(self, text, method, category)
