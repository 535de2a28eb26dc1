"""Loss functions: a scalar from predictions and targets, and its gradient with respect to the predictions.

Every loss follows one contract, which :class:`~smartmod.nn.train.Trainer` relies on::

    value = loss.forward(prediction, target, mask=None)   # a Python float
    grad = loss.backward()                                 # dL/dprediction: prediction's shape and dtype

``forward`` computes the gradient beside the value (they share most of their arithmetic) and
``backward`` hands it back. All arithmetic stays in the prediction's dtype.

Masking: ``mask`` (booleans or 0/1, the target's shape) marks the entries that count, and the
elementwise losses (all but :class:`CrossEntropyLoss`) also read a NaN target as "not labeled".
Entries that do not count add nothing to the loss and get zero gradient. ``reduction="mean"``
divides the sum by the number of entries that count (each class states its divisor exactly);
with nothing masked this is PyTorch's mean. When nothing counts, the loss is 0.0 and the gradient
zero.
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.nn import backend
from smartmod.nn.layers.activations import sigmoid

__all__ = [
    "Loss", "MSELoss", "L1Loss", "MAELoss", "HuberLoss", "HingeLoss", "BCEWithLogitsLoss", "FocalLoss", "CrossEntropyLoss",
]


class Loss:
    """Base class: input checks, masks and the reduction that every loss shares.

    Parameters
    ----------
    reduction : {"mean", "sum"}
        ``"mean"`` divides the summed loss (and its gradient) by the count each subclass
        documents; ``"sum"`` does not divide.
    """

    def __init__(self, reduction: str = "mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{self._name}: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self._grad: Any = None

    def forward(self, prediction: Any, target: Any, mask: Any = None) -> float:
        """The loss of ``prediction`` against ``target``; keeps the gradient for :meth:`backward`.

        Parameters
        ----------
        prediction : float array; shape as the subclass states
        target : array; shape as the subclass states
        mask : bool or 0/1 array of the target's shape, optional
            False (0) where an entry (a row, for class targets) must not count.
        """
        raise NotImplementedError(f"{self._name} does not implement forward")

    def backward(self) -> Any:
        """dL/dprediction for the last ``forward``: an array of the prediction's shape and dtype."""
        if self._grad is None:
            raise RuntimeError(f"{self._name}.backward() needs a forward() call first")
        return self._grad

    def __call__(self, prediction: Any, target: Any, mask: Any = None) -> float:
        return self.forward(prediction, target, mask)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-ready data."""
        return {"reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Loss":
        """Rebuild a loss from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{self._name}({', '.join(f'{key}={value!r}' for key, value in self.get_config().items())})"

    # -- steps shared by the subclasses -----------------------------------------------------

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _floating(self, prediction: Any) -> Any:
        prediction = backend.get_array_module(prediction).asarray(prediction)
        if prediction.dtype.kind != "f":
            raise TypeError(f"{self._name}: prediction must be a floating point array, got dtype {prediction.dtype}")
        return prediction

    def _explicit_mask(self, mask: Any, shape: tuple[int, ...], xp: Any) -> Any:
        """``mask`` as booleans of ``shape``; all True when no mask is given."""
        if mask is None:
            return xp.ones(shape, dtype=bool)
        mask = xp.asarray(mask)
        if mask.shape != shape:
            raise ValueError(f"{self._name}: mask shape {mask.shape} and target shape {shape} differ")
        if mask.dtype != bool:
            is_binary = (mask == 0) | (mask == 1)
            if not bool(is_binary.all()):
                raise ValueError(f"{self._name}: mask must hold booleans or 0/1, got {_examples(mask, ~is_binary)}")
            mask = mask != 0
        return mask

    def _reduce(self, total: Any, grad: Any, count: float) -> float:
        """Keep the gradient for ``backward`` and return the loss; ``"mean"`` divides both by ``count``."""
        if self.reduction == "mean":
            if count == 0:  # nothing counts: no loss and no gradient, rather than 0/0
                total, grad = 0.0, backend.get_array_module(grad).zeros_like(grad)
            else:
                total, grad = total / count, grad / count
        self._grad = grad
        return float(total)


class _ElementwiseLoss(Loss):
    """A loss summed over (prediction, target) pairs; subclasses give ``_pointwise``.

    Shapes: ``prediction`` any shape (float); ``target`` the same shape, NaN where not labeled;
    ``mask`` the same shape. ``"mean"`` divides by the number of labeled entries (target not
    NaN and mask true), which is ``prediction.size`` when nothing is masked.
    """

    def forward(self, prediction: Any, target: Any, mask: Any = None) -> float:
        prediction = self._floating(prediction)
        xp = backend.get_array_module(prediction)
        target = xp.asarray(target, dtype=prediction.dtype)
        if target.shape != prediction.shape:
            raise ValueError(f"{self._name}: prediction shape {prediction.shape} and target shape {target.shape} differ")
        labeled = ~xp.isnan(target) & self._explicit_mask(mask, target.shape, xp)
        target = xp.where(labeled, target, 0)  # a placeholder label keeps unlabeled entries finite
        loss, grad = self._pointwise(prediction, target)  # each of prediction's shape
        total = xp.where(labeled, loss, 0).sum()
        return self._reduce(total, xp.where(labeled, grad, 0), float(labeled.sum()))

    def _pointwise(self, prediction: Any, target: Any) -> tuple[Any, Any]:
        """The loss of each entry and its derivative with respect to the prediction."""
        raise NotImplementedError(f"{self._name} does not implement _pointwise")

    def _check_targets(self, target: Any, valid: Any, expected: str) -> None:
        if not bool(valid.all()):
            raise ValueError(f"{self._name}: targets must be {expected}, got {_examples(target, ~valid)}")


class MSELoss(_ElementwiseLoss):
    """Mean squared error: ℓ = (prediction - target)², dℓ/dprediction = 2 (prediction - target)."""

    def _pointwise(self, prediction: Any, target: Any) -> tuple[Any, Any]:
        difference = prediction - target
        return difference * difference, 2 * difference


class L1Loss(_ElementwiseLoss):
    """Mean absolute error: ℓ = |prediction - target|, dℓ/dprediction = sign(prediction - target) (0 at 0)."""

    def _pointwise(self, prediction: Any, target: Any) -> tuple[Any, Any]:
        difference = prediction - target
        xp = backend.get_array_module(difference)
        return xp.abs(difference), xp.sign(difference)


MAELoss = L1Loss


class HuberLoss(_ElementwiseLoss):
    """Huber loss (Huber 1964), as ``torch.nn.HuberLoss``: quadratic near the target, linear beyond.

    With d = prediction - target: ℓ = d²/2 for |d| < δ, δ (|d| - δ/2) otherwise;
    dℓ/dd = clip(d, -δ, δ).

    Parameters
    ----------
    delta : float
        δ > 0, where the quadratic part meets the linear one.
    reduction : {"mean", "sum"}
    """

    def __init__(self, delta: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def _pointwise(self, prediction: Any, target: Any) -> tuple[Any, Any]:
        xp = backend.get_array_module(prediction)
        difference = prediction - target
        distance = xp.abs(difference)
        loss = xp.where(distance < self.delta, 0.5 * difference * difference, self.delta * (distance - 0.5 * self.delta))
        return loss, xp.clip(difference, -self.delta, self.delta)

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta, **super().get_config()}


class HingeLoss(_ElementwiseLoss):
    """Binary hinge loss (the SVM loss) on raw scores f: ℓ = max(0, margin - y f), y = 2 target - 1.

    Targets are 0 or 1 and map to y = -1 or +1. dℓ/df = -y where margin - y f > 0, else 0; at the
    kink margin = y f the subgradient 0 is taken.

    Parameters
    ----------
    margin : float
        How far on the right side of 0 a score must be to cost nothing.
    reduction : {"mean", "sum"}
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = float(margin)

    def _pointwise(self, prediction: Any, target: Any) -> tuple[Any, Any]:
        xp = backend.get_array_module(prediction)
        self._check_targets(target, (target == 0) | (target == 1), "0 or 1 (NaN marks a missing label)")
        sign = 2 * target - 1  # {0, 1} -> {-1, +1}
        slack = self.margin - sign * prediction
        return xp.maximum(slack, 0), xp.where(slack > 0, -sign, 0)

    def get_config(self) -> dict[str, Any]:
        return {"margin": self.margin, **super().get_config()}


class BCEWithLogitsLoss(_ElementwiseLoss):
    """Binary cross-entropy on logits, fused with the sigmoid, as ``torch.nn.BCEWithLogitsLoss``.

    For a logit x, a label y ∈ [0, 1], and the positive weight p and weight w of its column:

        ℓ = w [p y softplus(-x) + (1 - y) softplus(x)],   softplus(x) = log(1 + eˣ),
        dℓ/dx = w [(1 - y) σ(x) - p y σ(-x)].

    With p = w = 1 this is max(x, 0) - x y + log1p(e^-|x|); exp is only taken of -|x|, so
    logits of any size are safe.

    Parameters
    ----------
    pos_weight : sequence of float, length C, optional
        p for each column (the last axis of the prediction); p > 1 trades precision for recall.
    weight : sequence of float, length C, optional
        w for each column (class weights).
    reduction : {"mean", "sum"}
        ``"mean"`` divides the weighted sum by the number of labeled entries (target not NaN and
        mask true): weights do not enter the divisor, which is ``prediction.size`` when nothing
        is masked, exactly as PyTorch.

    Shapes: ``prediction`` (..., C) logits; ``target`` the same shape, in [0, 1] or NaN for "not
    labeled"; ``mask`` the same shape.
    """

    def __init__(self, pos_weight: Any = None, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.pos_weight = _weight_list(self._name, "pos_weight", pos_weight)
        self.weight = _weight_list(self._name, "weight", weight)

    def _pointwise(self, logits: Any, target: Any) -> tuple[Any, Any]:
        self._check_targets(target, (target >= 0) & (target <= 1), "in [0, 1] (NaN marks a missing label)")
        pos_weight = _per_column(self._name, "pos_weight", self.pos_weight, logits)
        weight = _per_column(self._name, "weight", self.weight, logits)
        minus_log_p, minus_log_not_p = _negative_log_sigmoids(logits)
        loss = weight * (pos_weight * target * minus_log_p + (1 - target) * minus_log_not_p)
        grad = weight * ((1 - target) * sigmoid(logits) - pos_weight * target * sigmoid(-logits))
        return loss, grad

    def get_config(self) -> dict[str, Any]:
        return {"pos_weight": self.pos_weight, "weight": self.weight, **super().get_config()}


class FocalLoss(_ElementwiseLoss):
    """Binary focal loss on logits (Lin et al. 2017), as ``torchvision.ops.sigmoid_focal_loss``.

    With p = σ(x), p_t = p y + (1 - p)(1 - y) and α_t = α y + (1 - α)(1 - y):

        ℓ = α_t (1 - p_t)^γ BCE(x, y),
        dℓ/dx = α_t [(p - y)(1 - p_t)^γ + γ (1 - p_t)^(γ-1) p (1 - p)(1 - 2y) BCE(x, y)].

    1 - p_t is computed as σ(x)(1 - y) + σ(-x) y, which stays accurate when p saturates, and
    BCE as in :class:`BCEWithLogitsLoss`. Masks, NaN targets and the divisor are as there.

    Parameters
    ----------
    alpha : float in [0, 1], or None or -1
        Weight of the positive class; None or -1 switches the weighting off (α_t = 1).
    gamma : float
        γ ≥ 0, how strongly well-classified entries are discounted; γ = 0 is plain BCE.
    reduction : {"mean", "sum"}

    Shapes: ``prediction`` any shape (logits); ``target`` and ``mask`` the same shape.
    """

    def __init__(self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean"):
        super().__init__(reduction)
        if alpha is not None and alpha != -1 and not 0 <= alpha <= 1:
            raise ValueError(f"FocalLoss: alpha must lie in [0, 1], or be None or -1 to disable it; got {alpha!r}")
        if not gamma >= 0:
            raise ValueError(f"FocalLoss: gamma must be non-negative, got {gamma!r}")
        self.alpha = None if alpha is None else float(alpha)
        self.gamma = float(gamma)

    def _pointwise(self, logits: Any, target: Any) -> tuple[Any, Any]:
        xp = backend.get_array_module(logits)
        self._check_targets(target, (target >= 0) & (target <= 1), "in [0, 1] (NaN marks a missing label)")
        minus_log_p, minus_log_not_p = _negative_log_sigmoids(logits)
        cross_entropy = target * minus_log_p + (1 - target) * minus_log_not_p
        p, not_p = sigmoid(logits), sigmoid(-logits)
        one_minus_p_t = p * (1 - target) + not_p * target
        modulation = one_minus_p_t**self.gamma
        # d(1 - p_t)^γ/dx = γ (1 - p_t)^(γ-1) p (1 - p)(1 - 2y). 1 - p_t is 0 only once p has
        # saturated, where p (1 - p) is 0 as well: the term is then 0, without evaluating 0^(γ-1).
        positive = one_minus_p_t > 0
        slope = xp.where(positive, self.gamma * xp.where(positive, one_minus_p_t, 1) ** (self.gamma - 1), 0)
        modulation_grad = slope * p * not_p * (1 - 2 * target)
        loss = cross_entropy * modulation
        grad = (p - target) * modulation + cross_entropy * modulation_grad
        if self.alpha is not None and self.alpha >= 0:
            alpha_t = self.alpha * target + (1 - self.alpha) * (1 - target)
            loss, grad = alpha_t * loss, alpha_t * grad
        return loss, grad

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "gamma": self.gamma, **super().get_config()}


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits with class targets, as ``torch.nn.functional.cross_entropy``.

    For row i with logits z_i, target class t_i, class weights w and label smoothing ε
    (Szegedy et al. 2016), the smoothed target is q_ic = (1 - ε) [c = t_i] + ε / C and

        ℓ_i = -Σ_c w_c q_ic log softmax(z_i)_c,
        ∂ℓ_i/∂z_ic = softmax(z_i)_c Σ_k w_k q_ik - w_c q_ic     (softmax - q when w = 1).

    The log-softmax subtracts each row's maximum first, so no exp overflows.

    Parameters
    ----------
    label_smoothing : float
        ε in [0, 1].
    weight : sequence of float, length C, optional
        w, the weight of each class.
    reduction : {"mean", "sum"}
        ``"mean"`` divides by Σ_i w_{t_i} over the unmasked rows, which is their number N
        without weights: PyTorch's weighted mean. A zero divisor gives loss 0.0 and zero gradient.

    Shapes: ``prediction`` (N, C) logits; ``target`` (N,) integer classes in [0, C);
    ``mask`` (N,), false for rows to ignore.
    """

    def __init__(self, label_smoothing: float = 0.0, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.weight = _weight_list(self._name, "weight", weight)

    def forward(self, prediction: Any, target: Any, mask: Any = None) -> float:
        logits = self._floating(prediction)
        xp = backend.get_array_module(logits)
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: prediction must be logits of shape (N, C), got shape {logits.shape}")
        rows, classes = logits.shape
        target = xp.asarray(target)
        if target.dtype.kind not in "iu":
            raise TypeError(f"CrossEntropyLoss: target must hold integer class indices, got dtype {target.dtype}")
        if target.shape != (rows,):
            raise ValueError(
                f"CrossEntropyLoss: target shape {target.shape} does not fit prediction shape {logits.shape}; "
                f"expected ({rows},)"
            )
        kept = self._explicit_mask(mask, (rows,), xp)
        target = xp.where(kept, target, 0)  # masked rows may hold any placeholder class
        out_of_range = (target < 0) | (target >= classes)
        if bool(out_of_range.any()):
            raise ValueError(
                f"CrossEntropyLoss: class targets must lie in [0, {classes}) for {classes} logit columns, "
                f"got {_examples(target, out_of_range)}"
            )
        class_weight = _per_column(self._name, "weight", self.weight, logits)

        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), each row's maximum is 0
        log_softmax = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
        smoothed = xp.full_like(logits, self.label_smoothing / classes)  # q, (N, C)
        smoothed[xp.arange(rows), target] += 1 - self.label_smoothing
        weighted = smoothed * class_weight * kept[:, None]  # w_c q_ic, zero on masked rows, (N, C)
        total = -(weighted * log_softmax).sum()
        grad = xp.exp(log_softmax) * weighted.sum(axis=1, keepdims=True) - weighted  # (N, C)
        return self._reduce(total, grad, float((class_weight[target] * kept).sum()))

    def get_config(self) -> dict[str, Any]:
        return {"label_smoothing": self.label_smoothing, "weight": self.weight, **super().get_config()}


def _negative_log_sigmoids(logits: Any) -> tuple[Any, Any]:
    """(-log σ(x), -log(1 - σ(x))) = (softplus(-x), softplus(x)), with exp only of -|x|."""
    xp = backend.get_array_module(logits)
    shared = xp.log1p(xp.exp(-xp.abs(logits)))
    return xp.maximum(-logits, 0) + shared, xp.maximum(logits, 0) + shared


def _weight_list(owner: str, name: str, values: Any) -> list[float] | None:
    """Per-column weights as a JSON-ready list, checked at construction; None stays None."""
    if values is None:
        return None
    array = numpy.asarray(backend.to_numpy(values), dtype=numpy.float64)
    if array.ndim != 1 or array.size == 0 or not numpy.all(numpy.isfinite(array) & (array >= 0)):
        raise ValueError(f"{owner}: {name} must be a 1-D sequence of non-negative numbers, one per column; got {values!r}")
    return [float(value) for value in array]


def _per_column(owner: str, name: str, values: list[float] | None, prediction: Any) -> Any:
    """Weights over the prediction's last axis, (C,) in its dtype; ones when not given."""
    xp = backend.get_array_module(prediction)
    columns = prediction.shape[-1:]  # (C,), or () for a 0-d prediction
    if values is None:
        return xp.ones(columns, dtype=prediction.dtype)
    if (len(values),) != columns:
        raise ValueError(
            f"{owner}: {name} has {len(values)} entries, one per column, but the prediction has shape "
            f"{prediction.shape}: give as many as its last axis is long"
        )
    return xp.asarray(values, dtype=prediction.dtype)


def _examples(values: Any, where: Any, limit: int = 5) -> str:
    """A few of ``values[where]`` for an error message."""
    found = backend.to_numpy(values[where]).tolist()
    return f"{found[:limit]}{' ...' if len(found) > limit else ''}"
