"""The recurrent layer: the time loop, padding and backpropagation through time that RNN, LSTM and
GRU share; each of them only adds its cell (one step forward and that step backward).

A recurrent layer reads sequences x (B, T, F) one step at a time and carries a state s_t from
step to step: the hidden state h_t (B, H), and for the LSTM also the cell c_t (B, H)::

    s_t = cell(x_t, s_{t-1}),    output_t = h_t.

Every cell starts from affine maps of the input and of the previous hidden state, all G gates
stacked side by side ("fused"), with the weights laid out like :class:`~smartmod.nn.Dense`'s::

    a_t = x_t W_ih + b_ih + h_{t-1} W_hh + b_hh,    W_ih (F, G·H), W_hh (H, G·H), a_t (B, G·H).

The input part does not depend on the state, so it is one GEMM over all T steps before the loop;
each step then costs one recurrent GEMM (B, H) @ (H, G·H) and elementwise gate arithmetic. The
Python loop runs over time only, never over the batch. ``W_ih`` and ``W_hh`` are PyTorch's
``weight_ih_l0`` and ``weight_hh_l0`` transposed, with the gates in PyTorch's order, so weights
copy over.

Backpropagation through time (Werbos 1990, "Backpropagation through time: what it does and how to
do it") runs the loop in reverse: each step receives ∂L/∂s_t (from its output and from step t+1)
and the cell's backward turns it into ∂L/∂a_t and ∂L/∂s_{t-1}. The weight gradients are sums over
steps, so they are GEMMs over all steps at once after the loop::

    ∂L/∂W_hh = Σ_t h_{t-1}ᵀ ∂L/∂a_t,   ∂L/∂W_ih = Σ_t x_tᵀ ∂L/∂a_t,   ∂L/∂x_t = ∂L/∂a_t W_ihᵀ.

Padding. ``padding_mask`` (B, T), True at padded steps (PyTorch's ``key_padding_mask``
convention, and ``ids == pad_id`` for padded token ids), or ``lengths`` (B,) for sequences whose
real steps come first. A padded step keeps the state as it was and outputs zeros: its input
changes nothing and receives zero gradient, and the outputs at real steps and the final state equal
those of each sequence run alone at its true length, whether it was padded before (pre-padding),
after (post-padding) or both. With ``reverse=True`` the loop walks t = T-1, ..., 0, so each sequence
starts at its own last real step, as PyTorch's packed sequences do.

Truncated BPTT (Williams & Peng 1990). With ``bptt_steps=k`` the backward pass lets no gradient
flow back across the start of each chunk of k steps (counted from the loop's first step): exactly
the gradients of running the chunks one after the other, each starting from the final state of
the one before, with that state treated as a constant. For streams too long for one pass, do that
by hand: ``layer(chunk, initial_state=layer.final_state)`` and ignore ``initial_state_grad``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from smartmod.nn import backend
from smartmod.nn.module import Module, Parameter

__all__ = ["Recurrent", "padding_mask_from", "sigmoid_in_place"]


def padding_mask_from(padding_mask: Any, lengths: Any, batch: int, steps: int) -> Any:
    """The padding of a batch as one boolean ``(B, T)`` array, True at padded steps.

    Parameters
    ----------
    padding_mask : bool (or 0/1) array (B, T), or None
        True (1) at padded steps, anywhere in the sequence.
    lengths : int array (B,), or None
        Real steps per sequence, which come first (post-padding). At most one of the two.
    batch, steps : int
        B and T of the sequences.

    Returns
    -------
    bool array (B, T); all False when neither is given.
    """
    xp = backend.xp
    if padding_mask is not None and lengths is not None:
        raise ValueError("give padding_mask or lengths, not both")
    if lengths is not None:
        lengths = xp.asarray(lengths)
        if lengths.shape != (batch,) or lengths.dtype.kind not in "iu":
            raise ValueError(f"lengths must be {batch} integers, one per sequence; got shape {lengths.shape}, dtype {lengths.dtype}")
        if lengths.size and (lengths.min() < 0 or lengths.max() > steps):
            raise ValueError(f"lengths must lie in [0, {steps}] (the padded length); got [{lengths.min()}, {lengths.max()}]")
        return xp.arange(steps)[None, :] >= lengths[:, None]  # (B, T)
    if padding_mask is None:
        return xp.zeros((batch, steps), dtype=bool)
    padding_mask = xp.asarray(padding_mask)
    if padding_mask.shape != (batch, steps):
        raise ValueError(f"padding_mask must have shape (batch, steps) = {(batch, steps)}, got {padding_mask.shape}")
    if padding_mask.dtype != bool:
        if not bool(xp.all((padding_mask == 0) | (padding_mask == 1))):
            raise ValueError("padding_mask must hold booleans or 0/1, True (1) at padded steps")
        padding_mask = padding_mask.astype(bool)
    return padding_mask


def sigmoid_in_place(a: Any) -> Any:
    """σ(a) = (1 + tanh(a / 2)) / 2, overwriting ``a``: one tanh instead of exp, add and divide,
    and safe for any magnitude. Returns ``a``."""
    xp = backend.get_array_module(a)
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _uniform(shape: tuple[int, ...], bound: float) -> Any:
    return backend.xp.asarray(backend.rng().uniform(-bound, bound, size=shape), dtype=backend.default_dtype())


class Recurrent(Module):
    """Base class of RNN, LSTM and GRU: parameters, the time loop, padding and BPTT.

    Parameters
    ----------
    input_size, hidden_size : int
        F and H.
    return_sequences : bool
        True: ``forward`` returns the output of every step, (B, T, H), zeros at padded steps.
        False: it returns the final hidden state (B, H), the output of each sequence's last real step.
    reverse : bool
        Walk the sequence from its end to its start (the backward half of :class:`Bidirectional`).
    bptt_steps : int or None
        Truncate backpropagation through time to chunks of this many steps (see the module docstring).

    Every weight and bias starts uniform in ±1/√H, as in PyTorch. After ``forward``,
    ``final_state`` holds the state after each sequence's last real step (h (B, H), or (h, c) for
    the LSTM); after ``backward``, ``initial_state_grad`` holds ∂L/∂(initial state) in that form.

    Subclasses set ``num_gates`` (G), ``state_names`` and ``input_bias_takes_recurrent_bias``, and
    write one step of the cell forward (``_step``) and backward (``_step_backward``).
    """

    num_gates: int = 1
    state_names: tuple[str, ...] = ("h",)
    # b_hh joins b_ih in the input projection (one add for all steps), unless the cell needs
    # h W_hh + b_hh on its own, like the GRU's reset gate does.
    input_bias_takes_recurrent_bias: bool = True

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = True, reverse: bool = False, bptt_steps: int | None = None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__} needs a positive integer {name}, got {value!r}")
        if bptt_steps is not None and (isinstance(bptt_steps, bool) or not isinstance(bptt_steps, int) or bptt_steps < 1):
            raise ValueError(f"bptt_steps must be None (full backpropagation) or a positive integer, got {bptt_steps!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.return_sequences, self.reverse, self.bptt_steps = bool(return_sequences), bool(reverse), bptt_steps
        width, bound = self.num_gates * hidden_size, 1 / math.sqrt(hidden_size)
        self.weight_ih = Parameter(_uniform((input_size, width), bound))
        self.weight_hh = Parameter(_uniform((hidden_size, width), bound))
        self.bias_ih = Parameter(_uniform((width,), bound))
        self.bias_hh = Parameter(_uniform((width,), bound))
        self.final_state: Any = None
        self.initial_state_grad: Any = None
        self._workspace: dict[str, Any] = {}

    # -- the time loop ----------------------------------------------------------------------

    def forward(self, x: Any, padding_mask: Any = None, initial_state: Any = None, lengths: Any = None) -> Any:
        """Run the cell over every step of ``x``.

        Parameters
        ----------
        x : float array (B, T, F)
        padding_mask : bool array (B, T), optional
            True at padded steps.
        initial_state : array (B, H), or (h, c) for the LSTM, optional
            The state before the first step; zeros when not given.
        lengths : int array (B,), optional
            Instead of ``padding_mask``, for sequences padded at the end.

        Returns
        -------
        (B, T, H) outputs when ``return_sequences``, else the final hidden state (B, H).
        """
        xp = backend.get_array_module(x)
        dtype = self.weight_ih.data.dtype
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[1] < 1:
            raise ValueError(
                f"{type(self).__name__} expects inputs (batch, steps, {self.input_size}) with at least one step, got shape {x.shape}"
            )
        batch, steps, _ = x.shape
        hidden, width = self.hidden_size, self.num_gates * self.hidden_size
        padded = padding_mask_from(padding_mask, lengths, batch, steps)  # (B, T)
        self._padded_steps = padded.T[:, :, None]  # (T, B, 1)
        self._step_has_padding = padded.any(axis=0).tolist()  # T Python bools: skip the masking work where none is padded
        self._order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        # states[k] is the state before step k (after step k - 1) going forward; reversed, the
        # state before step k sits at k + 1: so step t reads states[t + before] and writes states[t + after]
        self._before, self._after = (1, 0) if self.reverse else (0, 1)

        self._x = self._scratch("x", (steps, batch, self.input_size), dtype)
        self._x[...] = x.transpose(1, 0, 2)  # (T, B, F), time-major: each step's rows are contiguous
        gates = self._scratch("gates", (steps, batch, width), dtype)  # a_t for every step
        xp.matmul(self._x.reshape(steps * batch, -1), self.weight_ih.data, out=gates.reshape(steps * batch, width))
        gates += self.bias_ih.data + self.bias_hh.data if self.input_bias_takes_recurrent_bias else self.bias_ih.data
        self._states = [self._scratch(f"state {name}", (steps + 1, batch, hidden), dtype) for name in self.state_names]
        start = steps if self.reverse else 0
        for states, value in zip(self._states, self._initial_arrays(initial_state, batch, dtype)):
            states[start] = value
        self._prepare(steps, batch, dtype)

        for t in self._order:
            before = [states[t + self._before] for states in self._states]  # each (B, H)
            after = [states[t + self._after] for states in self._states]
            self._step(t, gates[t], before, after)
            if self._step_has_padding[t]:
                for new, old in zip(after, before):
                    xp.copyto(new, old, where=self._padded_steps[t])  # a padded step keeps the state

        end = 0 if self.reverse else steps
        final = [states[end].copy() for states in self._states]
        self.final_state = self._pack(final)
        if not self.return_sequences:
            return final[0].copy()
        hidden_states = self._states[0][1:] if not self.reverse else self._states[0][:-1]  # (T, B, H), h after each step t
        outputs = hidden_states.transpose(1, 0, 2).copy()  # (B, T, H), C-ordered, never a view of the workspace
        outputs[padded] = 0
        return outputs

    def backward(self, grad_output: Any, grad_final_state: Any = None) -> Any:
        """Backpropagation through time, the steps of ``forward`` in reverse order.

        Parameters
        ----------
        grad_output : array (B, T, H), or (B, H) without ``return_sequences``
            ∂L/∂(the output of forward).
        grad_final_state : array (B, H), or (h, c) for the LSTM, optional
            ∂L/∂final_state, when the final state feeds something else (a decoder, say).

        Returns
        -------
        ∂L/∂x (B, T, F), or None when ``needs_input_grad`` is False. Adds into every parameter's
        ``.grad`` and sets ``initial_state_grad``.
        """
        xp = backend.get_array_module(grad_output)
        steps, batch, _ = self._x.shape
        width = self.num_gates * self.hidden_size
        dtype = self.weight_ih.data.dtype
        grad_gates = self._scratch("grad gates", (steps, batch, width), dtype)  # ∂L/∂a_t for every step
        # The GRU's ∂L/∂(h W_hh) differs from its ∂L/∂(x W_ih): the reset gate scales one of them.
        grad_recurrent = grad_gates if self.input_bias_takes_recurrent_bias else self._scratch("grad recurrent", grad_gates.shape, dtype)
        if grad_final_state is None:
            grad = [xp.zeros((batch, self.hidden_size), dtype=dtype) for _ in self.state_names]
        else:
            grad = [xp.array(array, dtype=dtype) for array in self._unpack(grad_final_state, batch, "grad_final_state")]
        if self.return_sequences:
            grad_steps = grad_output.transpose(1, 0, 2)  # (T, B, H)
        else:
            grad[0] += grad_output
        self._prepare_backward()

        for position, t in enumerate(reversed(self._order)):
            grad_after = list(grad)
            if self.return_sequences:
                grad_after[0] = grad_after[0] + grad_steps[t]
            if self._step_has_padding[t]:  # padded rows: no output, the state passes through unchanged
                grad_after = [xp.where(self._padded_steps[t], 0, array) for array in grad_after]
            before = [states[t + self._before] for states in self._states]
            after = [states[t + self._after] for states in self._states]
            grad_before = self._step_backward(t, grad_after, before, after, grad_gates[t], grad_recurrent[t])
            if self._step_has_padding[t]:
                for new, carried in zip(grad_before, grad):
                    xp.copyto(new, carried, where=self._padded_steps[t])
            grad = grad_before
            steps_done = len(self._order) - 1 - position  # steps that came before this one in the loop
            if self.bptt_steps is not None and steps_done % self.bptt_steps == 0 and steps_done > 0:
                grad = [xp.zeros_like(array) for array in grad]  # the start of a chunk: truncate
        self.initial_state_grad = self._pack(grad)

        hidden_before = self._states[0][1:] if self.reverse else self._states[0][:-1]  # (T, B, H), h_{t-1} of each step t
        self.weight_hh.grad += hidden_before.reshape(steps * batch, -1).T @ grad_recurrent.reshape(steps * batch, width)
        self.weight_ih.grad += self._x.reshape(steps * batch, -1).T @ grad_gates.reshape(steps * batch, width)
        grad_bias = grad_gates.sum(axis=(0, 1))
        self.bias_ih.grad += grad_bias
        self.bias_hh.grad += grad_bias if grad_recurrent is grad_gates else grad_recurrent.sum(axis=(0, 1))
        if not self.needs_input_grad:
            return None
        grad_x = grad_gates.reshape(steps * batch, width) @ self.weight_ih.data.T  # (T·B, F)
        return grad_x.reshape(steps, batch, -1).transpose(1, 0, 2)  # (B, T, F)

    # -- what each cell writes --------------------------------------------------------------

    def _prepare(self, steps: int, batch: int, dtype: Any) -> None:
        """Allocate what the cell keeps for its backward pass (called once per forward)."""

    def _step(self, t: int, gates: Any, before: Sequence[Any], after: Sequence[Any]) -> None:
        """One step forward: ``gates`` (B, G·H) holds x_t W_ih + b for step t and may be overwritten
        with the gates' activations; ``before`` are the state arrays before the step and the
        cell writes the new state into the arrays ``after``, each (B, H)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _step")

    def _prepare_backward(self) -> None:
        """Precompute, over all steps at once, what every step of the backward pass needs."""

    def _step_backward(self, t: int, grad_after: Sequence[Any], before: Sequence[Any], after: Sequence[Any],
                       grad_gates: Any, grad_recurrent: Any) -> list[Any]:
        """One step backward: from ∂L/∂(state after step t) write ∂L/∂a_t into ``grad_gates``
        (B, G·H) (and, for the GRU, ∂L/∂(h W_hh + b_hh) into ``grad_recurrent``) and return
        ∂L/∂(state before step t), a list of (B, H) arrays."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _step_backward")

    # -- helpers ----------------------------------------------------------------------------

    def _scratch(self, name: str, shape: tuple[int, ...], dtype: Any) -> Any:
        """A work array kept between calls of one shape, so the loop allocates nothing large."""
        array = self._workspace.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = backend.xp.empty(shape, dtype=dtype)
            self._workspace[name] = array
        return array

    def _initial_arrays(self, initial_state: Any, batch: int, dtype: Any) -> list[Any]:
        if initial_state is None:
            return [backend.xp.zeros((batch, self.hidden_size), dtype=dtype) for _ in self.state_names]
        return self._unpack(initial_state, batch, "initial_state")

    def _unpack(self, state: Any, batch: int, name: str) -> list[Any]:
        arrays = [state] if len(self.state_names) == 1 else list(state) if isinstance(state, (tuple, list)) else None
        expected = (batch, self.hidden_size)
        form = f"an array {expected}" if len(self.state_names) == 1 else f"a tuple ({', '.join(self.state_names)}) of arrays {expected}"
        if arrays is None or len(arrays) != len(self.state_names) or any(getattr(a, "shape", None) != expected for a in arrays):
            raise ValueError(f"{type(self).__name__} {name} must be {form}")
        return arrays

    def _pack(self, arrays: list[Any]) -> Any:
        return arrays[0] if len(arrays) == 1 else tuple(arrays)

    def get_config(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "return_sequences": self.return_sequences,
            "reverse": self.reverse,
            "bptt_steps": self.bptt_steps,
        }
