"""Bidirectional recurrent layers (Schuster & Paliwal 1997, "Bidirectional recurrent neural
networks"): one layer reads each sequence forwards, a twin with its own weights reads it
backwards, and their outputs are concatenated, so every step sees its whole context.

The backward twin starts each sequence at its own last real step (padding keeps the state, see
:mod:`smartmod.nn.layers.recurrent`), which is what PyTorch computes on packed sequences.

The two directions are independent, so on the CPU they run side by side, one per core: NumPy
releases the GIL inside its loops and BLAS calls, so two Python threads keep two cores busy with
the whole time loop, gate arithmetic included. Multi-threaded BLAS alone would parallelize only
the GEMMs, and the small per-step GEMMs poorly: each splits 64 rows between threads that must
meet after a few microseconds, which stalls whenever another process holds a core. Meanwhile
BLAS is held to one thread (with threadpoolctl), so the two loops do not fight over the cores
(:func:`smartmod.nn.parallel.over_batch`, the directions as its two rows). The directions run
one after the other when BLAS may use only one thread, when threadpoolctl is not installed, and
on the GPU.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

from smartmod.nn import backend, parallel
from smartmod.nn.layers.recurrent import Recurrent
from smartmod.nn.module import Module, layer_from_config

__all__ = ["Bidirectional"]


def _run_both(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """``(first(), second())``, computed at once on two cores when BLAS may use two threads: the
    two directions are the two "rows" :func:`parallel.over_batch` splits (BLAS held to one
    thread while they run; one after the other on one thread, without threadpoolctl, on the GPU)."""
    directions = (first, second)
    done = parallel.over_batch(lambda start, stop: [run() for run in directions[start:stop]], 2, parallel.MIN_ELEMENTS)
    result, other = itertools.chain.from_iterable(done)
    return result, other


class Bidirectional(Module):
    """Run ``layer`` forwards and a copy of it (fresh weights) backwards; concatenate the outputs.

    Parameters
    ----------
    layer : RNN, LSTM or GRU
        The forward direction (``reverse=False``); the backward twin gets the same configuration
        with ``reverse=True``.

    Shapes: x (B, T, F) and ``padding_mask`` (B, T) or ``lengths`` (B,) as the layer takes them;
    output (B, T, 2H) with ``return_sequences``, else (B, 2H): the forward direction's state
    after the last real step beside the backward direction's after the first (PyTorch's ``h_n``).
    ``initial_state``, ``final_state`` and ``initial_state_grad`` are pairs (forward, backward)
    of the layer's state. The parameters are ``forward_layer.*`` and ``backward_layer.*``.
    """

    def __init__(self, layer: Recurrent):
        super().__init__()
        if not isinstance(layer, Recurrent):
            raise TypeError(f"Bidirectional wraps an RNN, LSTM or GRU, got {type(layer).__name__}")
        if layer.reverse:
            raise ValueError("Bidirectional makes the reversed twin itself: pass the layer with reverse=False")
        self.forward_layer = layer
        self.backward_layer = type(layer).from_config({**layer.get_config(), "reverse": True})
        self.hidden_size = layer.hidden_size
        self.final_state: Any = None
        self.initial_state_grad: Any = None

    def forward(self, x: Any, padding_mask: Any = None, initial_state: Any = None, lengths: Any = None) -> Any:
        """Outputs of both directions side by side: (B, T, 2H), or (B, 2H) without return_sequences."""
        forward_state, backward_state = (None, None) if initial_state is None else initial_state
        ahead, behind = _run_both(
            lambda: self.forward_layer.forward(x, padding_mask, forward_state, lengths),
            lambda: self.backward_layer.forward(x, padding_mask, backward_state, lengths),
        )
        self.final_state = (self.forward_layer.final_state, self.backward_layer.final_state)
        return backend.get_array_module(ahead).concatenate([ahead, behind], axis=-1)

    def backward(self, grad_output: Any, grad_final_state: Any = None) -> Any:
        """∂L/∂x (B, T, F), the sum over both directions (None when ``needs_input_grad`` is False)."""
        forward_grad, backward_grad = (None, None) if grad_final_state is None else grad_final_state
        for layer in (self.forward_layer, self.backward_layer):
            object.__setattr__(layer, "needs_input_grad", self.needs_input_grad)
        grad_x, grad_behind = _run_both(
            lambda: self.forward_layer.backward(grad_output[..., :self.hidden_size], forward_grad),
            lambda: self.backward_layer.backward(grad_output[..., self.hidden_size:], backward_grad),
        )
        self.initial_state_grad = (self.forward_layer.initial_state_grad, self.backward_layer.initial_state_grad)
        return None if grad_x is None else grad_x + grad_behind

    def get_config(self) -> dict[str, Any]:
        return {"layer": self.forward_layer.to_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Bidirectional":
        return cls(layer_from_config(config["layer"]))
