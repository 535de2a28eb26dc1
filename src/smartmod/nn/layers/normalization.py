"""Batch normalization (Ioffe & Szegedy 2015) and layer normalization (Ba et al. 2016).

Both normalize ``x̂ = (x - μ) / sqrt(σ² + ε)`` and scale ``y = γ x̂ + β``; they differ in the
axes μ and σ² are taken over. With ``m`` values per statistic and ``ĝ = g γ`` the input gradient is

    dx = (1 / m) / sqrt(σ² + ε) * (m ĝ - Σ ĝ - x̂ Σ (ĝ x̂))
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.init import ones, zeros
from smartmod.nn.module import Module, Parameter

__all__ = ["BatchNorm", "LayerNorm", "recalibrate_batchnorm", "rows_side_by_side"]


def _normalize_backward(grad_xhat: Any, x_hat: Any, inv_std: Any, axes: tuple[int, ...]) -> Any:
    m = x_hat.size // inv_std.size
    sum_g = grad_xhat.sum(axis=axes, keepdims=True)
    sum_gx = (grad_xhat * x_hat).sum(axis=axes, keepdims=True)
    return (inv_std / m) * (m * grad_xhat - sum_g - x_hat * sum_gx)


def _column_sums(columns: Any) -> Any:
    """The sum of each column of an (M, C) matrix: a matrix-vector product with ones per slice of rows."""
    ones = backend.get_array_module(columns).ones(columns.shape[0], dtype=columns.dtype)
    return sum(parallel.over_batch(lambda start, stop: ones[start:stop] @ columns[start:stop], columns.shape[0], columns.size))


def _feature_columns(x: Any) -> Any:
    """x (N, C, ...) as the matrix (M, C) of its feature columns, M = N · (product of the rest).

    A view when the features are the fastest axis in memory (the channels-last images of
    :class:`~smartmod.nn.Conv2d`, or (N, C) rows); a copy otherwise.
    """
    return backend.get_array_module(x).moveaxis(x, 1, -1).reshape(-1, x.shape[1])


# Each per-feature vector is broadcast along rows of at least this many numbers: NumPy's inner
# loop runs along one row, so rows of 16 features would cost a loop start every 16 numbers.
_WIDE_ROW = 256


def rows_side_by_side(rows: int, width: int) -> int:
    """How many of ``rows`` rows of ``width`` numbers to lay side by side so that a per-column
    vector broadcasts along about 256 numbers: the largest r ≤ 256 / width dividing ``rows`` (at least 1)."""
    r = max(1, _WIDE_ROW // width)
    while rows % r:
        r -= 1
    return r


def _widened(columns: Any) -> tuple[Any, int]:
    """The (M, C) feature matrix as (M / r, r·C) — r consecutive rows side by side, a view of
    the same memory when it is contiguous — and r (:func:`rows_side_by_side`)."""
    m, c = columns.shape
    r = rows_side_by_side(m, c)
    return columns.reshape(m // r, r * c), r


def _tiled(vector: Any, r: int) -> Any:
    """A per-feature vector (C,) repeated for the r rows side by side of :func:`_widened`, or a scalar as it is."""
    return backend.get_array_module(vector).tile(vector, r) if getattr(vector, "ndim", 0) == 1 and r > 1 else vector


def _folded(sums: Any, r: int) -> Any:
    """Per-feature sums (C,) from sums over the widened columns (r·C,)."""
    return sums.reshape(r, -1).sum(axis=0) if r > 1 else sums


class BatchNorm(Module):
    """Normalize each feature (axis 1) over the batch and any further axes.

    Works for ``(N, C)`` features, ``(N, C, L)`` sequences and ``(N, C, H, W)`` images.
    Training uses the batch statistics and updates running estimates
    ``running = (1 - momentum) running + momentum batch`` (the variance unbiased, as in PyTorch);
    evaluation uses the running estimates.

    The work runs on the (M, C) matrix of feature columns: per-feature sums are matrix-vector
    products or per-row-slice sums, so each statistic costs one pass over the data, and the output
    keeps the memory layout of that matrix (channels-last for images). Every pass writes into
    arrays made once per call, its rows split between threads (:mod:`smartmod.nn.parallel`).
    With few features the passes run on r rows side by side, (M / r, r·C), the per-feature
    vectors repeated r times: the same memory, but NumPy's inner loop then runs along 256
    numbers instead of C, and starts a sixteenth as often for 16 channels.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features, self.momentum, self.eps, self.affine = num_features, momentum, eps, affine
        if affine:
            self.weight = Parameter(ones((num_features,)))
            self.bias = Parameter(zeros((num_features,)))
        self.register_buffer("running_mean", zeros((num_features,)))
        self.register_buffer("running_var", ones((num_features,)))

    def _scale_and_shift(self) -> tuple[Any, Any]:
        """γ and β, or 1 and 0 without the affine step."""
        return (self.weight.data, self.bias.data) if self.affine else (1.0, 0.0)

    def forward(self, x: Any) -> Any:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm expects (N, {self.num_features}, ...) inputs, got shape {x.shape}")
        xp = backend.get_array_module(x)
        columns = _feature_columns(x)  # (M, C)
        m = columns.shape[0]
        self._shape = xp.moveaxis(x, 1, -1).shape
        self._batch_statistics = self.training  # backward must follow the mode forward used
        wide, r = _widened(columns)  # (M / r, r·C): every pass below runs on it
        if self.training:
            if m < 2:
                raise ValueError("BatchNorm in training needs more than one value per feature; use a batch of 2 or more, or eval()")
            mean = _folded(_column_sums(wide), r) / m  # (C,)
        else:
            mean, var = self.running_mean, self.running_var
        self._x_hat = xp.empty(wide.shape, dtype=columns.dtype)  # (M / r, r·C)
        wide_mean = _tiled(mean, r)

        def centre(start: int, stop: int) -> Any:  # x - μ, and Σ (x - μ)² over these rows
            rows = self._x_hat[start:stop]
            xp.subtract(wide[start:stop], wide_mean, out=rows)
            return xp.einsum("mc,mc->c", rows, rows) if self.training else None

        squares = parallel.over_batch(centre, wide.shape[0], wide.size)  # centred first: two passes keep the variance accurate
        if self.training:
            var = _folded(sum(squares), r) / m
            self.set_buffer("running_mean", (1 - self.momentum) * self.running_mean + self.momentum * mean)
            self.set_buffer("running_var", (1 - self.momentum) * self.running_var + self.momentum * var * (m / (m - 1)))
        self._inv_std = (1 / xp.sqrt(var + self.eps)).astype(columns.dtype)  # (C,)
        weight, bias = (_tiled(value, r) for value in self._scale_and_shift())
        inv_std = _tiled(self._inv_std, r)
        y = xp.empty(wide.shape, dtype=columns.dtype)

        def scale(start: int, stop: int) -> None:  # x̂ = (x - μ) / σ and y = γ x̂ + β
            rows = self._x_hat[start:stop]
            rows *= inv_std
            xp.multiply(rows, weight, out=y[start:stop])
            y[start:stop] += bias

        parallel.over_batch(scale, wide.shape[0], wide.size)
        return xp.moveaxis(y.reshape(self._shape), -1, 1)  # (N, C, ...), features fastest in memory

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        columns = _feature_columns(grad_output)  # (M, C)
        m = columns.shape[0]
        grad, r = _widened(columns)  # (M / r, r·C), as x̂ was kept
        ones = xp.ones(grad.shape[0], dtype=grad.dtype)

        def sums(start: int, stop: int) -> Any:  # Σ g and Σ g x̂ over these rows
            rows = grad[start:stop]
            return ones[start:stop] @ rows, xp.einsum("mc,mc->c", rows, self._x_hat[start:stop])

        partials = parallel.over_batch(sums, grad.shape[0], grad.size)
        sum_g, sum_g_x_hat = (_folded(sum(partial[i] for partial in partials), r) for i in (0, 1))  # (C,) each
        weight, _ = self._scale_and_shift()
        if self.affine:
            self.weight.grad += sum_g_x_hat
            self.bias.grad += sum_g
        scale = _tiled(weight * self._inv_std, r)  # γ / σ, (C,) repeated
        grad_input = xp.empty(grad.shape, dtype=grad.dtype)
        # dx = γ/σ (g - x̂ Σ(g x̂) / m - Σg / m) with batch statistics; running statistics are
        # constants, and dx = γ/σ g
        x_hat_share, constant_share = _tiled(sum_g_x_hat / m, r), _tiled(sum_g / m, r)

        def input_gradient(start: int, stop: int) -> None:
            rows = grad_input[start:stop]
            if self._batch_statistics:
                xp.multiply(self._x_hat[start:stop], x_hat_share, out=rows)
                xp.subtract(grad[start:stop], rows, out=rows)
                rows -= constant_share
                rows *= scale
            else:
                xp.multiply(grad[start:stop], scale, out=rows)

        parallel.over_batch(input_gradient, grad.shape[0], grad.size)
        return xp.moveaxis(grad_input.reshape(self._shape), -1, 1)  # (N, C, ...)

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps, "affine": self.affine}


class LayerNorm(Module):
    """Normalize each example over its last axis (size ``normalized_shape``); same in train and eval."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.normalized_shape, self.eps, self.affine = normalized_shape, eps, affine
        if affine:
            self.weight = Parameter(ones((normalized_shape,)))
            self.bias = Parameter(zeros((normalized_shape,)))

    def forward(self, x: Any) -> Any:
        if x.shape[-1] != self.normalized_shape:
            raise ValueError(f"LayerNorm expects a last axis of {self.normalized_shape}, got shape {x.shape}")
        xp = backend.get_array_module(x)
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        self._inv_std = 1 / xp.sqrt(var + self.eps)
        self._x_hat = (x - mean) * self._inv_std
        return self._x_hat * self.weight.data + self.bias.data if self.affine else self._x_hat

    def backward(self, grad_output: Any) -> Any:
        grad_xhat = grad_output
        if self.affine:
            flat = grad_output.reshape(-1, self.normalized_shape)
            self.weight.grad += (flat * self._x_hat.reshape(flat.shape)).sum(axis=0)
            self.bias.grad += flat.sum(axis=0)
            grad_xhat = grad_output * self.weight.data
        return _normalize_backward(grad_xhat, self._x_hat, self._inv_std, (-1,))

    def get_config(self) -> dict[str, Any]:
        return {"normalized_shape": self.normalized_shape, "eps": self.eps, "affine": self.affine}


def recalibrate_batchnorm(model: Module, inputs: Any, batch_size: int = 500) -> int:
    """Recompute every BatchNorm's running statistics for the weights the model has now.

    Running statistics average the batches of the last few steps, each taken with the weights of
    its step; when training ends at a large learning rate, or weights are averaged afterwards
    (Lookahead, SWA), they no longer match the final weights, and evaluation suffers. This runs
    ``inputs`` forward (no backward pass) through the model batch by batch with only the BatchNorm
    layers in training mode, each keeping the plain mean of the batches' means and (unbiased)
    variances, as ``torch.optim.swa_utils.update_bn`` does (Izmailov et al. 2018, "Averaging
    weights leads to wider optima and better generalization"). Momenta and modes are restored.

    Parameters
    ----------
    model : Module
    inputs : array
        Rows the model reads, e.g. un-augmented training images; at least 2.
    batch_size : int
        Rows a forward pass, >= 2 (batch statistics need two rows).

    Returns
    -------
    int
        The number of BatchNorm layers recalibrated (0 leaves the model untouched).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"batch_size must be a whole number of rows, 2 or more, got {batch_size!r}")
    rows = len(inputs)
    norms = [module for _, module in model.named_modules() if isinstance(module, BatchNorm)]
    if not norms:
        return 0
    if rows < 2:
        raise ValueError(f"recalibrating BatchNorm needs at least 2 input rows, got {rows}")
    starts = list(range(0, rows, batch_size))
    if len(starts) > 1 and rows - starts[-1] < 2:
        starts.pop()  # a last batch of one row has no variance: its row goes unused
    was_training, momenta = model.training, [norm.momentum for norm in norms]
    model.eval()
    for norm in norms:
        norm.train()
    try:
        for count, start in enumerate(starts):
            for norm in norms:
                norm.momentum = 1.0 / (count + 1)  # running = the mean over the batches so far
            model.forward(inputs[start:start + batch_size])
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        model.train(was_training)
    return len(norms)
