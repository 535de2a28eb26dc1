"""Parameters, modules and the layer contract.

A :class:`Module` computes ``forward(*inputs)`` and keeps what its backward pass needs;
``backward(grad_output)`` adds into each parameter's ``.grad`` and returns the gradient with
respect to the input. Composite modules call their children's ``backward`` in reverse order.
Optimizers live outside modules and only see parameters.

Modules form a tree: assigning a :class:`Parameter` or a :class:`Module` to an attribute
registers it, and ``named_parameters()`` walks the tree with dotted names (``"0.weight"``).
Every module describes itself as JSON-ready data with ``get_config()``; ``Module.from_config``
rebuilds it, so a saved model never needs pickle.
"""
from __future__ import annotations

import difflib
from collections import OrderedDict
from typing import Any, Iterator

import numpy

from smartmod.nn import backend

__all__ = ["Parameter", "Module", "Sequential", "Parallel", "layer_from_config", "registered_layers"]

_REGISTRY: dict[str, type["Module"]] = {}


def _zero_gradient(data: Any) -> Any:
    """A zero array like ``data`` for its gradient. ``zeros`` rather than ``zeros_like``: NumPy
    gets zeroed memory from the system, whose pages cost nothing until first written, so a model
    that only scores (a 100,000 × 128 first layer: 51 MB) never pays for its gradients."""
    return backend.xp.zeros(data.shape, dtype=data.dtype)


class Parameter:
    """A trainable array and the gradient accumulated into it.

    Attributes
    ----------
    data : array, any shape
        The value; float32 unless the default dtype says otherwise.
    grad : array, same shape and dtype as ``data``
        The gradient of the loss; backward passes add into it (``+=``) and
        ``Module.zero_grad`` resets it.
    lr_scale : float
        How much larger a step :class:`~smartmod.nn.optim.SGD` takes along this parameter's loss
        gradient than along the others' (1 by default; weight decay is not scaled). Airbench
        trains BatchNorm biases 64 times faster this way. A training setting: not saved.
    """

    __slots__ = ("data", "grad", "lr_scale")

    def __init__(self, data: Any):
        self.data = data
        self.grad = _zero_gradient(data)
        self.lr_scale = 1.0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def size(self) -> int:
        return int(self.data.size)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer and network.

    Subclasses define ``forward`` and ``backward`` next to each other and, when their
    constructor takes arguments, ``get_config`` returning those arguments as JSON-ready data.
    """

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        earlier = _REGISTRY.get(cls.__name__)
        if earlier is not None and (earlier.__module__, earlier.__qualname__) != (cls.__module__, cls.__qualname__):
            # A saved config names its layers by class name: a second class of the same name would
            # silently take over every model file that names the first.
            raise TypeError(f"two Module classes are named {cls.__name__!r}: {earlier.__module__}.{earlier.__qualname__} and "
                            f"{cls.__module__}.{cls.__qualname__}; model configs name layers by class name, so rename one")
        _REGISTRY[cls.__name__] = cls

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)
        # When False, backward may skip the gradient with respect to the input (the input is
        # data, not an activation) and return None: the first layer of a network saves a GEMM.
        object.__setattr__(self, "needs_input_grad", True)

    # -- the tree ---------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before setting {name!r}"
            )
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, (Parameter, Module)):
            self.__dict__.pop(name, None)  # a plain attribute of that name would shadow the registry
            registry = self._parameters if isinstance(value, Parameter) else self._modules
            registry[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: parameters, children and buffers live here.
        state = self.__dict__
        if "_parameters" not in state:  # not initialised yet (copy/pickle build the object bare)
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry in state and name in state[registry]:
                return state[registry][name]
        known = [n for n in dir(self) if not n.startswith("_")]
        hint = difflib.get_close_matches(name, known, n=3)
        suggestion = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}{suggestion}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers))

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep a non-trainable array (e.g. running statistics) in the state dict."""
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = value

    def set_buffer(self, name: str, value: Any) -> None:
        """Replace the value of a registered buffer."""
        if name not in self._buffers:
            raise KeyError(f"{type(self).__name__} has no buffer {name!r}")
        self._buffers[name] = value

    def children(self) -> Iterator["Module"]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """Every module in the tree, this one first, with dotted names."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter in the tree with its dotted name, e.g. ``("0.weight", p)``."""
        for module_name, module in self.named_modules(prefix):
            for name, parameter in module._parameters.items():
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        for module_name, module in self.named_modules():
            for name, value in module._buffers.items():
                yield (f"{module_name}.{name}" if module_name else name), value

    def num_parameters(self) -> int:
        return sum(parameter.size for parameter in self.parameters())

    # -- modes and gradients ----------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Switch the tree to training mode (dropout active, batch statistics); returns self."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Switch the tree to evaluation mode (dropout off, running statistics); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad[...] = 0

    def astype(self, dtype: Any) -> "Module":
        """Cast every parameter, gradient and floating buffer to ``dtype`` in place; returns self."""
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(dtype)
            parameter.grad = parameter.grad.astype(dtype)
        for _, module in self.named_modules():
            for name, value in module._buffers.items():
                if value.dtype.kind == "f":
                    module._buffers[name] = value.astype(dtype)
        return self

    # -- the layer contract -----------------------------------------------------------------

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    # -- state and configuration ------------------------------------------------------------

    def state_dict(self) -> "OrderedDict[str, numpy.ndarray]":
        """Parameters and buffers by dotted name, copied to host memory as NumPy arrays."""
        state: OrderedDict[str, numpy.ndarray] = OrderedDict()
        for name, parameter in self.named_parameters():
            state[name] = backend.to_numpy(parameter.data).copy()
        for name, value in self.named_buffers():
            state[name] = backend.to_numpy(value).copy()
        return state

    def load_state_dict(self, state: dict[str, Any], copy: bool = True) -> None:
        """Copy arrays into parameters and buffers; names and shapes must match exactly.

        ``copy=False`` lets the module keep the given arrays themselves where their dtype and
        backend already fit, for a caller that made them for it (loading a saved model) and
        will not touch them again.
        """
        expected = {name for name, _ in self.named_parameters()} | {name for name, _ in self.named_buffers()}
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise KeyError(
                f"state dict does not fit {type(self).__name__}: missing {missing or 'nothing'}, "
                f"unexpected {unexpected or 'nothing'}"
            )
        for name, parameter in self.named_parameters():
            _checked(name, state[name], parameter.data.shape)
        for name, buffer in self.named_buffers():
            _checked(name, state[name], buffer.shape)
        # Every entry fits: now copy (by default never aliasing the caller's arrays), so a bad dict changes nothing.
        take = backend.xp.array if copy else backend.xp.asarray
        for name, parameter in self.named_parameters():
            parameter.data = take(state[name], dtype=parameter.data.dtype)
            parameter.grad = _zero_gradient(parameter.data)
        for module_name, module in self.named_modules():
            for name, current in list(module._buffers.items()):
                full = f"{module_name}.{name}" if module_name else name
                module._buffers[name] = take(state[full], dtype=current.dtype)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-ready data (empty for layers without any)."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Module":
        """Rebuild a module from ``get_config()`` output."""
        return cls(**config)

    def to_config(self) -> dict[str, Any]:
        """``{"class": name, "config": get_config()}``: enough to rebuild any registered module."""
        return {"class": type(self).__name__, "config": self.get_config()}

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config().items() if key != "layers")

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


def _checked(name: str, value: Any, shape: tuple[int, ...]) -> None:
    if tuple(numpy.shape(value)) != tuple(shape):
        raise ValueError(f"state dict entry {name!r} has shape {tuple(numpy.shape(value))}, the model expects {tuple(shape)}")


def registered_layers() -> list[str]:
    """Names of every module class that ``layer_from_config`` can rebuild."""
    return sorted(_REGISTRY)


def layer_from_config(config: dict[str, Any]) -> Module:
    """Rebuild a module from ``{"class": name, "config": {...}}`` (the output of ``to_config``)."""
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"a layer config is {{'class': name, 'config': {{...}}}}, got {config!r:.200}")
    name = config["class"]
    if name not in _REGISTRY:
        hint = difflib.get_close_matches(str(name), _REGISTRY, n=3)
        raise ValueError(f"unknown layer class {name!r}" + (f"; did you mean {hint}?" if hint else ""))
    return _REGISTRY[name].from_config(config.get("config", {}))


class _NumberedChildren(Module):
    """A module made of child modules registered as ``"0"``, ``"1"``, ...; indexable and iterable."""

    def __init__(self, *children: Module):
        super().__init__()
        for index, child in enumerate(children):
            if not isinstance(child, Module):
                raise TypeError(f"{type(self).__name__} takes Modules, argument {index} is a {type(child).__name__}")
            setattr(self, str(index), child)

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_NumberedChildren):
    """Children applied in order; backward runs them in reverse.

    Parameters
    ----------
    *layers : Module
        Registered under the names ``"0"``, ``"1"``, ...
    """

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def backward(self, grad_output: Any) -> Any:
        layers = list(self._modules.values())
        if layers:
            object.__setattr__(layers[0], "needs_input_grad", self.needs_input_grad)
        for layer in reversed(layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def get_config(self) -> dict[str, Any]:
        return {"layers": [layer.to_config() for layer in self._modules.values()]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        return cls(*(layer_from_config(layer) for layer in config["layers"]))


class Parallel(_NumberedChildren):
    """Children applied to the same input, their outputs added: ``y = f_0(x) + f_1(x) + ...``.

    The "wide and deep" shape (Cheng et al., 2016, arXiv:1606.07792) is
    ``Parallel(Dense(F, C), Sequential(Dense(F, H), ReLU(), Dense(H, C)))``: a linear model of
    the features next to an MLP, so each output reads every feature directly as well as
    through the shared hidden layer. Backward gives every child the same upstream gradient
    and adds the gradients they return for the input.

    Parameters
    ----------
    *branches : Module
        At least one; all must return outputs of one shape. Registered as ``"0"``, ``"1"``, ...
    """

    def __init__(self, *branches: Module):
        if not branches:
            raise ValueError("Parallel needs at least one branch")
        super().__init__(*branches)

    def forward(self, x: Any) -> Any:
        branches = iter(self._modules.values())
        total = next(branches)(x)
        for branch in branches:
            total = total + branch(x)
        return total

    def backward(self, grad_output: Any) -> Any:
        grad_input = None
        for branch in self._modules.values():
            object.__setattr__(branch, "needs_input_grad", self.needs_input_grad)
            grad = branch.backward(grad_output)
            if grad is not None:
                grad_input = grad if grad_input is None else grad_input + grad
        return grad_input

    def get_config(self) -> dict[str, Any]:
        return {"branches": [branch.to_config() for branch in self._modules.values()]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Parallel":
        return cls(*(layer_from_config(branch) for branch in config["branches"]))
