"""The transformer decoder (Vaswani et al. 2017, section 3.1): masked self-attention over the
output so far, cross-attention to the encoder's memory, and a position-wise feed-forward network,
each inside a residual connection with layer normalization.

Laid out as ``torch.nn.TransformerDecoderLayer(batch_first=True)`` and
``torch.nn.TransformerDecoder``, so weights copy over. Unlike PyTorch, the self-attention is
causal unless ``causal=False`` is passed: position t sees the outputs 0..t only, which is what
lets one teacher-forced pass train every position at once.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.transformer import TransformerBlock, TransformerStack

__all__ = ["TransformerDecoderLayer", "TransformerDecoder"]


class TransformerDecoderLayer(TransformerBlock):
    """Causal self-attention, cross-attention, feed-forward, each wrapped in
    :class:`~smartmod.nn.layers.residual_norm.ResidualNorm`; arguments as :class:`~smartmod.nn.layers.transformer.TransformerBlock`.

    Shapes: ``target`` ``(B, T, d_model)``, ``memory`` ``(B, S, d_model)``, output ``(B, T, d_model)``;
    ``target_key_padding_mask`` ``(B, T)`` and ``memory_key_padding_mask`` ``(B, S)``, True at
    padding; ``target_mask`` ``(T, T)`` and ``memory_mask`` ``(T, S)`` (or with a leading
    ``B * num_heads`` axis). ``backward`` returns ``(d_target, d_memory)``.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__(d_model, num_heads, d_ff, dropout, activation, norm_first, layer_norm_eps)
        self.self_attention = self.attention_block()
        self.cross_attention = self.attention_block()
        self.feed_forward = self.feed_forward_block()

    def forward(self, target: Any, memory: Any, *, target_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                target_mask: Any = None, memory_mask: Any = None, causal: bool = True) -> Any:
        x = self.self_attention.forward(target, key_padding_mask=target_key_padding_mask, attn_mask=target_mask, causal=causal)
        x = self.cross_attention.forward(x, memory, key_padding_mask=memory_key_padding_mask, attn_mask=memory_mask)  # (B, T, d)
        return self.feed_forward.forward(x)  # (B, T, d)

    def backward(self, grad_output: Any) -> tuple[Any, Any]:
        grad_x, grad_memory = self.cross_attention.backward(self.feed_forward.backward(grad_output))
        return self.self_attention.backward(grad_x), grad_memory


class TransformerDecoder(TransformerStack):
    """A stack of :class:`TransformerDecoderLayer` (arguments as
    :class:`~smartmod.nn.layers.transformer.TransformerStack`), as ``torch.nn.TransformerDecoder``.
    Every layer attends to the same memory, whose gradient is the sum over layers.

    Shapes and masks as :class:`TransformerDecoderLayer`; ``backward`` returns ``(d_target, d_memory)``.
    """

    layer_class = TransformerDecoderLayer

    def forward(self, target: Any, memory: Any, **masks: Any) -> Any:
        x = target
        for layer in self.layers:
            x = layer.forward(x, memory, **masks)  # (B, T, d)
        return self.norm.forward(x) if self.final_norm else x

    def backward(self, grad_output: Any) -> tuple[Any, Any]:
        if self.final_norm:
            grad_output = self.norm.backward(grad_output)
        grad_memory = 0
        for layer in reversed(self.layers):
            grad_output, grad_layer_memory = layer.backward(grad_output)
            grad_memory = grad_memory + grad_layer_memory
        return grad_output, grad_memory
