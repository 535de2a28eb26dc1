"""The Vision Transformer as a whole: central differences in float64, a PyTorch mirror built from
``unfold`` + ``Linear``, a class token, position embeddings and ``torch.nn.TransformerEncoder``
(pre-norm, final LayerNorm) in float32, a JSON round trip, and a learning test.
"""
from __future__ import annotations

import json

import numpy
import pytest
import torch

from smartmod.nn import backend, layer_from_config
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from smartmod.vision.mnist_mlp import accuracy
from smartmod.vision.vit import vision_transformer
from tests.nn.test_attention_gradcheck import small_parameters
from tests.nn.test_transformer_torch import ENCODER, randomize_norms
from tests.nn.torch_reference import check_against_torch, same, transpose

TINY = {"image_size": (4, 6), "patch_size": (2, 3), "in_channels": 2, "classes": 3, "d_model": 4, "depth": 2,
        "num_heads": 2, "d_ff": 6}


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_tiny_vision_transformer_gradient(dropout):
    backend.set_default_dtype("float64")
    model = small_parameters(vision_transformer(**TINY, dropout=dropout), seed=3)
    model.needs_input_grad = True
    x = numpy.random.default_rng(0).normal(size=(2, 2, 4, 6))
    assert gradcheck(model, x, seed=7)  # dropout draws the same masks before every forward


class TorchVisionTransformer(torch.nn.Module):
    """The same network from PyTorch parts: patches by ``unfold``, then the encoder of ``batch_first`` tokens."""

    def __init__(self, patch_size: int, in_channels: int, patches: int, classes: int, d_model: int, depth: int,
                 num_heads: int, d_ff: int):
        super().__init__()
        self.patch_size = patch_size
        self.projection = torch.nn.Linear(in_channels * patch_size**2, d_model)
        self.class_token = torch.nn.Parameter(torch.zeros(d_model))
        self.positions = torch.nn.Parameter(torch.zeros(1 + patches, d_model))
        layer = torch.nn.TransformerEncoderLayer(d_model, num_heads, d_ff, dropout=0.0, activation="gelu",
                                                 norm_first=True, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, depth, norm=torch.nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        patches = torch.nn.functional.unfold(images, self.patch_size, stride=self.patch_size).transpose(1, 2)  # (N, L, C·P·P)
        tokens = self.projection(patches)  # (N, L, D)
        tokens = torch.cat([self.class_token.expand(len(images), 1, -1), tokens], dim=1) + self.positions  # (N, 1 + L, D)
        return self.head(self.encoder(tokens)[:, 0])  # (N, classes)


def torch_names(depth: int) -> dict[str, tuple[str, object]]:
    mapping = {"0.projection.weight": ("projection.weight", transpose), "0.projection.bias": ("projection.bias", same),
               "1.weight": ("class_token", same), "2.weight": ("positions", same),
               "4.norm.weight": ("encoder.norm.weight", same), "4.norm.bias": ("encoder.norm.bias", same),
               "6.weight": ("head.weight", transpose), "6.bias": ("head.bias", same)}
    mapping.update({f"4.layer{index}.{name}": (f"encoder.layers.{index}.{torch_name}", transform)
                    for index in range(depth) for name, (torch_name, transform) in ENCODER.items()})
    return mapping


@pytest.mark.parametrize("seed", [0, 1])
def test_vision_transformer_matches_torch(seed):
    config = {"patch_size": 4, "in_channels": 3, "classes": 5, "d_model": 16, "depth": 2, "num_heads": 4, "d_ff": 24}
    mine = vision_transformer(image_size=12, dropout=0.0, **config)
    mine.needs_input_grad = True
    randomize_norms(mine)
    theirs = TorchVisionTransformer(patches=9, **config)
    x = numpy.random.default_rng(seed).normal(size=(3, 3, 12, 12)).astype(numpy.float32)
    check_against_torch(mine, theirs, x, torch_names(2), theirs, rtol=1e-4, atol=1e-5, normwise=True)


def test_config_round_trip_through_json_rebuilds_an_identical_network():
    original = vision_transformer(**TINY).eval()
    rebuilt = layer_from_config(json.loads(json.dumps(original.to_config()))).eval()
    rebuilt.load_state_dict(original.state_dict())
    x = numpy.random.default_rng(0).normal(size=(2, 2, 4, 6)).astype(numpy.float32)
    assert numpy.array_equal(rebuilt(x), original(x))


def test_patch_size_that_does_not_divide_the_image_is_refused():
    with pytest.raises(ValueError, match="must divide image_size"):
        vision_transformer(image_size=10, patch_size=4)


def bright_quadrant_images(count: int, seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(count, 1, 8, 8) noise images with one 4×4 quadrant brighter by 1, and its index 0-3 (row-major)."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 4, size=count)
    images = rng.normal(0.0, 0.3, size=(count, 1, 8, 8)).astype(numpy.float32)
    for image, label in zip(images, labels):
        row, col = divmod(int(label), 2)
        image[0, 4 * row:4 * row + 4, 4 * col:4 * col + 4] += 1.0
    return images, labels


def test_tiny_vision_transformer_learns_which_quadrant_is_bright():
    x, y = bright_quadrant_images(640, seed=0)
    model = vision_transformer(image_size=8, patch_size=2, in_channels=1, classes=4, d_model=16, depth=1, num_heads=2,
                               d_ff=32, dropout=0.0)
    before = accuracy(predict(model, x[512:]), y[512:])
    trainer = Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=3e-3), batch_size=32, progress=False, seed=0)
    trainer.fit(x[:512], y[:512], epochs=6)
    after = accuracy(predict(model, x[512:]), y[512:])
    assert before < 0.5 and after >= 0.95, f"held-out accuracy {before:.3f} before training, {after:.3f} after"
