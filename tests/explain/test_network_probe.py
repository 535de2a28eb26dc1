"""Looking inside a network: a captured layer's output and gradient equal those of the network
split by hand at that layer; the network is left as it was found."""
from __future__ import annotations

import numpy
import pytest

from smartmod.explain.image_explainer import explain_image
from smartmod.explain.network_probe import capture_layer, evaluation_mode, find_layer, image_batch
from smartmod.nn import Sequential
from smartmod.vision.resnet import cifar_resnet
from smartmod.vision.small_cnn import small_cnn


def images(shape: tuple[int, ...], seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


def test_capture_records_what_the_network_split_at_the_layer_computes():
    model, x = small_cnn(in_channels=2, classes=3, widths=(4, 6)).eval(), images((2, 2, 8, 8))
    grad_logits = images((2, 3), seed=1)
    head, tail = Sequential(*model[:4]), Sequential(*model[4:])  # children "0".."3", then the rest: shared layers
    expected_output = head(x).copy()
    tail(expected_output)
    expected_gradient = tail.backward(grad_logits)

    with capture_layer(model, "3") as captured:
        model(x)
        model.backward(grad_logits)
    assert numpy.array_equal(captured.output, expected_output)
    assert numpy.array_equal(captured.grad_output, expected_gradient)


def test_capture_reaches_a_layer_inside_a_residual_block():
    model, x = cifar_resnet(8, in_channels=1, width=2).eval(), images((1, 1, 8, 8))
    block = model[3]
    inner = block.body[:2]  # the block's first convolution and BatchNorm
    with capture_layer(model, "3.body.1") as captured:
        model(x)
        model.backward(numpy.ones((1, 10), dtype=numpy.float32))
    assert captured.output.shape == (1, 2, 8, 8) and captured.grad_output.shape == (1, 2, 8, 8)
    numpy.testing.assert_allclose(captured.output, Sequential(*inner)(Sequential(*model[:3])(x)), rtol=1e-6)


def test_capture_leaves_the_class_methods_in_place_afterwards_even_when_nested():
    model = small_cnn(in_channels=1, widths=(2,))
    layer = find_layer(model, "1")
    with capture_layer(model, "1") as outer:
        with capture_layer(model, "1") as inner:
            model(images((1, 1, 4, 4)))
        assert "forward" in layer.__dict__  # the outer capture still records
        model(images((1, 1, 4, 4), seed=2))
    assert "forward" not in layer.__dict__ and "backward" not in layer.__dict__
    assert not numpy.array_equal(outer.output, inner.output)


def test_an_unknown_layer_name_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match=r"no layer named '11\.bdy'.*did you mean '11\.body'"):
        with capture_layer(cifar_resnet(20), "11.bdy"):
            pass


def test_evaluation_mode_restores_every_module_mode():
    model = small_cnn(in_channels=1, widths=(2,), convs_per_stage=1)  # conv, BatchNorm, ReLU, pools, Dense
    model[1].eval()  # one BatchNorm in eval mode, the rest training
    with evaluation_mode(model):
        assert not any(module.training for _, module in model.named_modules())
    assert [module.training for _, module in model.named_modules()] == [True, True, False, True, True, True, True]


@pytest.mark.parametrize("shape", [(8, 8), (1, 1, 8, 8)])
def test_image_batch_wants_one_channels_first_image(shape):
    with pytest.raises(ValueError, match=r"one image of shape \(C, H, W\)"):
        image_batch(numpy.zeros(shape))


@pytest.mark.parametrize("method", ["gradcam", "saliency", "smoothgrad"])
def test_explaining_leaves_weights_statistics_gradients_and_modes_as_they_were(method):
    model, x = cifar_resnet(8, in_channels=1, width=2), images((4, 1, 8, 8))
    model(x)  # training mode: running statistics move away from their start
    state = model.state_dict()
    explain_image(model, x[0], 1, method)
    assert all(numpy.array_equal(value, state[name]) for name, value in model.state_dict().items())
    assert all(not numpy.any(parameter.grad) for parameter in model.parameters())
    assert model.training and model[1].training and model.needs_input_grad is False
