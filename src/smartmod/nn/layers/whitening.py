"""PatchWhitening: a fixed first convolution that decorrelates the pixels of each small patch.

The filters are not learned but computed once from training images (Coates & Ng 2012,
"Learning feature representations with k-means", §3: ZCA/PCA whitening of patches; Page 2018,
"How to train your ResNet 8: bag of tricks"; Jordan 2024, airbench). With X the (P, L) matrix of
the k×k×C patches of the images (L = k²·C values each), Σ = XᵀX / P their second moment and
Σ = V diag(λ) Vᵀ its eigendecomposition, the kernel matrix is

    W = [ V diag(λ + ε)^-½ ,  -V diag(λ + ε)^-½ ]          (L, 2L)

so each output channel is one principal direction of the patches at unit variance, and its
negative: after a ReLU both signs of every direction survive (relu(z) - relu(-z) = z). The
network's first layer then starts from decorrelated inputs instead of learning to decorrelate
them, which shortens training. ``ε`` keeps the directions of tiny variance (noise) from being
blown up.

Forward is the convolution y = im2col(x) W (valid padding, stride 1); backward returns
∂L/∂x = col2im(∂Y Wᵀ) and has no parameter to update.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.layers.conv import channels_first, channels_last, pair
from smartmod.nn.layers.im2col import ConvGeometry, Workspace, col2im, im2col
from smartmod.nn.module import Module

__all__ = ["PatchWhitening"]


class PatchWhitening(Module):
    """(N, C, H, W) → (N, 2·k²·C, H - k + 1, W - k + 1): patch whitening filters fitted to data.

    Parameters
    ----------
    in_channels : int
        C.
    patch_size : int or (int, int)
        (kh, kw) of the patches (Jordan's airbench uses 2×2).
    eps : float
        ε added to every eigenvalue before the inverse square root (5e-4 suits images
        normalized to unit variance per channel).

    The filters are the buffer ``weight`` (2L, C, kh, kw) in PyTorch's layout, zero until
    :meth:`fit` fills them; they are saved and loaded with the model and never trained.
    """

    def __init__(self, in_channels: int, patch_size: Any = 2, eps: float = 5e-4):
        super().__init__()
        kernel = pair(patch_size, "patch_size")
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1 or min(kernel) < 1:
            raise ValueError(f"PatchWhitening needs a positive in_channels and patch_size, got {in_channels!r} and {patch_size!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.in_channels, self.patch_size, self.eps = in_channels, kernel, float(eps)
        self.geometry = ConvGeometry(kernel)
        self.patch_length = kernel[0] * kernel[1] * in_channels  # L
        self.out_channels = 2 * self.patch_length
        self.register_buffer("weight", backend.xp.zeros((self.out_channels, in_channels, *kernel), dtype=backend.default_dtype()))
        self._workspace = Workspace()

    def fit(self, images: Any) -> "PatchWhitening":
        """Compute the filters from ``images`` (N, C, H, W), e.g. a few thousand normalized
        training images; returns self."""
        self._check(images)
        xp = backend.get_array_module(images)
        patches = im2col(channels_last(images).astype(xp.float64), self.geometry)[:, 0, :]  # (P, L), ordered (i, j, c)
        second_moment = patches.T @ patches / len(patches)  # (L, L)
        eigenvalues, eigenvectors = xp.linalg.eigh(second_moment)  # ascending
        eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]  # the largest variance first
        half = eigenvectors / xp.sqrt(xp.maximum(eigenvalues, 0) + self.eps)  # (L, L), one direction per column
        matrix = xp.concatenate([half, -half], axis=1)  # (L, 2L)
        kh, kw = self.patch_size
        weight = matrix.reshape(kh, kw, self.in_channels, self.out_channels).transpose(3, 2, 0, 1)  # (2L, C, kh, kw)
        self.set_buffer("weight", backend.xp.ascontiguousarray(backend.xp.asarray(weight, dtype=self.weight.dtype)))
        return self

    def _check(self, x: Any) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PatchWhitening expects images (N, {self.in_channels}, H, W), got shape {x.shape}")

    def _kernel_matrix(self) -> Any:
        """The filters as the (L, 2L) matrix that multiplies im2col's columns."""
        return self.weight.transpose(2, 3, 1, 0).reshape(self.patch_length, self.out_channels)

    def forward(self, x: Any) -> Any:
        self._check(x)
        if not self.weight.any():
            raise RuntimeError("PatchWhitening has no filters yet: call fit(images) with training images first "
                               "(a loaded model brings its own)")
        image = channels_last(x.astype(self.weight.dtype, copy=False))  # (N, H, W, C)
        self._input_shape = image.shape
        n, height, width, _ = image.shape
        rows, cols = self.geometry.output_size(height, width)
        columns = im2col(image, self.geometry, 1, self._workspace)[:, 0, :]  # (M, L)
        y = (columns @ self._kernel_matrix()).reshape(n, rows, cols, self.out_channels)  # (N, H', W', 2L)
        return channels_first(y)  # (N, 2L, H', W')

    def backward(self, grad_output: Any) -> Any:
        if not self.needs_input_grad:
            return None  # the input is data, and there is no parameter: nothing to compute
        grad = channels_last(grad_output).reshape(-1, self.out_channels)  # (M, 2L)
        grad_columns = (grad @ self._kernel_matrix().T).reshape(-1, 1, self.patch_length)  # (M, 1, L)
        return channels_first(col2im(grad_columns, self.geometry, self._input_shape))  # (N, C, H, W)

    def get_config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "patch_size": list(self.patch_size), "eps": self.eps}
