"""Optimizers: SGD (with momentum and Nesterov), AdaGrad, RMSprop, Adam and AdamW.

Each follows the update rule of the ``torch.optim`` class of the same name step for step
(the tests compare trajectories). ``step()`` reads every ``parameter.grad`` and updates
``parameter.data`` in place. Per-parameter state (momentum, moment estimates) lives in
*slots*, created at the first step in the parameter's dtype and saved as NumPy arrays named
``"<slot>.<parameter index>"`` beside JSON-ready hyperparameters: a checkpoint is an ``.npz``
plus JSON, and ``load_state_dict`` resumes bit for bit.

Speed: updates run in place with ``out=`` ufuncs; intermediates go to scratch buffers
allocated once, so a step allocates no parameter-sized array, and hyperparameters enter as
Python floats, which NumPy casts to the array's dtype (float32 stays float32).
"""
from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Iterable

from smartmod.nn import backend
from smartmod.nn.module import Parameter
from smartmod.nn.optim_support import Scratch, checked_parameters, exponential_average, json_ready, restored_slot
from smartmod.nn.validation import check_flag, check_range

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """Base class. A subclass stores its constructor's hyperparameters under the argument
    names (``get_config`` reads them back), lists its slots in ``_slot_initial_values`` and
    updates one parameter in ``_update``.

    Parameters
    ----------
    parameters : iterable of Parameter
        What to train, usually ``model.parameters()``; at least one, each once.
    lr : float
        The learning rate, >= 0. Schedules overwrite the ``lr`` attribute between steps.

    Attributes
    ----------
    step_count : int
        Steps taken so far: ``t`` in the papers' formulas.
    """

    # Whether ``_update`` honours ``Parameter.lr_scale``; the others refuse a scaled parameter
    # rather than ignore it.
    supports_lr_scale = False

    def __init__(self, parameters: Iterable[Parameter], lr: float):
        self.parameters = checked_parameters(parameters)
        check_range(lr=lr)
        for index, parameter in enumerate(self.parameters):
            check_range(**{f"parameters[{index}].lr_scale": parameter.lr_scale})
        scaled = [index for index, parameter in enumerate(self.parameters) if parameter.lr_scale != 1]
        if scaled and not self.supports_lr_scale:
            raise ValueError(f"parameters {scaled[:5]} have an lr_scale other than 1, which {type(self).__name__} does not support; "
                             "use SGD, or set their lr_scale back to 1")
        self.lr = lr
        self.step_count = 0
        self._slots: dict[str, list[Any]] = {}  # slot name -> one array per parameter
        self._scratch = Scratch()

    # -- the update ---------------------------------------------------------------------------

    def step(self) -> None:
        """Update every parameter in place from its ``.grad`` (the gradients are not modified)."""
        if self.step_count == 0:
            self._slots = {
                name: [backend.get_array_module(parameter.data).full_like(parameter.data, value) for parameter in self.parameters]
                for name, value in self._slot_initial_values().items()
            }
        self.step_count += 1
        for index, parameter in enumerate(self.parameters):
            self._update(parameter, {name: arrays[index] for name, arrays in self._slots.items()})

    def zero_grad(self) -> None:
        """Reset every gradient to zero, in place."""
        for parameter in self.parameters:
            parameter.grad[...] = 0

    def _update(self, parameter: Parameter, slots: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _slot_initial_values(self) -> dict[str, float]:
        """The per-parameter state arrays these hyperparameters need, by name, with their start value."""
        return {}

    def _gradient(self, parameter: Parameter, weight_decay: float) -> Any:
        """s·g + λθ: the gradient of the loss (times the parameter's ``lr_scale`` s, which only
        SGD allows to differ from 1) plus that of an L2 penalty (λ/2)‖θ‖², in a scratch buffer.

        Returns ``parameter.grad`` itself when λ = 0 and s = 1; the gradient is never modified.
        """
        scale = float(parameter.lr_scale)
        if weight_decay == 0 and scale == 1:
            return parameter.grad
        xp = backend.get_array_module(parameter.data)
        decayed = self._scratch.like(parameter.data, "gradient")
        xp.multiply(parameter.data, float(weight_decay), out=decayed)
        if scale == 1:
            decayed += parameter.grad
        else:
            loss_part = self._scratch.like(parameter.data, "scaled_gradient")
            xp.multiply(parameter.grad, scale, out=loss_part)
            decayed += loss_part
        return decayed

    # -- state and configuration --------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor's hyperparameters (all but ``parameters``) as JSON-ready data.

        ``type(optimizer)(parameters, **optimizer.get_config())`` builds an equivalent optimizer.
        """
        names = list(inspect.signature(type(self).__init__).parameters)[2:]  # skip self, parameters
        return {name: json_ready(getattr(self, name)) for name in names}

    def state_dict(self) -> dict[str, Any]:
        """``{"hyperparameters": get_config(), "step": int, "slots": {"m.0": array, ...}}``: the
        slots as NumPy copies (none before the first step), everything else JSON-ready."""
        slots = {f"{name}.{index}": backend.to_numpy(array).copy() for name, arrays in self._slots.items() for index, array in enumerate(arrays)}
        return {"hyperparameters": self.get_config(), "step": self.step_count, "slots": slots}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore hyperparameters (the learning rate included), step count and slots, so that
        further steps equal those of the saved optimizer bit for bit. A state from another
        optimizer class or other parameter shapes raises a ValueError and changes nothing."""
        missing = sorted({"hyperparameters", "step", "slots"} - set(state))
        if missing:
            raise ValueError(f"an optimizer state has keys 'hyperparameters', 'step' and 'slots'; this one lacks {missing}")
        config, step, saved = dict(state["hyperparameters"]), state["step"], state["slots"]
        expected = set(self.get_config())
        if set(config) != expected:
            raise ValueError(
                f"the state holds hyperparameters {sorted(config)} but {type(self).__name__} takes {sorted(expected)}: "
                "was it saved from another optimizer class?"
            )
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"the state's step must be an integer >= 0, got {step!r}")
        configured = type(self)(self.parameters, **config)  # validates the hyperparameters
        names = list(configured._slot_initial_values()) if step > 0 else []
        wanted = {f"{name}.{index}" for name in names for index in range(len(self.parameters))}
        if set(saved) != wanted:
            raise ValueError(
                f"the state's slots do not fit {type(self).__name__} over {len(self.parameters)} parameters at step {step}: "
                f"missing {sorted(wanted - set(saved)) or 'nothing'}, unexpected {sorted(set(saved) - wanted) or 'nothing'}"
            )
        slots = {name: [restored_slot(f"{name}.{index}", saved[f"{name}.{index}"], parameter.data)
                        for index, parameter in enumerate(self.parameters)] for name in names}
        for name in config:
            setattr(self, name, getattr(configured, name))
        self.step_count, self._slots = int(step), slots


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 decay.

    With g = s·∇L + λθ, as ``torch.optim.SGD`` (s is the parameter's ``lr_scale``, usually 1;
    s ≠ 1 is torch's parameter group with learning rate s·lr and weight decay λ/s)::

        b ← g                        at the first step
        b ← μ b + (1 − τ) g          afterwards (τ: dampening)
        d ← g + μ b  (Nesterov)  or  b  (momentum)  or  g  (μ = 0)
        θ ← θ − lr · d

    Nesterov momentum in the form of Sutskever et al. (2013), "On the importance of
    initialization and momentum in deep learning".

    Parameters
    ----------
    parameters : iterable of Parameter
    lr, momentum, weight_decay : float
        lr, μ and λ, all >= 0; μ = 0 is plain SGD.
    dampening : float
        τ in [0, 1].
    nesterov : bool
        Look ahead along the buffer; needs μ > 0 and τ = 0.
    """

    supports_lr_scale = True

    def __init__(self, parameters: Iterable[Parameter], lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(parameters, lr)
        check_range(momentum=momentum, weight_decay=weight_decay)
        check_range(high=1.0, dampening=dampening)
        check_flag("nesterov", nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, got momentum={momentum!r}, dampening={dampening!r}")
        self.momentum, self.dampening, self.nesterov, self.weight_decay = momentum, dampening, nesterov, weight_decay

    def _slot_initial_values(self) -> dict[str, float]:
        return {"momentum_buffer": 0.0} if self.momentum != 0 else {}

    def _update(self, parameter: Parameter, slots: dict[str, Any]) -> None:
        xp = backend.get_array_module(parameter.data)
        momentum = float(self.momentum)
        direction = self._gradient(parameter, self.weight_decay)
        update = self._scratch.like(parameter.data, "update")
        if momentum != 0:
            buffer = slots["momentum_buffer"]
            if self.step_count == 1:
                buffer[...] = direction
            else:
                buffer *= momentum
                xp.multiply(direction, 1.0 - float(self.dampening), out=update)
                buffer += update
            if self.nesterov:
                xp.multiply(buffer, momentum, out=update)
                update += direction  # g + μ b
                direction = update
            else:
                direction = buffer
        xp.multiply(direction, float(self.lr), out=update)
        parameter.data -= update


class AdaGrad(Optimizer):
    """Adaptive per-coordinate steps from the sum of squared gradients (Duchi et al., 2011,
    "Adaptive subgradient methods for online learning and stochastic optimization").

    With g = ∇L + λθ and t the step, as ``torch.optim.Adagrad``::

        s ← s + g²            (s starts at initial_accumulator_value)
        θ ← θ − lr / (1 + (t − 1) · lr_decay) · g / (√s + ε)

    Parameters
    ----------
    parameters : iterable of Parameter
    lr, lr_decay, weight_decay, initial_accumulator_value, eps : float
        All >= 0.
    """

    def __init__(self, parameters: Iterable[Parameter], lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(parameters, lr)
        check_range(lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value, eps=eps)
        self.lr_decay, self.weight_decay, self.initial_accumulator_value, self.eps = lr_decay, weight_decay, initial_accumulator_value, eps

    def _slot_initial_values(self) -> dict[str, float]:
        return {"sum": float(self.initial_accumulator_value)}

    def _update(self, parameter: Parameter, slots: dict[str, Any]) -> None:
        xp = backend.get_array_module(parameter.data)
        gradient = self._gradient(parameter, self.weight_decay)
        update = self._scratch.like(parameter.data, "update")
        xp.multiply(gradient, gradient, out=update)
        slots["sum"] += update
        xp.sqrt(slots["sum"], out=update)
        update += float(self.eps)
        xp.divide(gradient, update, out=update)
        update *= float(self.lr) / (1.0 + (self.step_count - 1) * float(self.lr_decay))
        parameter.data -= update


class RMSprop(Optimizer):
    """Steps scaled by a running root mean square of the gradient (Tieleman & Hinton, 2012,
    Lecture 6.5 of "Neural Networks for Machine Learning"; centered form: Graves, 2013,
    "Generating sequences with recurrent neural networks", eq. 38-45).

    With g = ∇L + λθ, as ``torch.optim.RMSprop``::

        v ← α v + (1 − α) g²
        ḡ ← α ḡ + (1 − α) g,   r = √(v − ḡ²) + ε      (centered)   else   r = √v + ε
        b ← μ b + g / r,        θ ← θ − lr · b          (momentum)   else   θ ← θ − lr · g / r

    Parameters
    ----------
    parameters : iterable of Parameter
    lr, eps, weight_decay, momentum : float
        All >= 0.
    alpha : float
        α in [0, 1], the decay of the running averages.
    centered : bool
        Normalize by the estimated variance instead of the raw second moment.
    """

    def __init__(self, parameters: Iterable[Parameter], lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(parameters, lr)
        check_range(high=1.0, alpha=alpha)
        check_range(eps=eps, weight_decay=weight_decay, momentum=momentum)
        check_flag("centered", centered)
        self.alpha, self.eps, self.weight_decay, self.momentum, self.centered = alpha, eps, weight_decay, momentum, centered

    def _slot_initial_values(self) -> dict[str, float]:
        slots = {"square_avg": 0.0}
        if self.centered:
            slots["grad_avg"] = 0.0
        if self.momentum > 0:
            slots["momentum_buffer"] = 0.0
        return slots

    def _update(self, parameter: Parameter, slots: dict[str, Any]) -> None:
        xp = backend.get_array_module(parameter.data)
        weight = 1.0 - float(self.alpha)
        gradient = self._gradient(parameter, self.weight_decay)
        update = self._scratch.like(parameter.data, "update")
        xp.multiply(gradient, gradient, out=update)
        exponential_average(slots["square_avg"], update, weight, update)
        if self.centered:
            exponential_average(slots["grad_avg"], gradient, weight, update)
            xp.multiply(slots["grad_avg"], slots["grad_avg"], out=update)
            xp.subtract(slots["square_avg"], update, out=update)  # v − ḡ², the variance estimate
            xp.sqrt(update, out=update)
        else:
            xp.sqrt(slots["square_avg"], out=update)
        update += float(self.eps)
        xp.divide(gradient, update, out=update)
        if self.momentum > 0:
            buffer = slots["momentum_buffer"]
            buffer *= float(self.momentum)
            buffer += update
            xp.multiply(buffer, float(self.lr), out=update)
        else:
            update *= float(self.lr)
        parameter.data -= update


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015, "Adam: A method for stochastic
    optimization"), with the AMSGrad variant (Reddi et al., 2018, "On the convergence of
    Adam and beyond").

    With g = ∇L + λθ (L2 decay folded into the gradient) and t the step, as ``torch.optim.Adam``::

        m ← β₁ m + (1 − β₁) g,    v ← β₂ v + (1 − β₂) g²,    v̂ ← max(v̂, v)  (AMSGrad, used for v)
        θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)

    computed in the paper's efficient order (end of its section 2):
    θ ← θ − lr √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + ε √(1 − β₂ᵗ)).

    Parameters
    ----------
    parameters : iterable of Parameter
    lr, eps, weight_decay : float
        lr, ε and λ, all >= 0.
    betas : (float, float)
        β₁, β₂ in [0, 1): decay rates of the first and second moment estimates.
    amsgrad : bool
        Normalize by the largest second moment seen so far.
    """

    _decoupled_weight_decay = False

    def __init__(self, parameters: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(parameters, lr)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        check_range(high=1.0, include_high=False, beta1=betas[0], beta2=betas[1])
        check_range(eps=eps, weight_decay=weight_decay)
        check_flag("amsgrad", amsgrad)
        self.betas, self.eps, self.weight_decay, self.amsgrad = betas, eps, weight_decay, amsgrad

    def _slot_initial_values(self) -> dict[str, float]:
        return dict.fromkeys(["m", "v", "v_max"] if self.amsgrad else ["m", "v"], 0.0)

    def _update(self, parameter: Parameter, slots: dict[str, Any]) -> None:
        xp = backend.get_array_module(parameter.data)
        beta1, beta2 = float(self.betas[0]), float(self.betas[1])
        lr, weight_decay = float(self.lr), float(self.weight_decay)
        if self._decoupled_weight_decay:
            if weight_decay != 0:
                parameter.data *= 1.0 - lr * weight_decay
            gradient = parameter.grad
        else:
            gradient = self._gradient(parameter, weight_decay)
        update = self._scratch.like(parameter.data, "update")
        exponential_average(slots["m"], gradient, 1.0 - beta1, update)
        xp.multiply(gradient, gradient, out=update)
        exponential_average(slots["v"], update, 1.0 - beta2, update)
        second_moment = slots["v"]
        if self.amsgrad:
            second_moment = xp.maximum(slots["v_max"], slots["v"], out=slots["v_max"])
        root_correction2 = math.sqrt(1.0 - beta2**self.step_count)
        xp.sqrt(second_moment, out=update)
        update += float(self.eps) * root_correction2
        xp.divide(slots["m"], update, out=update)
        update *= lr * root_correction2 / (1.0 - beta1**self.step_count)
        parameter.data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019, "Decoupled weight decay
    regularization"): θ ← θ (1 − lr λ) before the Adam step, and the moment estimates see the
    raw gradient. Same arguments as :class:`Adam`; ``weight_decay`` defaults to 0.01, as in
    ``torch.optim.AdamW``.
    """

    _decoupled_weight_decay = True

    def __init__(self, parameters: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01, amsgrad: bool = False):
        super().__init__(parameters, lr, betas, eps, weight_decay, amsgrad)
