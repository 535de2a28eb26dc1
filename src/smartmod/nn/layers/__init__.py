"""Layers: each a Module with forward and backward side by side."""
from smartmod.nn.layers.activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from smartmod.nn.layers.additive_attention import AdditiveAttention
from smartmod.nn.layers.attention import ScaledDotProductAttention, causal_mask
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.embedding import Embedding
from smartmod.nn.layers.feedforward import PositionwiseFeedForward
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.layers.normalization import BatchNorm, LayerNorm
from smartmod.nn.layers.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from smartmod.nn.layers.residual_norm import ResidualNorm
from smartmod.nn.layers.transformer import TransformerEncoder, TransformerEncoderLayer
from smartmod.nn.layers.transformer_decoder import TransformerDecoder, TransformerDecoderLayer

# __all__ names the layers of one (N, ...) input. The attention and transformer layers imported above take
# (B, T, d) inputs, several for some: tests/nn/test_attention.py checks their configurations and dtypes.
__all__ = ["Dense", "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "Dropout", "BatchNorm", "LayerNorm", "Embedding"]
