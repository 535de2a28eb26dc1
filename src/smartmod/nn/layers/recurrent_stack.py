"""Stacked recurrent layers (Graves et al. 2013, "Speech recognition with deep recurrent neural
networks"): the output sequence of one layer is the input sequence of the next, with dropout
between layers (Zaremba et al. 2014, "Recurrent neural network regularization": dropout on the
connections between layers, never on the recurrent ones), as ``num_layers`` and ``dropout`` do
in ``torch.nn.LSTM``. Unlike :class:`~smartmod.nn.Sequential`, the stack hands the padding to
every layer.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.bidirectional import Bidirectional
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.recurrent import Recurrent
from smartmod.nn.module import Module, layer_from_config

__all__ = ["RecurrentStack"]


class RecurrentStack(Module):
    """Recurrent layers applied in order, each fed the previous one's outputs.

    Parameters
    ----------
    *layers : RNN, LSTM, GRU or Bidirectional
        Registered as ``"0"``, ``"1"``, ...; every layer but the last must return sequences, and
        each one's input size must be the previous one's output size (2H when bidirectional).
    dropout : float
        Dropout probability on the outputs of every layer but the last (training only).

    Shapes: x (B, T, F) with ``padding_mask`` (B, T) or ``lengths`` (B,); the output is the last
    layer's. ``initial_state``, ``final_state`` and ``initial_state_grad`` are lists with one
    entry per layer, each that layer's state.
    """

    def __init__(self, *layers: Module, dropout: float = 0.0):
        super().__init__()
        if not layers:
            raise ValueError("RecurrentStack needs at least one layer")
        if not 0 <= dropout < 1:
            raise ValueError(f"RecurrentStack dropout must be in [0, 1), got {dropout}")
        for index, layer in enumerate(layers):
            inner = layer.forward_layer if isinstance(layer, Bidirectional) else layer
            if not isinstance(inner, Recurrent):
                raise TypeError(f"RecurrentStack takes RNN, LSTM, GRU or Bidirectional layers; layer {index} is a {type(layer).__name__}")
            if index < len(layers) - 1 and not inner.return_sequences:
                raise ValueError(f"layer {index} feeds the next layer, so it must have return_sequences=True")
            if index > 0 and inner.input_size != _output_size(layers[index - 1]):
                raise ValueError(
                    f"layer {index} takes {inner.input_size} features but layer {index - 1} outputs {_output_size(layers[index - 1])}"
                )
            setattr(self, str(index), layer)
        self.dropout = dropout
        self._layers = list(layers)
        self._dropouts = [Dropout(dropout) for _ in layers[:-1]]
        for index, layer in enumerate(self._dropouts):
            setattr(self, f"dropout_{index}", layer)
        self.final_state: Any = None
        self.initial_state_grad: Any = None

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> Module:
        return self._layers[index]

    def forward(self, x: Any, padding_mask: Any = None, initial_state: Any = None, lengths: Any = None) -> Any:
        """The last layer's output: (B, T, H_last), or its final hidden state without return_sequences."""
        states = [None] * len(self._layers) if initial_state is None else list(initial_state)
        if len(states) != len(self._layers):
            raise ValueError(f"initial_state must be a list of {len(self._layers)} states, one per layer; got {len(states)}")
        for index, layer in enumerate(self._layers):
            x = layer.forward(x, padding_mask, states[index], lengths)
            if index < len(self._dropouts):
                x = self._dropouts[index].forward(x)
        self.final_state = [layer.final_state for layer in self._layers]
        return x

    def backward(self, grad_output: Any, grad_final_state: Any = None) -> Any:
        """∂L/∂x (B, T, F), or None when ``needs_input_grad`` is False; sets ``initial_state_grad``."""
        grad_states = [None] * len(self._layers) if grad_final_state is None else list(grad_final_state)
        object.__setattr__(self._layers[0], "needs_input_grad", self.needs_input_grad)
        grad = grad_output
        for index in reversed(range(len(self._layers))):
            if index < len(self._dropouts):
                grad = self._dropouts[index].backward(grad)
            grad = self._layers[index].backward(grad, grad_states[index])
        self.initial_state_grad = [layer.initial_state_grad for layer in self._layers]
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"layers": [layer.to_config() for layer in self._layers], "dropout": self.dropout}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "RecurrentStack":
        return cls(*(layer_from_config(layer) for layer in config["layers"]), dropout=config.get("dropout", 0.0))


def _output_size(layer: Module) -> int:
    return 2 * layer.hidden_size if isinstance(layer, Bidirectional) else layer.hidden_size
