"""The Elman recurrent network (Elman 1990, "Finding structure in time"), as ``torch.nn.RNN``
with its default tanh nonlinearity::

    h_t = tanh(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh)

Backpropagating from step t to step t - k multiplies the gradient by k Jacobians
diag(1 - h²) W_hhᵀ; unless W_hh is large enough to saturate tanh, their product shrinks
geometrically, which is why the plain RNN forgets long-range dependencies (Bengio et al. 1994).
"""
from __future__ import annotations

from typing import Any, Sequence

from smartmod.nn import backend
from smartmod.nn.layers.recurrent import Recurrent

__all__ = ["RNN"]


class RNN(Recurrent):
    """Elman RNN layer over (B, T, F) sequences; the state is h (B, H).

    Parameters and shapes as :class:`~smartmod.nn.layers.recurrent.Recurrent`, with one gate:
    ``weight_ih`` (F, H), ``weight_hh`` (H, H), biases (H,).
    """

    num_gates = 1
    state_names = ("h",)

    def _prepare(self, steps: int, batch: int, dtype: Any) -> None:
        self._recurrent = self._scratch("h W_hh", (batch, self.hidden_size), dtype)

    def _step(self, t: int, gates: Any, before: Sequence[Any], after: Sequence[Any]) -> None:
        xp = backend.xp
        xp.matmul(before[0], self.weight_hh.data, out=self._recurrent)
        gates += self._recurrent  # a_t, (B, H)
        xp.tanh(gates, out=after[0])  # h_t

    def _step_backward(self, t: int, grad_after: Sequence[Any], before: Sequence[Any], after: Sequence[Any],
                       grad_gates: Any, grad_recurrent: Any) -> list[Any]:
        h = after[0]  # on padded rows the carried state, but their gradient is zero there
        backend.xp.multiply(grad_after[0], 1 - h * h, out=grad_gates)  # ∂L/∂a_t = ∂L/∂h_t (1 - h_t²)
        return [grad_gates @ self.weight_hh.data.T]  # ∂L/∂h_{t-1}, (B, H)
