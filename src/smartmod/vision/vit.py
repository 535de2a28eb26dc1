"""The Vision Transformer (Dosovitskiy et al. 2021, "An image is worth 16x16 words", §3.1, eq. 1-4).

An image is cut into P×P patches, each projected to a token (eq. 1); a learned class token is
put in front and learned position embeddings are added; pre-norm transformer encoder blocks
(LayerNorm before self-attention and before the MLP, eq. 2-3) transform the 1 + L tokens; a
final LayerNorm and one Dense layer read the class token's output as the logits (eq. 4).

Dropout, when set, acts where the paper puts it: after the position embeddings are added and
inside every block (attention weights, the MLP's hidden layer, both residual branches).
"""
from __future__ import annotations

from smartmod.nn.layers.class_token import ClassToken, ClassTokenPooling
from smartmod.nn.layers.conv import pair
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.patch_embedding import PatchEmbedding
from smartmod.nn.layers.positional import LearnedPositionalEmbedding
from smartmod.nn.layers.transformer import TransformerEncoder
from smartmod.nn.module import Sequential

__all__ = ["vision_transformer"]


def vision_transformer(image_size: int | tuple[int, int] = 32, patch_size: int | tuple[int, int] = 4, in_channels: int = 3,
                       classes: int = 10, d_model: int = 64, depth: int = 6, num_heads: int = 4, d_ff: int | None = None,
                       dropout: float = 0.1, activation: str = "gelu") -> Sequential:
    """The network as a :class:`~smartmod.nn.Sequential`: (N, in_channels, H, W) images → (N, classes) logits.

    Its children, by name: ``"0"`` :class:`PatchEmbedding` (N, L, D); ``"1"`` :class:`ClassToken`
    (N, 1 + L, D); ``"2"`` :class:`LearnedPositionalEmbedding`; ``"3"`` :class:`Dropout`;
    ``"4"`` :class:`TransformerEncoder` (pre-norm, final LayerNorm); ``"5"``
    :class:`ClassTokenPooling` (N, D); ``"6"`` :class:`Dense` (N, classes).

    Parameters
    ----------
    image_size : int or (int, int)
        (H, W); the position table has one row per patch of this size, plus the class token.
    patch_size : int or (int, int)
        P; must divide the image size.
    in_channels, classes : int
    d_model : int
        D, the token width ("hidden size D" in the paper's Table 1).
    depth : int
        Encoder blocks.
    num_heads : int
        Must divide d_model.
    d_ff : int, optional
        Hidden width of each block's MLP; 4 · d_model when not given, as ViT-Base/Large/Huge.
    dropout : float
    activation : {"gelu", "relu"}
        Of the MLP; the paper's is GELU.
    """
    height, width = pair(image_size, "image_size")
    patch_h, patch_w = pair(patch_size, "patch_size")
    if min(patch_h, patch_w) < 1 or height % patch_h or width % patch_w:
        raise ValueError(f"patch_size {(patch_h, patch_w)} must divide image_size {(height, width)} into whole patches")
    patches = (height // patch_h) * (width // patch_w)
    model = Sequential(
        PatchEmbedding((patch_h, patch_w), in_channels, d_model),
        ClassToken(d_model),
        LearnedPositionalEmbedding(1 + patches, d_model),
        Dropout(dropout),
        TransformerEncoder(depth, d_model, num_heads, 4 * d_model if d_ff is None else d_ff, dropout, activation,
                           norm_first=True, final_norm=True),
        ClassTokenPooling(),
        Dense(d_model, classes),
    )
    model.needs_input_grad = False  # the input is images: the patch projection skips its input gradient
    return model
