"""Long short-term memory (Hochreiter & Schmidhuber 1997; with the forget gate of Gers et al. 2000),
in the form and gate order of ``torch.nn.LSTM``::

    [i, f, g, o] = a_t = x_t W_ih + b_ih + h_{t-1} W_hh + b_hh      (B, 4H), split in four
    i, f, o = σ(i), σ(f), σ(o);   g = tanh(g)
    c_t = f ⊙ c_{t-1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)

The cell c_t is updated additively, so ∂c_t/∂c_{t-1} = f: while the forget gate stays open the
gradient crosses many steps without vanishing, where the plain RNN's shrinks at every step.
"""
from __future__ import annotations

from typing import Any, Sequence

from smartmod.nn import backend
from smartmod.nn.layers.recurrent import Recurrent

__all__ = ["LSTM"]


class LSTM(Recurrent):
    """LSTM layer over (B, T, F) sequences; the state is (h, c), each (B, H).

    Parameters and shapes as :class:`~smartmod.nn.layers.recurrent.Recurrent`; the gates of
    ``weight_ih`` (F, 4H), ``weight_hh`` (H, 4H) and the biases (4H,) are in PyTorch's order i, f, g, o.
    One more parameter:

    forget_bias : float
        Added to the forget gate's bias at initialization, so that the cell starts out keeping
        its memory (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1; longer memories want
        more). 0, the default, is PyTorch's initialization.
    """

    num_gates = 4
    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = True, reverse: bool = False,
                 bptt_steps: int | None = None, forget_bias: float = 0.0):
        super().__init__(input_size, hidden_size, return_sequences, reverse, bptt_steps)
        self.forget_bias = float(forget_bias)
        self.bias_ih.data[hidden_size:2 * hidden_size] += self.forget_bias

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "forget_bias": self.forget_bias}

    def _prepare(self, steps: int, batch: int, dtype: Any) -> None:
        hidden = self.hidden_size
        # σ(a) = (1 + tanh(a / 2)) / 2, so one tanh serves all four gates: scale the sigmoid
        # gates' columns by 1/2 before it, then map them to (1 + ·) / 2; g's columns stay as they are.
        # Full (B, 4H) arrays rather than (4H,) rows: NumPy multiplies same-shape arrays ~3x faster
        # than it broadcasts a row.
        self._scale = self._scratch("gate scale", (batch, 4 * hidden), dtype)
        self._scale[...] = backend.xp.repeat(backend.xp.asarray([0.5, 0.5, 1.0, 0.5], dtype=dtype), hidden)
        self._shift = 1 - self._scale  # 1/2 for i, f, o; 0 for g
        self._tanh_columns = 2 * self._scale - 1  # 1 on g's columns, 0 on the others
        self._tanh_cell = self._scratch("tanh c", (steps, batch, hidden), dtype)  # tanh(c_t), kept for backward
        self._recurrent = self._scratch("h W_hh", (batch, 4 * hidden), dtype)
        self._gates = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]  # columns of i, f, g, o

    def _step(self, t: int, gates: Any, before: Sequence[Any], after: Sequence[Any]) -> None:
        xp = backend.get_array_module(gates)
        (h_before, c_before), (h, c) = before, after
        xp.matmul(h_before, self.weight_hh.data, out=self._recurrent)
        gates += self._recurrent  # a_t, (B, 4H)
        gates *= self._scale
        xp.tanh(gates, out=gates)
        gates *= self._scale
        gates += self._shift  # σ(i), σ(f), tanh(g), σ(o)
        i, f, g, o = (gates[:, columns] for columns in self._gates)
        xp.multiply(f, c_before, out=c)
        c += i * g  # c_t = f c_{t-1} + i g
        tanh_c = self._tanh_cell[t]
        xp.tanh(c, out=tanh_c)
        xp.multiply(o, tanh_c, out=h)  # h_t = o tanh(c_t)

    def _prepare_backward(self) -> None:
        activations = self._workspace["gates"]  # (T, B, 4H)
        self._slope = self._scratch("activation slope", activations.shape[1:], activations.dtype)  # one step's

    def _step_backward(self, t: int, grad_after: Sequence[Any], before: Sequence[Any], after: Sequence[Any],
                       grad_gates: Any, grad_recurrent: Any) -> list[Any]:
        xp = backend.get_array_module(grad_gates)
        grad_h, grad_c = grad_after
        activations = self._workspace["gates"][t]  # (B, 4H): σ(i), σ(f), tanh(g), σ(o)
        i, f, g, o = (activations[:, columns] for columns in self._gates)
        grad_i, grad_f, grad_g, grad_o = (grad_gates[:, columns] for columns in self._gates)
        tanh_c = self._tanh_cell[t]
        xp.multiply(grad_h, tanh_c, out=grad_o)  # ∂L/∂o = ∂L/∂h tanh(c_t)
        grad_cell = tanh_c * tanh_c  # ∂L/∂c_t = ∂L/∂c_t from step t+1 + ∂L/∂h o (1 - tanh²(c_t))
        xp.subtract(1, grad_cell, out=grad_cell)
        grad_cell *= o
        grad_cell *= grad_h
        grad_cell += grad_c
        xp.multiply(grad_cell, g, out=grad_i)
        xp.multiply(grad_cell, before[1], out=grad_f)  # c_{t-1}
        xp.multiply(grad_cell, i, out=grad_g)
        # through the activations, σ' = σ (1 - σ) and tanh' = (1 - tanh)(1 + tanh): (1 - y)(y + [g's columns])
        xp.subtract(1, activations, out=self._slope)
        grad_gates *= self._slope
        xp.add(activations, self._tanh_columns, out=self._slope)
        grad_gates *= self._slope  # ∂L/∂a_t
        return [grad_gates @ self.weight_hh.data.T, grad_cell * f]  # ∂L/∂h_{t-1}, ∂L/∂c_{t-1}
