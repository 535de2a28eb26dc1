"""im2col and col2im: a 2-D convolution as one matrix product over the whole batch.

A convolution layer (a cross-correlation, as in every deep-learning framework) of a padded
input x (N, H, W, C) with a kernel w (K, C, kh, kw), stride s and dilation d computes

    y[n, p, q, k] = Σ_{i, j, c} x[n, p·s_h + i·d_h, q·s_w + j·d_w, c] · w[k, c, i, j].

im2col (Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks for
document processing") copies the receptive field of every output pixel into one row of a
column matrix (N·H'·W', kh·kw·C); the convolution is then that matrix times the kernel
reshaped (kh·kw·C, K), a single GEMM. col2im is the adjoint of im2col: it adds each row of a
gradient with respect to the columns back onto the input pixels the row was copied from.

Images are channels-last here, (N, H, W, C), the layout PyTorch calls ``channels_last``: a
receptive field is then kh runs of kw·C contiguous numbers, so the copy moves long runs, and the
GEMM's output (N·H'·W', K) is already channels-last for the next layer. The column matrix is
one strided view of the padded input (``as_strided``) copied once; col2im loops over the kh·kw
kernel offsets only, each a vectorized add over the batch and every pixel. Both copies are
memory-bound, so the batch is split between threads (:mod:`smartmod.nn.parallel`).

With ``groups`` G (Krizhevsky et al. 2012) the channels split into G independent groups: the
columns are laid out (N·H'·W', G, kh·kw·C/G), so each group's columns form a matrix that BLAS
reads in place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartmod.nn import backend, parallel

__all__ = ["ConvGeometry", "Workspace", "pad", "copy_over_batch", "window", "im2col", "col2im"]


@dataclass(frozen=True)
class ConvGeometry:
    """Where a sliding window of a convolution or pooling layer reads its input.

    Attributes
    ----------
    kernel_size : (kh, kw)
    stride : (s_h, s_w)
        Steps between neighbouring windows.
    padding : ((top, bottom), (left, right))
        Pixels added around the input before the windows slide.
    dilation : (d_h, d_w)
        Steps between the taps of one window (Yu & Koltun 2016); 1 is a dense window.
    """

    kernel_size: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    dilation: tuple[int, int] = (1, 1)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H', W') = ⌊(size + padding - d (k - 1) - 1) / s⌋ + 1 on each axis; raises when empty."""
        sizes = []
        for size, kernel, stride, (before, after), dilation in zip((height, width), self.kernel_size, self.stride, self.padding, self.dilation):
            span = dilation * (kernel - 1) + 1  # the pixels one window covers
            if size + before + after < span:
                raise ValueError(
                    f"a {height}×{width} input padded by {self.padding} is smaller than the window "
                    f"(kernel {self.kernel_size}, dilation {self.dilation}): use a larger input, padding or a smaller kernel"
                )
            sizes.append((size + before + after - span) // stride + 1)
        return sizes[0], sizes[1]

    @property
    def is_pointwise(self) -> bool:
        """A 1×1 window with stride 1 and no padding: every pixel is its own receptive field."""
        return self.kernel_size == (1, 1) and self.stride == (1, 1) and self.padding == ((0, 0), (0, 0))

    def offsets(self) -> list[tuple[int, int]]:
        """The kh·kw kernel offsets (i, j) in row-major order, the order of the columns."""
        return [(i, j) for i in range(self.kernel_size[0]) for j in range(self.kernel_size[1])]


class Workspace:
    """Arrays a layer keeps from one call to the next while their shape stays the same.

    A convolution's column matrix is many times its input: allocating it afresh every step
    costs page faults and zeroing that a reused buffer does not. Arrays created with a
    ``fill`` value keep it wherever the layer never writes (the border of a padded input).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, Any] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, fill: float | None = None) -> Any:
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            xp = backend.xp
            array = xp.empty(shape, dtype=dtype) if fill is None else xp.full(shape, fill, dtype=dtype)
            self._arrays[name] = array
        return array


def pad(x: Any, geometry: ConvGeometry, fill: float = 0.0, workspace: Workspace | None = None) -> Any:
    """x (N, H, W, C) surrounded by ``geometry.padding`` pixels of value ``fill``.

    Returns (N, top + H + bottom, left + W + right, C); ``x`` itself when there is no padding.
    With a workspace the padded array is reused between calls and only its interior is written.
    """
    (top, bottom), (left, right) = geometry.padding
    if top == bottom == left == right == 0:
        return x
    n, height, width, channels = x.shape
    shape = (n, top + height + bottom, left + width + right, channels)
    if workspace is None:
        padded = backend.get_array_module(x).full(shape, fill, dtype=x.dtype)
    else:
        padded = workspace.get(f"padded by {fill}", shape, x.dtype, fill=fill)
    copy_over_batch(padded[:, top:top + height, left:left + width], x)
    return padded


def copy_over_batch(destination: Any, source: Any) -> None:
    """``destination[...] = source`` for two arrays with the same leading batch axis, the batch
    split between threads (see :mod:`smartmod.nn.parallel`)."""

    def copy(start: int, stop: int) -> None:
        destination[start:stop] = source[start:stop]

    parallel.over_batch(copy, destination.shape[0], destination.size)


def window(padded: Any, geometry: ConvGeometry, offset: tuple[int, int], output_size: tuple[int, int]) -> Any:
    """The view of a padded (N, Hp, Wp, ...) array that kernel tap ``offset`` = (i, j) reads:
    pixel (p, q) of the view is padded pixel (p·s_h + i·d_h, q·s_w + j·d_w). Shape (N, H', W', ...)."""
    (i, j), (s_h, s_w), (d_h, d_w) = offset, geometry.stride, geometry.dilation
    rows, cols = output_size
    return padded[:, i * d_h: i * d_h + s_h * (rows - 1) + 1: s_h, j * d_w: j * d_w + s_w * (cols - 1) + 1: s_w]


def im2col(x: Any, geometry: ConvGeometry, groups: int = 1, workspace: Workspace | None = None) -> Any:
    """The column matrix of a channels-last batch.

    Parameters
    ----------
    x : array (N, H, W, C)
    geometry : ConvGeometry
    groups : int
        G, dividing C.
    workspace : Workspace, optional
        Reuse the padded input and the columns between calls.

    Returns
    -------
    array (N·H'·W', G, kh·kw·C/G)
        Row (n, p, q) holds the receptive field of output pixel (p, q) of image n, group by
        group, each ordered (i, j, c) like the kernel reshaped by :func:`kernel_matrix`.
        For a pointwise geometry it is ``x`` itself, reshaped (no copy when ``x`` is contiguous).
    """
    n, height, width, channels = x.shape
    rows, cols = geometry.output_size(height, width)
    kh, kw = geometry.kernel_size
    per_group = channels // groups
    if geometry.is_pointwise:
        return x.reshape(n * rows * cols, groups, per_group)
    padded = pad(x, geometry, 0.0, workspace)  # (N, Hp, Wp, C)
    s_n, s_h, s_w, s_c = padded.strides
    (stride_h, stride_w), (d_h, d_w) = geometry.stride, geometry.dilation
    # every receptive field at once, as a view: (N, H', W', G, kh, kw, C/G)
    fields = backend.get_array_module(x).lib.stride_tricks.as_strided(
        padded,
        shape=(n, rows, cols, groups, kh, kw, per_group),
        strides=(s_n, s_h * stride_h, s_w * stride_w, s_c * per_group, s_h * d_h, s_w * d_w, s_c),
        writeable=False,
    )
    shape = (n, rows, cols, groups, kh, kw, per_group)
    columns = backend.xp.empty(shape, dtype=x.dtype) if workspace is None else workspace.get("columns", shape, x.dtype)
    copy_over_batch(columns, fields)  # the one copy
    return columns.reshape(n * rows * cols, groups, kh * kw * per_group)


def col2im(grad_columns: Any, geometry: ConvGeometry, input_shape: tuple[int, int, int, int]) -> Any:
    """The adjoint of :func:`im2col`: the gradient with respect to its input.

    Parameters
    ----------
    grad_columns : array (N·H'·W', G, kh·kw·C/G)
        The gradient with respect to the column matrix.
    geometry : ConvGeometry
    input_shape : (N, H, W, C)

    Returns
    -------
    array (N, H, W, C)
        Every entry of ``grad_columns`` added onto the input pixel it was copied from: one
        vectorized add per kernel offset (kh·kw of them), none per image or pixel.
    """
    n, height, width, channels = input_shape
    if geometry.is_pointwise:
        return grad_columns.reshape(input_shape)
    rows, cols = geometry.output_size(height, width)
    kh, kw = geometry.kernel_size
    groups = grad_columns.shape[1]
    grad_columns = grad_columns.reshape(n, rows, cols, groups, kh, kw, channels // groups)
    (top, bottom), (left, right) = geometry.padding
    grad_padded = backend.get_array_module(grad_columns).zeros(
        (n, top + height + bottom, left + width + right, groups, channels // groups), dtype=grad_columns.dtype
    )

    def add_back(start: int, stop: int) -> None:  # images start to stop, every offset
        for i, j in geometry.offsets():
            window(grad_padded[start:stop], geometry, (i, j), (rows, cols))[...] += grad_columns[start:stop, :, :, :, i, j]  # (n, H', W', G, C/G)

    parallel.over_batch(add_back, n, grad_columns.size)
    return grad_padded[:, top:top + height, left:left + width].reshape(input_shape)
