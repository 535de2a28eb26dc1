"""A sequence of augmentations configured by plain data, so a training config can name it.

The configuration is a list of steps, each a dict with the augmentation's registered ``name``
and its hyperparameters (any left out take their defaults)::

    [{"name": "random_crop", "padding": 4},
     {"name": "horizontal_flip"},
     {"name": "cutout", "size": 16}]

``Compose.from_config(json.loads(text))`` builds the pipeline and ``get_config()`` returns the
complete list (every hyperparameter spelled out), which rebuilds an identical pipeline.
"""
from __future__ import annotations

import difflib
from typing import Any, Sequence

import numpy

from smartmod.vision.augment import AUGMENTATIONS, Augmentation, generator_or_default

__all__ = ["Compose"]


class Compose:
    """Apply ``augmentations`` in order to a float batch ``(N, H, W, C)``, all drawing from one generator."""

    def __init__(self, augmentations: Sequence[Augmentation]):
        for step in augmentations:
            if not isinstance(step, Augmentation):
                raise TypeError(f"Compose takes augmentations such as RandomCrop(), got {type(step).__name__}")
        self.augmentations = list(augmentations)

    def __call__(self, images: numpy.ndarray, rng: numpy.random.Generator | None = None) -> numpy.ndarray:
        """``rng`` defaults to ``smartmod.nn.backend.rng()``, the seeded generator."""
        generator = generator_or_default(rng)
        for augmentation in self.augmentations:
            images = augmentation(images, generator)
        return images

    def get_config(self) -> list[dict[str, Any]]:
        """One ``{"name": ..., hyperparameter: value, ...}`` dict per step, JSON-ready."""
        return [{"name": step.name, **step.get_config()} for step in self.augmentations]

    @classmethod
    def from_config(cls, config: Sequence[dict[str, Any]]) -> "Compose":
        """The pipeline a :meth:`get_config` list (or a hand-written one) describes."""
        if isinstance(config, (str, bytes, dict)) or not isinstance(config, Sequence):
            raise ValueError(f"an augmentation config is a list of {{'name': ...}} dicts, got {type(config).__name__}")
        return cls([_build_step(step, position) for position, step in enumerate(config)])

    def __repr__(self) -> str:
        return f"Compose({self.augmentations!r})"


def _build_step(step: Any, position: int) -> Augmentation:
    if not isinstance(step, dict) or "name" not in step:
        raise ValueError(f"augmentation step {position} must be a dict with a 'name' key, got {step!r}")
    arguments = dict(step)
    name = arguments.pop("name")
    if name not in AUGMENTATIONS:
        hint = difflib.get_close_matches(str(name), AUGMENTATIONS, n=1)
        raise ValueError(f"augmentation step {position}: unknown name {name!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else "") + f" Known: {sorted(AUGMENTATIONS)}")
    augmentation_class = AUGMENTATIONS[name]
    accepted = augmentation_class.hyperparameters()
    unknown = sorted(set(arguments) - set(accepted))
    if unknown:
        raise ValueError(f"augmentation step {position} ({name}): unknown hyperparameters {unknown}; {name} accepts {accepted}")
    return augmentation_class(**arguments)
