"""smartmod.nn: a deep-learning framework written from first principles on NumPy.

It knows nothing about moderation; the rest of smartmod builds on it, never the reverse.
"""
from smartmod.nn import backend, init
from smartmod.nn.layers import (
    ELU,
    GELU,
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from smartmod.nn.layers import (
    AdditiveAttention,
    LearnedPositionalEmbedding,
    MultiHeadAttention,
    PositionwiseFeedForward,
    ResidualNorm,
    ScaledDotProductAttention,
    SinusoidalPositionalEncoding,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from smartmod.nn.module import Module, Parallel, Parameter, Sequential, layer_from_config

__all__ = [
    "backend",
    "init",
    "Module",
    "Parameter",
    "Sequential",
    "Parallel",
    "layer_from_config",
    "Dense",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Dropout",
    "BatchNorm",
    "LayerNorm",
    "Embedding",
    "AdditiveAttention",
    "LearnedPositionalEmbedding",
    "MultiHeadAttention",
    "PositionwiseFeedForward",
    "ResidualNorm",
    "ScaledDotProductAttention",
    "SinusoidalPositionalEncoding",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]
