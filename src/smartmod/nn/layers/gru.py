"""Gated recurrent unit (Cho et al. 2014, "Learning phrase representations using RNN
encoder-decoder for statistical machine translation"), in the form and gate order of
``torch.nn.GRU``, whose reset gate multiplies the recurrent term after its bias::

    [r, z, n]ˣ = x_t W_ih + b_ih,   [r, z, n]ʰ = h_{t-1} W_hh + b_hh      (B, 3H) each
    r = σ(rˣ + rʰ),   z = σ(zˣ + zʰ)
    n = tanh(nˣ + r ⊙ nʰ)
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

The update gate z interpolates between the old state and the candidate n, so ∂h_t/∂h_{t-1}
contains z itself: like the LSTM's forget gate, it lets gradients cross many steps.
"""
from __future__ import annotations

from typing import Any, Sequence

from smartmod.nn import backend
from smartmod.nn.layers.recurrent import Recurrent, sigmoid_in_place

__all__ = ["GRU"]


class GRU(Recurrent):
    """GRU layer over (B, T, F) sequences; the state is h (B, H).

    Parameters and shapes as :class:`~smartmod.nn.layers.recurrent.Recurrent`; the gates of
    ``weight_ih`` (F, 3H), ``weight_hh`` (H, 3H) and the biases (3H,) are in PyTorch's order r, z, n.
    """

    num_gates = 3
    state_names = ("h",)
    input_bias_takes_recurrent_bias = False  # r multiplies h W_hn + b_hn, so b_hh stays apart

    def _prepare(self, steps: int, batch: int, dtype: Any) -> None:
        # h_{t-1} W_hh + b_hh of every step: its n part is needed again in backward
        self._recurrent = self._scratch("h W_hh + b_hh", (steps, batch, 3 * self.hidden_size), dtype)

    def _step(self, t: int, gates: Any, before: Sequence[Any], after: Sequence[Any]) -> None:
        xp, hidden = backend.xp, self.hidden_size
        h_before, h = before[0], after[0]
        recurrent = self._recurrent[t]
        xp.matmul(h_before, self.weight_hh.data, out=recurrent)
        recurrent += self.bias_hh.data  # [r, z, n]ʰ, (B, 3H)
        reset_update = gates[:, :2 * hidden]
        reset_update += recurrent[:, :2 * hidden]
        sigmoid_in_place(reset_update)  # r, z
        r, z = reset_update[:, :hidden], reset_update[:, hidden:]
        n = gates[:, 2 * hidden:]
        n += r * recurrent[:, 2 * hidden:]
        xp.tanh(n, out=n)  # n = tanh(nˣ + r nʰ)
        xp.subtract(h_before, n, out=h)
        h *= z
        h += n  # h_t = n + z (h_{t-1} - n)

    def _step_backward(self, t: int, grad_after: Sequence[Any], before: Sequence[Any], after: Sequence[Any],
                       grad_gates: Any, grad_recurrent: Any) -> list[Any]:
        xp, hidden = backend.xp, self.hidden_size
        grad_h, h_before = grad_after[0], before[0]
        activations = self._workspace["gates"][t]  # (B, 3H): r, z, n
        r, z, n = (activations[:, k * hidden:(k + 1) * hidden] for k in range(3))
        recurrent_n = self._recurrent[t][:, 2 * hidden:]  # nʰ
        grad_r, grad_z, grad_n = (grad_gates[:, k * hidden:(k + 1) * hidden] for k in range(3))
        xp.multiply(grad_h * (1 - z), 1 - n * n, out=grad_n)  # ∂L/∂(nˣ + r nʰ)
        xp.multiply(grad_h * (h_before - n), z * (1 - z), out=grad_z)  # ∂L/∂(zˣ + zʰ)
        xp.multiply(grad_n * recurrent_n, r * (1 - r), out=grad_r)  # ∂L/∂(rˣ + rʰ)
        grad_recurrent[:, :2 * hidden] = grad_gates[:, :2 * hidden]
        xp.multiply(grad_n, r, out=grad_recurrent[:, 2 * hidden:])  # ∂L/∂nʰ
        return [grad_h * z + grad_recurrent @ self.weight_hh.data.T]  # ∂L/∂h_{t-1}, (B, H)
