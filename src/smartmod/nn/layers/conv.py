"""The 2-D convolution layer: im2col, one GEMM over the whole batch, and col2im for its adjoint.

Forward and backward are three matrix products of the column matrix C (M = N·H'·W' rows, one
per output pixel; L = kh·kw·C_in columns) and the kernel reshaped into a matrix W (L, K):

    Y  = C W + b              (M, K)    the output
    ∂W = Cᵀ ∂Y                (L, K)    the kernel gradient
    ∂C = ∂Y Wᵀ                (M, L)    the gradient of the columns, which col2im adds back onto
                                        the input pixels they were copied from

With groups, each group is one such product on its own slice of the channels. See
:mod:`smartmod.nn.layers.im2col` for the channels-last layout the products run in.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.init import get_initializer, zeros
from smartmod.nn.layers import conv_rows
from smartmod.nn.layers.im2col import ConvGeometry, Workspace, col2im, im2col
from smartmod.nn.module import Module, Parameter

__all__ = ["Conv2d", "pair", "channels_last", "channels_first", "grouped_product", "transposed_product"]


def pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as ``(height, width)``; raises a ValueError naming ``name`` otherwise."""
    values = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    return values[0], values[1]


def channels_last(x: Any) -> Any:
    """An (N, C, H, W) image batch as an (N, H, W, C) view (contiguous when ``x`` came from a layer here)."""
    return x.transpose(0, 2, 3, 1)


def channels_first(x: Any) -> Any:
    """An (N, H, W, C) batch as an (N, C, H, W) view: the shape every layer shows, channels-last in memory."""
    return x.transpose(0, 3, 1, 2)


def kernel_matrix(weight: Any) -> Any:
    """A grouped kernel (G, K/G, C/G, kh, kw) as G matrices (G, kh·kw·C/G, K/G), rows ordered
    (i, j, c) like the columns of :func:`~smartmod.nn.layers.im2col.im2col`."""
    groups, out_per_group, in_per_group, kh, kw = weight.shape
    return weight.transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * in_per_group, out_per_group)


def grouped_product(left: Any, right: Any, out: Any) -> Any:
    """``out[m, g] = left[m, g] @ right[g]`` for every row m and group g, the rows split between
    threads, each slice one GEMM per group (see :mod:`smartmod.nn.parallel`).

    Shapes: left (M, G, P), right (G, P, Q), out (M, G, Q); returns ``out``.
    """
    xp = backend.get_array_module(left)
    groups = left.shape[1]

    def multiply(start: int, stop: int) -> None:
        if groups == 1:
            xp.matmul(left[start:stop, 0], right[0], out=out[start:stop, 0])
        else:
            out[start:stop] = xp.matmul(left[start:stop].transpose(1, 0, 2), right).transpose(1, 0, 2)

    parallel.over_batch(multiply, left.shape[0], left.size + out.size)
    return out


def transposed_product(left: Any, right: Any) -> Any:
    """``Σ_m left[m, g]ᵀ right[m, g]`` for each group g: (G, P, Q) from left (M, G, P) and right
    (M, G, Q), as partial sums over row slices, one per thread, added at the end.

    BLAS runs this orientation (the long inner dimension M read down the columns) near GEMM
    speed, while the same numbers as rightᵀ left ran 1.3-2.4x slower.
    """
    xp = backend.get_array_module(left)

    def multiply(start: int, stop: int) -> Any:
        return xp.matmul(left[start:stop].transpose(1, 2, 0), right[start:stop].transpose(1, 0, 2))

    partials = parallel.over_batch(multiply, left.shape[0], left.size + right.size)
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total


def _padding(padding: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """``"valid"`` (none), ``"same"`` (the output keeps the input's size; stride 1 only, any extra
    pixel at the bottom/right as in PyTorch) or an int / pair of ints added on both sides."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride {stride}: give the padding as an int instead")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"padding must be 'same', 'valid', an int or a pair of ints, got {padding!r}")
    height, width = pair(padding, "padding")
    if height < 0 or width < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return (height, height), (width, width)


def _transposed_geometry(geometry: ConvGeometry) -> ConvGeometry | None:
    """The geometry of the stride-1 convolution of ∂y that gives ∂x, or None where there is none
    (strided, or padded by more than the window spans, which would need cropping)."""
    if geometry.stride != (1, 1):
        return None
    spans = [d * (k - 1) for k, d in zip(geometry.kernel_size, geometry.dilation)]
    padding = tuple((span - before, span - after) for span, (before, after) in zip(spans, geometry.padding))
    if min(min(sides) for sides in padding) < 0:
        return None
    return ConvGeometry(geometry.kernel_size, (1, 1), padding, geometry.dilation)


# Scratch for the columns of ∂y, one per shape, shared by every layer: each backward is done
# with them before the next one starts.
_GRADIENT_WORKSPACES: dict[Any, Workspace] = {}


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) images, as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and K; both divisible by ``groups``.
    kernel_size, stride, dilation : int or (int, int)
        (kh, kw), (s_h, s_w), (d_h, d_w).
    padding : "valid", "same", int or (int, int)
        Zeros added around the input; ``"same"`` keeps H and W (stride 1 only).
    groups : int
        G: input and output channels split into G groups convolved separately.
    bias : bool
        Add a learned b (K,).
    init : str
        Initializer of the kernel (see :mod:`smartmod.nn.init`); the default ``"he_normal"``
        suits ReLU networks (He et al. 2015). The bias starts at zero.

    Shapes: ``weight`` (K, C_in / G, kh, kw) as in PyTorch; x (N, C_in, H, W) → y (N, K, H', W')
    with H' = ⌊(H + pad_h - d_h (kh - 1) - 1) / s_h⌋ + 1, likewise W'. The output is an
    (N, K, H', W') view of channels-last memory, which the next convolution reads without a copy.
    The column matrix is kept for backward and reused between calls of one shape.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, init: str = "he_normal"):
        super().__init__()
        if min(in_channels, out_channels, groups) < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d needs positive channel counts divisible by groups, got in_channels={in_channels}, "
                f"out_channels={out_channels}, groups={groups}"
            )
        kernel, stride, dilation = pair(kernel_size, "kernel_size"), pair(stride, "stride"), pair(dilation, "dilation")
        if min(*kernel, *stride, *dilation) < 1:
            raise ValueError(f"kernel_size, stride and dilation must be positive, got {kernel}, {stride}, {dilation}")
        self.geometry = ConvGeometry(kernel, stride, _padding(padding, kernel, stride, dilation), dilation)
        self.in_channels, self.out_channels, self.groups, self.use_bias, self.init = in_channels, out_channels, groups, bias, init
        self.padding = padding if isinstance(padding, str) else list(pair(padding, "padding"))
        self.weight = Parameter(get_initializer(init)((out_channels, in_channels // groups, *kernel), layout="out_in"))
        if bias:
            self.bias = Parameter(zeros((out_channels,)))
        self._workspace = Workspace()

    def _grouped_weight(self) -> Any:
        """The weight split by group: (G, K/G, C_in/G, kh, kw)."""
        k, per_group, kh, kw = self.weight.data.shape
        return self.weight.data.reshape(self.groups, k // self.groups, per_group, kh, kw)

    def forward(self, x: Any) -> Any:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d expects images (N, {self.in_channels}, H, W), got shape {x.shape}")
        if x.dtype != self.weight.data.dtype:
            x = x.astype(self.weight.data.dtype)
        xp = backend.get_array_module(x)
        image = channels_last(x)  # (N, H, W, C_in)
        self._input_shape = image.shape
        n, height, width, _ = image.shape
        rows, cols = self.geometry.output_size(height, width)
        y = xp.empty((n, rows, cols, self.out_channels), dtype=image.dtype)  # (N, H', W', K)
        self._by_rows = conv_rows.applies(self.geometry, self.groups, image) and _transposed_geometry(self.geometry) is not None
        if self._by_rows:  # no column matrix: backward unfolds the input again
            self._input, self._columns = image, None
            conv_rows.convolve(image, conv_rows.kernel_rows(self.weight.data), self.geometry, y)
        else:
            self._input, self._columns = None, im2col(image, self.geometry, self.groups, self._workspace)  # (M, G, L)
            grouped_product(self._columns, kernel_matrix(self._grouped_weight()), y.reshape(-1, self.groups, self.out_channels // self.groups))
        if self.use_bias:
            y += self.bias.data
        return channels_first(y)  # (N, K, H', W')

    def backward(self, grad_output: Any) -> Any:
        n, rows, cols = grad_output.shape[0], grad_output.shape[2], grad_output.shape[3]
        grad = channels_last(grad_output).reshape(n * rows * cols, self.out_channels)  # (M, K)
        if self.use_bias:
            self.bias.grad += grad.sum(axis=0)
        grad_groups = grad.reshape(-1, self.groups, self.out_channels // self.groups)  # (M, G, K/G)
        k, per_group, kh, kw = self.weight.data.shape
        if self._by_rows:
            grad_kernel = conv_rows.kernel_gradient(self._input, grad.reshape(n, rows, cols, k), self.geometry)  # (kh, kw·C, K)
            self.weight.grad += grad_kernel.reshape(kh, kw, per_group, k).transpose(3, 2, 0, 1)
        else:
            grad_kernel = transposed_product(self._columns, grad_groups)  # ∂W = Cᵀ ∂Y, (G, L, K/G)
            self.weight.grad += grad_kernel.reshape(self.groups, kh, kw, per_group, k // self.groups).transpose(0, 4, 3, 1, 2).reshape(self.weight.data.shape)
        if not self.needs_input_grad:
            return None  # the input is data: no gradient flows into it
        return channels_first(self._input_gradient(grad_groups))  # (N, C_in, H, W)

    def _input_gradient(self, grad_groups: Any) -> Any:
        """∂L/∂x (N, H, W, C_in) from ∂L/∂y as (M, G, K/G).

        At stride 1 it is itself a convolution (the "full" correlation of ∂y with the kernel
        flipped in space, in and out channels swapped; Dumoulin & Visin 2016, "A guide to
        convolution arithmetic", §4): one im2col of ∂y and one GEMM, with no column-sized
        product to scatter back. Otherwise, ∂C = ∂Y Wᵀ and col2im.
        """
        xp = backend.get_array_module(grad_groups)
        geometry = self.geometry
        transposed = _transposed_geometry(geometry)
        if transposed is None:
            kernel = kernel_matrix(self._grouped_weight())  # (G, L, K/G)
            grad_columns = xp.empty((grad_groups.shape[0], self.groups, kernel.shape[1]), dtype=grad_groups.dtype)  # (M, G, L)
            return col2im(grouped_product(grad_groups, kernel.transpose(0, 2, 1), grad_columns), geometry, self._input_shape)
        n, height, width, _ = self._input_shape
        rows, cols = geometry.output_size(height, width)
        grad_image = grad_groups.reshape(n, rows, cols, self.out_channels)  # (N, H', W', K)
        if self._by_rows:
            flipped = self.weight.data[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C_in, K, kh, kw)
            grad_input = xp.empty(self._input_shape, dtype=grad_image.dtype)
            return conv_rows.convolve(grad_image, conv_rows.kernel_rows(flipped), transposed, grad_input, name="gradient")
        workspace = _GRADIENT_WORKSPACES.setdefault((grad_image.shape, grad_image.dtype.str, transposed), Workspace())
        grad_columns = im2col(grad_image, transposed, self.groups, workspace)  # (M_in, G, kh·kw·K/G)
        flipped = self._grouped_weight()[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)  # (G, C_in/G, K/G, kh, kw)
        grad_input = xp.empty(self._input_shape, dtype=grad_columns.dtype)  # (N, H, W, C_in)
        grouped_product(grad_columns, kernel_matrix(flipped), grad_input.reshape(grad_columns.shape[0], self.groups, -1))
        return grad_input

    def get_config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.geometry.kernel_size),
            "stride": list(self.geometry.stride),
            "padding": self.padding,
            "dilation": list(self.geometry.dilation),
            "groups": self.groups,
            "bias": self.use_bias,
            "init": self.init,
        }
