"""Losses and penalties: central differences in float64, PyTorch in float32, and the edge cases.

Every loss appears once in ``CASES``: a hypothesis strategy drawing its hyperparameters, shapes
(batch of one included), values (logits up to ±50, exact zeros), NaN labels and masks, next to
the same loss written with PyTorch. The gradient check and the PyTorch comparison both run over
that registry; the tests after it pin down behaviour one case at a time.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartmod.nn.gradcheck import numerical_gradient
from smartmod.nn.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    FocalLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    Loss,
    MAELoss,
    MSELoss,
)
from smartmod.nn.module import Parameter
from smartmod.nn.penalties import L1Penalty, L2Penalty

# float64 central differences with step h = 1e-6 agree with a correct gradient to ~1e-9, plus the
# rounding of f itself, which costs the difference quotient up to about ε_machine |f| / h.
STEP = 1e-6
GRADCHECK_TOLERANCE = {"rtol": 1e-6, "atol": 1e-8}
# float32 against PyTorch float32: a few roundings of ~6e-8 each, summed over at most 64 entries.
TORCH_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def assert_close(mine: Any, theirs: Any, what: str, rtol: float, atol: float) -> None:
    mine, theirs = numpy.asarray(mine, dtype=numpy.float64), numpy.asarray(theirs, dtype=numpy.float64)
    assert mine.shape == theirs.shape, f"{what}: shape mine {mine.shape} / theirs {theirs.shape}"
    assert numpy.isclose(mine, theirs, rtol=rtol, atol=atol).all(), (
        f"{what} differs beyond rtol {rtol}, atol {atol}: mine / theirs\n{mine}\n/\n{theirs}"
    )


def assert_gradient_close(analytic: Any, f: Callable[[], float], array: numpy.ndarray, what: str) -> None:
    """``analytic`` against central differences of ``f`` with respect to ``array`` (float64)."""
    numeric = numerical_gradient(f, array, eps=STEP)
    rounding = numpy.finfo(numpy.float64).eps * abs(f()) / STEP
    assert_close(analytic, numeric, f"{what} (analytic / numerical)", GRADCHECK_TOLERANCE["rtol"],
                 GRADCHECK_TOLERANCE["atol"] + rounding)


def check_gradient(loss: Loss, prediction: numpy.ndarray, target: Any, mask: Any = None) -> None:
    """backward() after forward() against central differences of forward()."""
    loss.forward(prediction, target, mask)
    analytic = loss.backward().copy()
    assert_gradient_close(analytic, lambda: loss.forward(prediction, target, mask), prediction, f"{loss!r} gradient")


# -- strategies ---------------------------------------------------------------------------------


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_subnormal=False)


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    """Magnitudes in [low, high] of either sign: central differences need distance from a kink."""
    return floats(low, high) | floats(-high, -low)


SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
LOGITS = st.sampled_from([-50.0, 0.0, 50.0]) | floats(-50, 50)
# Soft labels stay in [0.05, 0.95]: PyTorch's float32 BCE computes (1 - y) x + max(-x, 0), which for
# x = -50 and a label of 1e-7 cancels to ±ulp(50) = 4e-6 while the true loss is 5e-6.
BINARY_TARGETS = st.sampled_from([0.0, 1.0]) | floats(0.05, 0.95)
REDUCTIONS = st.sampled_from(["mean", "sum"])


def column_weights(columns: int) -> st.SearchStrategy[list[float] | None]:
    return st.none() | hnp.arrays(numpy.float64, columns, elements=floats(0.1, 3)).map(lambda a: a.tolist())


@st.composite
def with_gaps(draw, target: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray | None]:
    """Some targets NaN (not labeled) and, sometimes, an explicit mask."""
    missing = draw(hnp.arrays(bool, target.shape))
    mask = draw(st.none() | hnp.arrays(bool, target.shape))
    return numpy.where(missing, numpy.nan, target), mask


@st.composite
def regression_batches(draw, losses: st.SearchStrategy[Loss], offsets: Callable[[Loss], st.SearchStrategy[float]]):
    """prediction = target + offset, the offset drawn away from the loss's kinks."""
    loss = draw(losses)
    shape = draw(SHAPES)
    target = draw(hnp.arrays(numpy.float64, shape, elements=floats(-10, 10)))
    prediction = target + draw(hnp.arrays(numpy.float64, shape, elements=offsets(loss)))
    target, mask = draw(with_gaps(target))
    return loss, prediction, target, mask


@st.composite
def hinge_batches(draw):
    """Scores f = y (margin - slack): the slack margin - y f is drawn away from the kink at 0."""
    loss = draw(st.builds(HingeLoss, margin=st.sampled_from([0.5, 1.0, 2.0]), reduction=REDUCTIONS))
    shape = draw(SHAPES)
    target = draw(hnp.arrays(numpy.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    slack = draw(hnp.arrays(numpy.float64, shape, elements=away_from_zero(0.01, 3)))
    prediction = (2 * target - 1) * (loss.margin - slack)
    target, mask = draw(with_gaps(target))
    return loss, prediction, target, mask


@st.composite
def binary_batches(draw, make_loss: Callable[[int], st.SearchStrategy[Loss]]):
    """Logits with saturated and zero entries, labels in [0, 1]; ``make_loss`` takes the column count."""
    shape = draw(SHAPES)
    loss = draw(make_loss(shape[-1]))
    prediction = draw(hnp.arrays(numpy.float64, shape, elements=LOGITS))
    target, mask = draw(with_gaps(draw(hnp.arrays(numpy.float64, shape, elements=BINARY_TARGETS))))
    return loss, prediction, target, mask


@st.composite
def classification_batches(draw):
    rows, classes = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    loss = draw(st.builds(
        CrossEntropyLoss,
        label_smoothing=st.sampled_from([0.0, 0.1, 0.35]),
        weight=column_weights(classes),
        reduction=REDUCTIONS,
    ))
    prediction = draw(hnp.arrays(numpy.float64, (rows, classes), elements=LOGITS))
    target = draw(hnp.arrays(numpy.int64, rows, elements=st.integers(0, classes - 1)))
    mask = draw(st.none() | hnp.arrays(bool, rows))
    return loss, prediction, target, mask


# -- the same losses in PyTorch, on the entries that count only ----------------------------------


def torch_reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    return values.mean() if reduction == "mean" else values.sum()


def torch_columns(values: list[float] | None, prediction: torch.Tensor, kept: torch.Tensor) -> torch.Tensor | None:
    """Per-column weights broadcast to the prediction, then restricted to the kept entries."""
    return None if values is None else torch.tensor(values, dtype=prediction.dtype).expand_as(prediction)[kept]


def torch_hinge(loss: HingeLoss, prediction, target, kept):
    sign = 2 * target[kept] - 1
    return torch_reduce(torch.clamp(loss.margin - sign * prediction[kept], min=0), loss.reduction)


def torch_bce(loss: BCEWithLogitsLoss, prediction, target, kept):
    return F.binary_cross_entropy_with_logits(
        prediction[kept], target[kept],
        weight=torch_columns(loss.weight, prediction, kept),
        pos_weight=torch_columns(loss.pos_weight, prediction, kept),
        reduction=loss.reduction,
    )


def torch_focal(loss: FocalLoss, prediction, target, kept):
    """torchvision.ops.sigmoid_focal_loss, line for line."""
    x, y = prediction[kept], target[kept]
    p = torch.sigmoid(x)
    ce_loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    values = ce_loss * ((1 - p_t) ** loss.gamma)
    if loss.alpha is not None and loss.alpha >= 0:
        values = (loss.alpha * y + (1 - loss.alpha) * (1 - y)) * values
    return torch_reduce(values, loss.reduction)


def torch_cross_entropy(loss: CrossEntropyLoss, prediction, target, kept):
    weight = None if loss.weight is None else torch.tensor(loss.weight, dtype=prediction.dtype)
    return F.cross_entropy(
        prediction[kept], target[kept], weight=weight, label_smoothing=loss.label_smoothing, reduction=loss.reduction
    )


@dataclass(frozen=True)
class Case:
    """A loss: how to draw (loss, prediction, target, mask) in float64, and PyTorch's version of it."""

    name: str
    batches: st.SearchStrategy
    torch_loss: Callable[..., torch.Tensor]  # (loss, prediction, target, kept) -> scalar tensor


CASES = [
    Case(
        "MSELoss",
        regression_batches(st.builds(MSELoss, reduction=REDUCTIONS), lambda loss: floats(-5, 5)),
        lambda loss, x, y, kept: F.mse_loss(x[kept], y[kept], reduction=loss.reduction),
    ),
    Case(
        "L1Loss",
        regression_batches(st.builds(L1Loss, reduction=REDUCTIONS), lambda loss: away_from_zero(0.01, 3)),
        lambda loss, x, y, kept: F.l1_loss(x[kept], y[kept], reduction=loss.reduction),
    ),
    Case(
        "HuberLoss",
        regression_batches(
            st.builds(HuberLoss, delta=st.sampled_from([0.5, 1.0, 2.0]), reduction=REDUCTIONS),
            lambda loss: (floats(0.01, 0.99) | floats(1.01, 3)).map(lambda u: u * loss.delta)
            | (floats(0.01, 0.99) | floats(1.01, 3)).map(lambda u: -u * loss.delta),
        ),
        lambda loss, x, y, kept: F.huber_loss(x[kept], y[kept], reduction=loss.reduction, delta=loss.delta),
    ),
    Case("HingeLoss", hinge_batches(), torch_hinge),
    Case(
        "BCEWithLogitsLoss",
        binary_batches(lambda columns: st.builds(
            BCEWithLogitsLoss, pos_weight=column_weights(columns), weight=column_weights(columns), reduction=REDUCTIONS
        )),
        torch_bce,
    ),
    Case(
        "FocalLoss",
        binary_batches(lambda columns: st.builds(
            FocalLoss,
            alpha=st.sampled_from([0.25, 0.5, 1.0, None, -1]),
            # no γ in (0, 1): there torchvision's formula has a NaN gradient once 1 - p_t rounds to 0
            # (see test_focal_loss_is_finite_when_the_sigmoid_saturates for ours)
            gamma=st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0]),
            reduction=REDUCTIONS,
        )),
        torch_focal,
    ),
    Case("CrossEntropyLoss", classification_batches(), torch_cross_entropy),
]


def in_float32(array: numpy.ndarray) -> numpy.ndarray:
    return array.astype(numpy.float32) if array.dtype.kind == "f" else array


def counted(target: numpy.ndarray, mask: numpy.ndarray | None) -> numpy.ndarray:
    """The entries (rows, for class targets) that count: labeled and not masked out."""
    labeled = ~numpy.isnan(target) if target.dtype.kind == "f" else numpy.ones(target.shape, dtype=bool)
    return labeled if mask is None else labeled & mask


# -- the registry: central differences and PyTorch ---------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@given(data=st.data())
def test_gradient_matches_central_differences(case, data):
    loss, prediction, target, mask = data.draw(case.batches)
    check_gradient(loss, prediction, target, mask)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@given(data=st.data())
def test_value_and_gradient_match_pytorch_in_float32(case, data):
    loss, prediction, target, mask = data.draw(case.batches)
    prediction, target = in_float32(prediction), in_float32(target)
    kept = counted(target, mask)
    assume(kept.any())  # PyTorch's mean of nothing is NaN; our 0.0 is tested below
    mine = loss.forward(prediction, target, mask)
    grad = loss.backward()

    x = torch.tensor(prediction, requires_grad=True)
    theirs = case.torch_loss(loss, x, torch.tensor(target), torch.tensor(kept))
    theirs.backward()
    assert_close(mine, theirs.item(), f"{loss!r} value", **TORCH_TOLERANCE)
    assert_close(grad, x.grad.numpy(), f"{loss!r} gradient", **TORCH_TOLERANCE)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@settings(max_examples=5)
@given(data=st.data())
def test_gradient_keeps_the_prediction_dtype(case, data):
    loss, prediction, target, mask = data.draw(case.batches)
    for dtype in (numpy.float32, numpy.float64):
        value = loss.forward(prediction.astype(dtype), target, mask)
        assert type(value) is float
        assert loss.backward().dtype == dtype, f"{loss!r}: {dtype.__name__} prediction, {loss.backward().dtype} gradient"
        assert loss.backward().shape == prediction.shape


# -- edge cases, one at a time -------------------------------------------------------------------

SATURATED = numpy.array([[50.0, -50.0, 0.0], [0.0, 0.0, 0.0], [-50.0, 50.0, 50.0]])  # (3, 3), a zero row
BINARY_LABELS = numpy.array([[1.0, 1.0, 0.0], [0.0, 1.0, numpy.nan], [0.0, 0.0, 1.0]])
CLASSES = numpy.array([0, 2, 1])


@pytest.mark.parametrize("loss, target, mask", [
    pytest.param(BCEWithLogitsLoss(pos_weight=[3.0, 0.5, 1.0], weight=[1.0, 2.0, 0.5]), BINARY_LABELS, None, id="bce-weights"),
    pytest.param(BCEWithLogitsLoss(), numpy.full((3, 3), numpy.nan), None, id="bce-all-nan"),
    pytest.param(FocalLoss(alpha=0.25, gamma=2.0), BINARY_LABELS, None, id="focal"),
    pytest.param(FocalLoss(alpha=0.5, gamma=0.5), BINARY_LABELS, None, id="focal-gamma-half"),
    pytest.param(FocalLoss(alpha=None, gamma=0.5), BINARY_LABELS, numpy.zeros((3, 3), dtype=bool), id="focal-all-masked"),
    pytest.param(CrossEntropyLoss(label_smoothing=0.1, weight=[1.0, 2.0, 0.5]), CLASSES, None, id="ce-smoothing-weights"),
    pytest.param(CrossEntropyLoss(), CLASSES, numpy.array([True, False, True]), id="ce-masked-row"),
    pytest.param(CrossEntropyLoss(label_smoothing=0.2), CLASSES, numpy.zeros(3, dtype=bool), id="ce-all-masked"),
])
def test_saturated_and_zero_logits_pass_the_gradient_check(loss, target, mask):
    check_gradient(loss, SATURATED.copy(), target, mask)


@pytest.mark.parametrize("loss, target, mask", [
    (MSELoss(), numpy.ones((2, 3)), numpy.zeros((2, 3))),
    (BCEWithLogitsLoss(pos_weight=[2.0, 2.0, 2.0]), numpy.full((2, 3), numpy.nan), None),
    (FocalLoss(), numpy.array([[1.0, numpy.nan, 0.0], [numpy.nan, 1.0, 1.0]]), numpy.array([[0, 1, 0], [1, 0, 0]])),
    (CrossEntropyLoss(weight=[1.0, 1.0, 1.0]), numpy.array([0, 1]), numpy.array([False, False])),
], ids=["mse", "bce", "focal", "cross-entropy"])
def test_nothing_labeled_gives_zero_loss_and_zero_gradient_without_warnings(loss, target, mask):
    prediction = numpy.array([[0.5, -2.0, 3.0], [1.0, 0.0, -1.0]], dtype=numpy.float32)
    with warnings.catch_warnings(), numpy.errstate(divide="raise", invalid="raise", over="raise"):
        warnings.simplefilter("error")
        value = loss.forward(prediction, target, mask)
    assert value == 0.0
    numpy.testing.assert_array_equal(loss.backward(), numpy.zeros_like(prediction))


def test_nan_targets_and_a_mask_select_the_same_entries():
    prediction = numpy.array([[2.0, -1.0], [0.5, 3.0]])
    labels = numpy.array([[1.0, 0.0], [1.0, 1.0]])
    mask = numpy.array([[True, False], [True, True]])
    loss = BCEWithLogitsLoss(pos_weight=[2.0, 1.0])
    with_nan = loss.forward(prediction, numpy.where(mask, labels, numpy.nan))
    nan_grad = loss.backward()
    assert loss.forward(prediction, labels, mask) == with_nan
    numpy.testing.assert_array_equal(loss.backward(), nan_grad)
    assert nan_grad[0, 1] == 0.0 and with_nan != loss.forward(prediction, labels)


def test_bce_divides_by_the_labeled_count_not_by_the_weights():
    prediction, labels = numpy.zeros((2, 2)), numpy.array([[1.0, numpy.nan], [0.0, numpy.nan]])
    plain = BCEWithLogitsLoss().forward(prediction, labels)
    weighted = BCEWithLogitsLoss(weight=[3.0, 1.0]).forward(prediction, labels)
    assert plain == pytest.approx(numpy.log(2), rel=1e-12)  # two labeled entries of log 2, divided by 2
    assert weighted == pytest.approx(3 * numpy.log(2), rel=1e-12)


def test_cross_entropy_of_a_zero_row_is_log_of_the_class_count():
    loss = CrossEntropyLoss()
    assert loss.forward(numpy.zeros((1, 4)), numpy.array([2])) == pytest.approx(numpy.log(4), rel=1e-12)
    numpy.testing.assert_allclose(loss.backward(), [[0.25, 0.25, -0.75, 0.25]], rtol=1e-12)


def test_hinge_subgradient_at_the_kink_is_zero():
    loss = HingeLoss(margin=1.0)
    prediction, target = numpy.array([1.0, -1.0, 0.5]), numpy.array([1.0, 0.0, 1.0])  # y f = 1, 1, 0.5
    assert loss.forward(prediction, target) == pytest.approx(0.5 / 3)
    numpy.testing.assert_array_equal(loss.backward(), [0.0, 0.0, -1 / 3])


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_focal_loss_is_finite_when_the_sigmoid_saturates(dtype, gamma):
    prediction = numpy.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype)
    target = numpy.array([1.0, 0.0, 0.0, 1.0])
    loss = FocalLoss(alpha=0.25, gamma=gamma, reduction="sum")
    with numpy.errstate(divide="raise", invalid="raise", over="raise"):
        value = loss.forward(prediction, target)
    assert value == pytest.approx(0.75 * 1000 + 0.25 * 1000, rel=1e-6)  # only the two wrong answers cost
    numpy.testing.assert_allclose(loss.backward(), [0.0, 0.0, 0.75, -0.25], rtol=1e-6)


def test_mae_is_another_name_for_l1():
    assert MAELoss is L1Loss


@pytest.mark.parametrize("loss", [
    MSELoss(reduction="sum"),
    L1Loss(),
    HuberLoss(delta=0.3, reduction="sum"),
    HingeLoss(margin=2.0),
    BCEWithLogitsLoss(pos_weight=[2.0, 0.5], weight=[1.0, 3.0], reduction="sum"),
    FocalLoss(alpha=None, gamma=1.5),
    FocalLoss(alpha=-1, gamma=0.0, reduction="sum"),
    CrossEntropyLoss(label_smoothing=0.1, weight=[1.0, 2.0], reduction="sum"),
    L1Penalty(0.01),
    L2Penalty(0.5),
], ids=repr)
def test_config_round_trips_through_json(loss):
    rebuilt = type(loss).from_config(json.loads(json.dumps(loss.get_config())))
    assert vars(rebuilt) == vars(loss)


# -- errors that say what was expected and what arrived ------------------------------------------


def test_shape_mismatch_names_both_shapes():
    message = "BCEWithLogitsLoss: prediction shape (4, 6) and target shape (4, 5) differ"
    with pytest.raises(ValueError, match=re.escape(message)):
        BCEWithLogitsLoss().forward(numpy.zeros((4, 6)), numpy.zeros((4, 5)))


@pytest.mark.parametrize("call, error, message", [
    (lambda: MSELoss().forward(numpy.zeros(3), numpy.zeros(3), numpy.ones(4)), ValueError,
     "MSELoss: mask shape (4,) and target shape (3,) differ"),
    (lambda: L1Loss().forward(numpy.zeros(3), numpy.zeros(3), numpy.array([1, 2, 0])), ValueError,
     "L1Loss: mask must hold booleans or 0/1, got [2]"),
    (lambda: MSELoss().forward(numpy.zeros(3, dtype=numpy.int64), numpy.zeros(3)), TypeError,
     "MSELoss: prediction must be a floating point array, got dtype int64"),
    (lambda: BCEWithLogitsLoss(pos_weight=[1.0, 2.0, 3.0]).forward(numpy.zeros((4, 5)), numpy.zeros((4, 5))), ValueError,
     "BCEWithLogitsLoss: pos_weight has 3 entries, one per column, but the prediction has shape (4, 5)"),
    (lambda: BCEWithLogitsLoss().forward(numpy.zeros(2), numpy.array([1.0, 1.5])), ValueError,
     "BCEWithLogitsLoss: targets must be in [0, 1] (NaN marks a missing label), got [1.5]"),
    (lambda: HingeLoss().forward(numpy.zeros(2), numpy.array([-1.0, 1.0])), ValueError,
     "HingeLoss: targets must be 0 or 1 (NaN marks a missing label), got [-1.0]"),
    (lambda: CrossEntropyLoss().forward(numpy.zeros((2, 3)), numpy.array([0, 3])), ValueError,
     "CrossEntropyLoss: class targets must lie in [0, 3) for 3 logit columns, got [3]"),
    (lambda: CrossEntropyLoss().forward(numpy.zeros((2, 3)), numpy.array([-1, 1])), ValueError,
     "CrossEntropyLoss: class targets must lie in [0, 3) for 3 logit columns, got [-1]"),
    (lambda: CrossEntropyLoss().forward(numpy.zeros((2, 3)), numpy.array([0.0, 1.0])), TypeError,
     "CrossEntropyLoss: target must hold integer class indices, got dtype float64"),
    (lambda: CrossEntropyLoss().forward(numpy.zeros((2, 3)), numpy.array([0, 1, 2])), ValueError,
     "CrossEntropyLoss: target shape (3,) does not fit prediction shape (2, 3); expected (2,)"),
    (lambda: CrossEntropyLoss().forward(numpy.zeros(3), numpy.array([0])), ValueError,
     "CrossEntropyLoss: prediction must be logits of shape (N, C), got shape (3,)"),
    (lambda: CrossEntropyLoss(weight=[1.0, 2.0]).forward(numpy.zeros((2, 3)), numpy.array([0, 1])), ValueError,
     "CrossEntropyLoss: weight has 2 entries, one per column, but the prediction has shape (2, 3)"),
    (lambda: MSELoss().backward(), RuntimeError, "MSELoss.backward() needs a forward() call first"),
], ids=lambda value: "" if callable(value) or isinstance(value, type) else value[:40])
def test_bad_inputs_raise_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize("build, message", [
    (lambda: MSELoss(reduction="none"), "MSELoss: reduction must be 'mean' or 'sum', got 'none'"),
    (lambda: HuberLoss(delta=0.0), "HuberLoss: delta must be positive, got 0.0"),
    (lambda: FocalLoss(alpha=2.0), "FocalLoss: alpha must lie in [0, 1], or be None or -1 to disable it; got 2.0"),
    (lambda: FocalLoss(gamma=-1.0), "FocalLoss: gamma must be non-negative, got -1.0"),
    (lambda: CrossEntropyLoss(label_smoothing=1.5), "CrossEntropyLoss: label_smoothing must lie in [0, 1], got 1.5"),
    (lambda: BCEWithLogitsLoss(pos_weight=[1.0, -2.0]), "BCEWithLogitsLoss: pos_weight must be a 1-D sequence of non-negative"),
    (lambda: BCEWithLogitsLoss(weight=3.0), "BCEWithLogitsLoss: weight must be a 1-D sequence of non-negative"),
    (lambda: L1Penalty(-0.1), "L1Penalty: strength must be a finite number >= 0, got -0.1"),
], ids=lambda value: "" if callable(value) else value[:40])
def test_bad_hyperparameters_raise_a_clear_error(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


# -- penalties ---------------------------------------------------------------------------------

PARAMETER_VALUES = st.lists(
    hnp.arrays(numpy.float64, SHAPES, elements=away_from_zero(0.01, 5)), min_size=1, max_size=3
)  # away from 0, the kink of |w|


def torch_penalty(penalty, tensors: list[torch.Tensor]) -> torch.Tensor:
    if isinstance(penalty, L1Penalty):
        return penalty.strength * sum(tensor.abs().sum() for tensor in tensors)
    return penalty.strength / 2 * sum((tensor * tensor).sum() for tensor in tensors)


PENALTIES = [L1Penalty(0.3), L2Penalty(0.3)]


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@given(values=PARAMETER_VALUES)
def test_penalty_gradient_matches_central_differences(penalty, values):
    parameters = [Parameter(value.copy()) for value in values]
    penalty.backward(parameters)
    for index, parameter in enumerate(parameters):
        assert_gradient_close(parameter.grad, lambda: penalty(parameters), parameter.data, f"{penalty!r} gradient of parameter {index}")


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@given(values=PARAMETER_VALUES)
def test_penalty_matches_pytorch_in_float32(penalty, values):
    parameters = [Parameter(value.astype(numpy.float32)) for value in values]
    tensors = [torch.tensor(parameter.data, requires_grad=True) for parameter in parameters]
    theirs = torch_penalty(penalty, tensors)
    theirs.backward()
    assert_close(penalty(parameters), theirs.item(), f"{penalty!r} value", **TORCH_TOLERANCE)
    penalty.backward(parameters)
    for parameter, tensor in zip(parameters, tensors):
        assert parameter.grad.dtype == numpy.float32
        assert_close(parameter.grad, tensor.grad.numpy(), f"{penalty!r} gradient", **TORCH_TOLERANCE)


def test_penalty_values_follow_the_documented_convention():
    weights = [Parameter(numpy.array([3.0, -4.0]))]
    assert L1Penalty(0.1)(weights) == pytest.approx(0.1 * 7)  # λ Σ |w|
    assert L2Penalty(0.1)(weights) == pytest.approx(0.1 / 2 * 25)  # (λ/2) Σ w²


@pytest.mark.parametrize("penalty, added", [(L1Penalty(0.5), [0.5, -0.5, 0.0]), (L2Penalty(0.5), [1.0, -1.5, 0.0])])
def test_penalty_backward_adds_into_the_existing_gradient(penalty, added):
    parameter = Parameter(numpy.array([2.0, -3.0, 0.0]))
    parameter.grad[...] = 1.0
    penalty.backward([parameter])
    numpy.testing.assert_array_equal(parameter.grad, 1.0 + numpy.array(added))
