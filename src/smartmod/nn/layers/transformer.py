"""The transformer encoder (Vaswani et al. 2017, section 3.1): blocks of self-attention and a
position-wise feed-forward network, each inside a residual connection with layer normalization.

Laid out as ``torch.nn.TransformerEncoderLayer(batch_first=True)`` (``norm_first`` both ways,
``activation`` relu or gelu) and ``torch.nn.TransformerEncoder``, so weights copy over.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.feedforward import PositionwiseFeedForward
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.layers.normalization import LayerNorm
from smartmod.nn.layers.residual_norm import ResidualNorm
from smartmod.nn.module import Module

__all__ = ["TransformerBlock", "TransformerEncoderLayer", "TransformerStack", "TransformerEncoder"]


class TransformerBlock(Module):
    """What encoder and decoder layers share: their hyperparameters and how a sub-layer is
    wrapped. Subclasses build their sub-layers with :meth:`attention_block` and
    :meth:`feed_forward_block` and define ``forward`` and ``backward``.

    Parameters
    ----------
    d_model : int
        Width of every position's vector.
    num_heads : int
        Attention heads; must divide d_model.
    d_ff : int
        Hidden width of the feed-forward network.
    dropout : float
        One rate for the attention weights, the feed-forward hidden layer and the residual
        branches, as PyTorch's ``dropout``.
    activation : {"relu", "gelu"}
    norm_first : bool
        Pre-norm (True) or post-norm (False, the original and PyTorch's default).
    layer_norm_eps : float
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        self.config = {"d_model": d_model, "num_heads": num_heads, "d_ff": d_ff, "dropout": dropout,
                       "activation": activation, "norm_first": norm_first, "layer_norm_eps": layer_norm_eps}

    def _residual(self, sublayer: Module) -> ResidualNorm:
        c = self.config
        return ResidualNorm(sublayer, c["d_model"], c["dropout"], c["norm_first"], c["layer_norm_eps"])

    def attention_block(self) -> ResidualNorm:
        """Multi-head attention inside a residual connection and LayerNorm."""
        return self._residual(MultiHeadAttention(self.config["d_model"], self.config["num_heads"], self.config["dropout"]))

    def feed_forward_block(self) -> ResidualNorm:
        """The position-wise feed-forward network inside a residual connection and LayerNorm."""
        c = self.config
        return self._residual(PositionwiseFeedForward(c["d_model"], c["d_ff"], c["activation"], c["dropout"]))

    def get_config(self) -> dict[str, Any]:
        return dict(self.config)


class TransformerEncoderLayer(TransformerBlock):
    """Self-attention, then feed-forward, each wrapped in :class:`ResidualNorm`; arguments as
    :class:`TransformerBlock`.

    Shapes: ``x`` ``(B, T, d_model)`` in and out; ``key_padding_mask`` ``(B, T)``, True at padding;
    ``attn_mask`` ``(T, T)`` or ``(B * num_heads, T, T)``; ``causal`` blocks later positions.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__(d_model, num_heads, d_ff, dropout, activation, norm_first, layer_norm_eps)
        self.self_attention = self.attention_block()
        self.feed_forward = self.feed_forward_block()

    def forward(self, x: Any, *, key_padding_mask: Any = None, attn_mask: Any = None, causal: bool = False) -> Any:
        x = self.self_attention.forward(x, key_padding_mask=key_padding_mask, attn_mask=attn_mask, causal=causal)  # (B, T, d)
        return self.feed_forward.forward(x)  # (B, T, d)

    def backward(self, grad_output: Any) -> Any:
        return self.self_attention.backward(self.feed_forward.backward(grad_output))


class TransformerStack(Module):
    """``num_layers`` layers of one configuration, then an optional final LayerNorm
    (``final_norm``, usual with pre-norm layers, whose output is otherwise unnormalized).

    The shared shape of :class:`TransformerEncoder` and
    :class:`~smartmod.nn.layers.transformer_decoder.TransformerDecoder`, which name the layer
    class (``layer_class``) and run the layers.

    Parameters
    ----------
    num_layers : int
    d_model, num_heads, d_ff, dropout, activation, norm_first, layer_norm_eps
        As :class:`TransformerBlock`.
    final_norm : bool
    """

    layer_class: type[Module]

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, layer_norm_eps: float = 1e-5, final_norm: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"{type(self).__name__} needs at least one layer, got num_layers={num_layers}")
        self.num_layers, self.final_norm = num_layers, final_norm
        self.layer_config = {"d_model": d_model, "num_heads": num_heads, "d_ff": d_ff, "dropout": dropout,
                             "activation": activation, "norm_first": norm_first, "layer_norm_eps": layer_norm_eps}
        for index in range(num_layers):
            setattr(self, f"layer{index}", self.layer_class(**self.layer_config))
        if final_norm:
            self.norm = LayerNorm(d_model, eps=layer_norm_eps)

    @property
    def layers(self) -> list[Module]:
        return [getattr(self, f"layer{index}") for index in range(self.num_layers)]

    def get_config(self) -> dict[str, Any]:
        return {"num_layers": self.num_layers, **self.layer_config, "final_norm": self.final_norm}


class TransformerEncoder(TransformerStack):
    """A stack of :class:`TransformerEncoderLayer` (arguments as :class:`TransformerStack`),
    as ``torch.nn.TransformerEncoder``. Shapes and masks as the layer; every layer gets the same masks.
    """

    layer_class = TransformerEncoderLayer

    def forward(self, x: Any, *, key_padding_mask: Any = None, attn_mask: Any = None, causal: bool = False) -> Any:
        for layer in self.layers:
            x = layer.forward(x, key_padding_mask=key_padding_mask, attn_mask=attn_mask, causal=causal)  # (B, T, d)
        return self.norm.forward(x) if self.final_norm else x

    def backward(self, grad_output: Any) -> Any:
        if self.final_norm:
            grad_output = self.norm.backward(grad_output)
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output
