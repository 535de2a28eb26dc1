"""Patch embedding, the input layer of the Vision Transformer (Dosovitskiy et al. 2021, "An image is
worth 16x16 words", eq. 1): an image cut into non-overlapping P×P patches, each flattened and
projected to a token of width D by one learned matrix E,

    z_0 = [x_class; x_p^1 E; x_p^2 E; ...; x_p^L E] + E_pos        (this layer computes x_p^l E)

Non-overlapping patches are a reshape of the image, so the layer is that reshape and a
:class:`~smartmod.nn.layers.dense.Dense` over all N·L patches at once: one GEMM forward, two
backward, and a transposed reshape for the input gradient. A ``Conv2d`` with kernel = stride = P
computes the same thing, but through im2col's window copies and, for the strided input
gradient, a col2im scatter: more code on the path and more memory traffic for nothing.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.conv import pair
from smartmod.nn.layers.dense import Dense
from smartmod.nn.module import Module

__all__ = ["PatchEmbedding"]


class PatchEmbedding(Module):
    """(N, C, H, W) images → (N, L, d_model) patch tokens, L = (H / P_h)(W / P_w).

    Parameters
    ----------
    patch_size : int or (int, int)
        (P_h, P_w); must divide the image's height and width.
    in_channels : int
        C.
    d_model : int
        D, the width of each token.
    init : str
        Initializer of the projection (see :mod:`smartmod.nn.init`); its bias starts at zero.

    Patches are numbered row by row (left to right, top to bottom) and each is flattened in
    (channel, row, column) order, as ``torch.nn.functional.unfold``: the projection's weight
    ``(C·P_h·P_w, D)`` is a ``Conv2d(C, D, kernel_size=P, stride=P)`` kernel ``(D, C, P_h, P_w)``
    reshaped to ``(D, C·P_h·P_w)`` and transposed.
    """

    def __init__(self, patch_size: Any, in_channels: int, d_model: int, init: str = "xavier_uniform"):
        super().__init__()
        self.patch_size = pair(patch_size, "patch_size")
        if min(self.patch_size) < 1 or in_channels < 1 or d_model < 1:
            raise ValueError(f"PatchEmbedding needs positive sizes, got patch_size={patch_size!r}, "
                             f"in_channels={in_channels}, d_model={d_model}")
        self.in_channels, self.d_model, self.init = in_channels, d_model, init
        self.projection = Dense(in_channels * self.patch_size[0] * self.patch_size[1], d_model, init=init)

    def forward(self, x: Any) -> Any:
        patch_h, patch_w = self.patch_size
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % patch_h or x.shape[3] % patch_w:
            raise ValueError(f"PatchEmbedding expects images (N, {self.in_channels}, H, W) with H a multiple of {patch_h} "
                             f"and W a multiple of {patch_w}, got shape {x.shape}: crop or pad the images, or change patch_size")
        n, channels, height, width = x.shape
        rows, cols = height // patch_h, width // patch_w
        self._input_shape = x.shape
        patches = x.reshape(n, channels, rows, patch_h, cols, patch_w).transpose(0, 2, 4, 1, 3, 5)  # (N, rows, cols, C, P_h, P_w)
        patches = patches.reshape(n * rows * cols, channels * patch_h * patch_w)  # (N·L, C·P_h·P_w), one GEMM's rows
        return self.projection.forward(patches).reshape(n, rows * cols, self.d_model)  # (N, L, D)

    def backward(self, grad_output: Any) -> Any:
        n, channels, height, width = self._input_shape
        patch_h, patch_w = self.patch_size
        rows, cols = height // patch_h, width // patch_w
        self.projection.needs_input_grad = self.needs_input_grad
        grad_patches = self.projection.backward(grad_output.reshape(n * rows * cols, self.d_model))  # (N·L, C·P_h·P_w)
        if grad_patches is None:
            return None  # the input is data: no gradient flows into it
        grad_patches = grad_patches.reshape(n, rows, cols, channels, patch_h, patch_w)
        return grad_patches.transpose(0, 3, 1, 4, 2, 5).reshape(self._input_shape)  # (N, C, H, W)

    def get_config(self) -> dict[str, Any]:
        return {"patch_size": list(self.patch_size), "in_channels": self.in_channels, "d_model": self.d_model, "init": self.init}
