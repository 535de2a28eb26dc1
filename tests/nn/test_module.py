"""The Module contract: the parameter tree, modes, gradients, state, configuration, dtypes."""
from __future__ import annotations

import copy
import json
import pickle
from typing import Callable

import numpy
import pytest
import scipy.sparse

from smartmod.nn import (
    ELU,
    GELU,
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    Parallel,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Scale,
    Softmax,
    Tanh,
    backend,
    layer_from_config,
    layers,
)
from smartmod.nn.module import Module, layer_from_config


def features(*shape: int, seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


def nested_model() -> Sequential:
    return Sequential(Dense(2, 3), Sequential(Dense(3, 4), BatchNorm(4), Dropout(0.5)), ReLU(), Dense(4, 1, bias=False))


# Every layer with non-default arguments, and an input for it: (N, 4) floats unless it takes ids.
CATALOG: dict[str, tuple[Callable[[], Module], Callable[[], numpy.ndarray]]] = {
    "Dense": (lambda: Dense(4, 3, bias=True, init="he_normal"), lambda: features(5, 4)),
    "ReLU": (ReLU, lambda: features(5, 4)),
    "LeakyReLU": (lambda: LeakyReLU(0.2), lambda: features(5, 4)),
    "ELU": (lambda: ELU(0.5), lambda: features(5, 4)),
    "GELU": (lambda: GELU("tanh"), lambda: features(5, 4)),
    "Sigmoid": (Sigmoid, lambda: features(5, 4)),
    "Tanh": (Tanh, lambda: features(5, 4)),
    "Softmax": (lambda: Softmax(axis=0), lambda: features(5, 4)),
    "Dropout": (lambda: Dropout(0.3), lambda: features(5, 4)),
    "BatchNorm": (lambda: BatchNorm(4, momentum=0.2, eps=1e-3, affine=True), lambda: features(5, 4, 3)),
    "LayerNorm": (lambda: LayerNorm(4, eps=1e-4), lambda: features(5, 4)),
    "Scale": (lambda: Scale(-0.125), lambda: features(5, 4)),
    "Embedding": (lambda: Embedding(6, 3, padding_idx=2), lambda: numpy.array([[0, 2, 5, 5], [1, 2, 2, 3]])),
    "Sequential": (
        lambda: Sequential(Dense(4, 4), BatchNorm(4), ReLU(), Sequential(Dense(4, 4), LayerNorm(4)), Dropout(0.1)),
        lambda: features(5, 4),
    ),
    "Parallel": (lambda: Parallel(Dense(4, 3), Sequential(Dense(4, 5), ReLU(), Dropout(0.2), Dense(5, 3))), lambda: features(5, 4)),
}


def test_the_catalog_covers_every_layer():
    assert set(CATALOG) == set(layers.__all__) | {"Sequential", "Parallel"}


# -- the tree --------------------------------------------------------------------------------


def test_named_parameters_are_dotted_paths_through_nested_sequentials():
    model = nested_model()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias", "3.weight"]
    assert dict(model.named_parameters())["1.1.weight"] is model[1][1].weight
    assert model.num_parameters() == (2 * 3 + 3) + (3 * 4 + 4) + (4 + 4) + 4 * 1


def test_named_buffers_are_dotted_and_kept_out_of_parameters():
    model = nested_model()
    assert [name for name, _ in model.named_buffers()] == ["1.1.running_mean", "1.1.running_var"]
    assert not any("running" in name for name, _ in model.named_parameters())


def test_assigning_a_parameter_over_a_plain_attribute_registers_it():
    class _Rebinds(Module):
        def __init__(self):
            super().__init__()
            self.scale = None
            self.scale = Parameter(numpy.ones(2, dtype=numpy.float32))

    module = _Rebinds()
    assert isinstance(module.scale, Parameter)
    assert [name for name, _ in module.named_parameters()] == ["scale"]


def test_registering_a_buffer_over_a_plain_attribute_makes_it_visible():
    class _Counts(Module):
        def __init__(self):
            super().__init__()
            self.counts = None
            self.register_buffer("counts", numpy.zeros(3, dtype=numpy.float32))

    module = _Counts()
    assert module.counts is not None and module.counts.shape == (3,)
    assert list(module.state_dict()) == ["counts"]


def test_assigning_a_plain_value_over_a_parameter_unregisters_it():
    layer = Dense(2, 2)
    layer.bias = None
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_setting_an_attribute_before_super_init_says_what_to_do():
    class _ForgetsSuper(Module):
        def __init__(self):
            self.weight = 1

    with pytest.raises(RuntimeError, match="must call super"):
        _ForgetsSuper()


def test_an_unknown_attribute_raises_with_a_suggestion():
    with pytest.raises(AttributeError, match="did you mean 'weight'"):
        Dense(2, 3).wieght


def test_an_unknown_attribute_without_a_near_name_raises_plainly():
    with pytest.raises(AttributeError, match="Dense has no attribute 'zzzz'$"):
        Dense(2, 3).zzzz


def test_deepcopy_and_pickle_give_an_independent_equal_model():
    model = nested_model().eval()
    x = features(3, 2)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert numpy.array_equal(clone(x), model(x))
        clone[0].weight.data += 1
        assert not numpy.array_equal(clone(x), model(x))


# -- modes and gradients ---------------------------------------------------------------------


def test_eval_and_train_reach_every_module_and_return_self():
    model = nested_model()
    assert model.eval() is model
    assert [module.training for _, module in model.named_modules()] == [False] * 8  # root, 0, 1, 1.0-1.2, 2, 3
    assert model.train() is model
    assert all(module.training for _, module in model.named_modules())


def test_eval_turns_nested_dropout_off():
    model = Sequential(Sequential(Dropout(0.9)))
    x = features(50, 4)
    assert not numpy.array_equal(model(x), x)
    assert numpy.array_equal(model.eval()(x), x)


def test_backward_accumulates_and_zero_grad_resets_in_place():
    model = nested_model()
    x = features(6, 2)
    grads = [parameter.grad for parameter in model.parameters()]
    backend.seed(1)
    model(x)
    model.backward(numpy.ones((6, 1), dtype=numpy.float32))
    once = [grad.copy() for grad in grads]
    backend.seed(1)
    model(x)
    model.backward(numpy.ones((6, 1), dtype=numpy.float32))
    for name, grad, first in zip(dict(model.named_parameters()), grads, once):
        assert numpy.allclose(grad, 2 * first, rtol=1e-6), f"{name}: two backwards do not add up"
    assert any(numpy.any(grad != 0) for grad in grads)

    model.zero_grad()
    assert all(numpy.all(parameter.grad == 0) for parameter in model.parameters())
    assert all(parameter.grad is grad for parameter, grad in zip(model.parameters(), grads))  # optimizers keep references


def test_needs_input_grad_false_skips_the_first_input_gradient_but_not_the_weight_gradients():
    x, grad_output = features(4, 2), numpy.ones((4, 1), dtype=numpy.float32)
    reference, model = nested_model().eval(), nested_model().eval()
    model.load_state_dict(reference.state_dict())
    reference(x)
    assert reference.backward(grad_output) is not None

    model.needs_input_grad = False
    model(x)
    assert model.backward(grad_output) is None
    assert model[0].needs_input_grad is False
    for (name, mine), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
        assert numpy.array_equal(mine.grad, theirs.grad), f"{name}: gradient mine {mine.grad} / theirs {theirs.grad}"
        assert numpy.any(mine.grad != 0), f"{name} received no gradient"


def test_parallel_adds_its_branches_outputs_and_their_input_gradients():
    wide, deep = Dense(3, 2), Sequential(Dense(3, 4), Tanh(), Dense(4, 2))
    model, x = Parallel(wide, deep), features(4, 3)
    assert numpy.allclose(model(x), wide(x) + deep(x), atol=1e-6)
    grad_output = features(4, 2)
    model(x)
    expected = wide.backward(grad_output) + (deep(x), deep.backward(grad_output))[1]
    model.zero_grad()
    model(x)
    assert numpy.allclose(model.backward(grad_output), expected, atol=1e-6)


def test_parallel_on_sparse_features_trains_every_branch_and_returns_no_input_gradient():
    model = Parallel(Dense(6, 2), Sequential(Dense(6, 3), ReLU(), Dense(3, 2)))
    model.needs_input_grad = False
    x = scipy.sparse.random(5, 6, density=0.5, format="csr", dtype=numpy.float32, random_state=0)
    model(x)
    assert model.backward(numpy.ones((5, 2), dtype=numpy.float32)) is None
    assert all(numpy.any(parameter.grad != 0) for name, parameter in model.named_parameters() if name.endswith("weight"))


def test_parallel_needs_a_branch():
    with pytest.raises(ValueError, match="at least one branch"):
        Parallel()


def test_needs_input_grad_false_reaches_the_dense_inside_a_leading_sequential():
    model = Sequential(Sequential(Dense(3, 2), Tanh()), Dense(2, 1))
    model.needs_input_grad = False
    model(features(4, 3))
    assert model.backward(numpy.ones((4, 1), dtype=numpy.float32)) is None
    assert numpy.any(model[0][0].weight.grad != 0)


# -- state -----------------------------------------------------------------------------------


def test_state_dict_holds_parameters_and_buffers_as_copies():
    model = nested_model()
    state = model.state_dict()
    assert list(state) == [*(name for name, _ in model.named_parameters()), "1.1.running_mean", "1.1.running_var"]
    state["0.weight"] += 1
    assert not numpy.array_equal(state["0.weight"], model[0].weight.data)


def test_load_state_dict_round_trip_reproduces_outputs_and_running_statistics():
    source, target = nested_model(), nested_model()
    source(features(8, 2, seed=1))  # move the running statistics away from their start
    x = features(3, 2, seed=2)
    assert not numpy.array_equal(source.eval()(x), target.eval()(x))
    target.load_state_dict(source.state_dict())
    assert numpy.array_equal(target(x), source(x))
    assert numpy.array_equal(target[1][1].running_var, source[1][1].running_var)


def test_load_state_dict_copies_so_two_models_loaded_from_one_dict_stay_independent():
    state = nested_model().state_dict()
    pristine = copy.deepcopy(state)
    first, second = nested_model(), nested_model()
    first.load_state_dict(state)
    second.load_state_dict(state)
    first[0].weight.data += 1  # an optimizer step updates in place
    first[1][1].running_mean[...] = 5
    for name in ("0.weight", "1.1.running_mean"):
        assert numpy.array_equal(state[name], pristine[name]), f"loading let the model write into the caller's {name!r}"
    assert numpy.array_equal(second[0].weight.data, pristine["0.weight"])
    assert numpy.array_equal(second[1][1].running_mean, pristine["1.1.running_mean"])


def test_load_state_dict_without_copying_keeps_the_arrays_it_was_given_where_they_fit():
    model = nested_model()
    state = model.state_dict()
    state["0.weight"] = state["0.weight"].astype(numpy.float64)  # another dtype: converted, so copied
    model.load_state_dict(state, copy=False)
    assert model[0].bias.data is state["0.bias"] and model[1][1].running_mean is state["1.1.running_mean"]
    assert model[0].weight.data is not state["0.weight"] and model[0].weight.data.dtype == numpy.float32
    assert not model[0].weight.grad.any() and model[0].weight.grad.shape == model[0].weight.data.shape


def test_load_state_dict_keeps_the_model_dtype():
    model = Dense(2, 2)
    model.load_state_dict({name: value.astype(numpy.float64) for name, value in model.state_dict().items()})
    assert model.weight.data.dtype == numpy.float32 and model.weight.grad.dtype == numpy.float32


def test_load_state_dict_names_missing_keys():
    state = nested_model().state_dict()
    del state["1.1.running_var"]
    with pytest.raises(KeyError, match=r"missing \['1.1.running_var'\], unexpected nothing"):
        nested_model().load_state_dict(state)


def test_load_state_dict_names_unexpected_keys():
    state = {**nested_model().state_dict(), "9.weight": numpy.zeros(1)}
    with pytest.raises(KeyError, match=r"missing nothing, unexpected \['9.weight'\]"):
        nested_model().load_state_dict(state)


def test_load_state_dict_names_a_wrong_shape():
    state = nested_model().state_dict()
    state["1.0.weight"] = numpy.zeros((4, 3), dtype=numpy.float32)
    with pytest.raises(ValueError, match=r"'1.0.weight' has shape \(4, 3\), the model expects \(3, 4\)"):
        nested_model().load_state_dict(state)


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_config_round_trip_through_json_rebuilds_an_identical_layer(name):
    make, make_input = CATALOG[name]
    original, x = make(), make_input()
    original(x)  # one training forward: running statistics move
    config = json.loads(json.dumps(original.to_config()))
    assert config["class"] == name

    rebuilt = layer_from_config(config)
    assert type(rebuilt) is type(original)
    assert rebuilt.get_config() == original.get_config()
    rebuilt.load_state_dict(original.state_dict())
    for mode in ("train", "eval"):
        getattr(original, mode)(), getattr(rebuilt, mode)()
        backend.seed(3)
        expected = original(x)
        backend.seed(3)
        assert numpy.array_equal(rebuilt(x), expected), f"{name} in {mode} mode: rebuilt output differs"


def test_layer_from_config_suggests_a_near_class_name():
    with pytest.raises(ValueError, match=r"unknown layer class 'Dens'; did you mean \['Dense'\]"):
        layer_from_config({"class": "Dens", "config": {}})


def test_layer_from_config_explains_the_expected_form():
    with pytest.raises(ValueError, match="a layer config is"):
        layer_from_config(["Dense"])


# -- dtypes ----------------------------------------------------------------------------------


def assert_float32(module: Module, y, dx) -> None:
    assert y.dtype == numpy.float32, f"output dtype {y.dtype}"
    assert dx is None or dx.dtype == numpy.float32, f"input gradient dtype {dx.dtype}"
    for name, parameter in module.named_parameters():
        assert parameter.data.dtype == numpy.float32, f"{name} dtype {parameter.data.dtype}"
        assert parameter.grad.dtype == numpy.float32, f"{name} gradient dtype {parameter.grad.dtype}"
    for name, value in module.named_buffers():
        assert value.dtype == numpy.float32, f"buffer {name} dtype {value.dtype}"


@pytest.mark.parametrize("name", sorted(CATALOG))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_float32_stays_float32_through_forward_and_backward(name, mode):
    make, make_input = CATALOG[name]
    module, x = getattr(make(), mode)(), make_input()
    y = module(x)
    dx = module.backward(numpy.ones_like(y))
    assert_float32(module, y, dx)
    if x.dtype.kind == "f":
        assert dx is not None and dx.shape == x.shape


def test_float32_stays_float32_for_sparse_input():
    layer = Dense(4, 3)
    y = layer(scipy.sparse.csr_matrix(features(5, 4)))
    assert_float32(layer, y, layer.backward(numpy.ones_like(y)))


def test_astype_casts_parameters_gradients_and_buffers():
    model = nested_model().astype("float64")
    y = model(features(4, 2).astype(numpy.float64))
    assert y.dtype == numpy.float64
    assert {p.data.dtype for p in model.parameters()} | {p.grad.dtype for p in model.parameters()} == {numpy.dtype("float64")}
    assert {value.dtype for _, value in model.named_buffers()} == {numpy.dtype("float64")}


def test_failed_load_state_dict_changes_nothing():
    model = Sequential(Dense(3, 4), Dense(4, 2))
    before = model.state_dict()
    bad = {name: numpy.zeros_like(value) for name, value in before.items()}
    bad["1.weight"] = numpy.zeros((5, 5), dtype=numpy.float32)
    with pytest.raises(ValueError, match="1.weight"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():
        numpy.testing.assert_array_equal(value, before[name])


def test_batchnorm_backward_follows_the_mode_of_its_forward():
    layer = BatchNorm(3)
    x = numpy.random.default_rng(0).normal(size=(6, 3)).astype(numpy.float32)
    grad = numpy.random.default_rng(1).normal(size=(6, 3)).astype(numpy.float32)
    layer.forward(x)
    expected = layer.backward(grad)
    layer.forward(x)
    layer.eval()  # switching mode between forward and backward must not change the gradient
    numpy.testing.assert_array_equal(layer.backward(grad), expected)


def test_float64_sparse_input_keeps_a_float32_layer_in_float32():
    import scipy.sparse

    layer = Dense(5, 2)
    x = scipy.sparse.random(4, 5, density=0.5, format="csr", dtype=numpy.float64, random_state=0)
    assert layer.forward(x).dtype == numpy.float32
    layer.backward(numpy.ones((4, 2), dtype=numpy.float32))
    assert layer.weight.grad.dtype == numpy.float32


def test_a_second_module_class_of_a_registered_name_is_refused():
    with pytest.raises(TypeError, match="two Module classes are named 'Dense'"):
        type("Dense", (Module,), {"__module__": "somewhere.else"})
    assert layer_from_config({"class": "Dense", "config": {"in_features": 2, "out_features": 3}}).__class__.__module__.startswith("smartmod.nn")
