"""Layers: each a Module with forward and backward side by side."""
from smartmod.nn.layers.activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from smartmod.nn.layers.additive_attention import AdditiveAttention
from smartmod.nn.layers.attention import ScaledDotProductAttention, causal_mask
from smartmod.nn.layers.bidirectional import Bidirectional
from smartmod.nn.layers.channel_attention import CBAM, ChannelAttention, SpatialAttention, SqueezeExcitation
from smartmod.nn.layers.class_token import ClassToken, ClassTokenPooling
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.embedding import Embedding
from smartmod.nn.layers.feedforward import PositionwiseFeedForward
from smartmod.nn.layers.flatten import Flatten
from smartmod.nn.layers.gradient_flow import gradient_norms_through_time
from smartmod.nn.layers.gru import GRU
from smartmod.nn.layers.lstm import LSTM
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.layers.normalization import BatchNorm, LayerNorm
from smartmod.nn.layers.patch_embedding import PatchEmbedding
from smartmod.nn.layers.pooling import AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d
from smartmod.nn.layers.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from smartmod.nn.layers.recurrent_stack import RecurrentStack
from smartmod.nn.layers.residual import BasicBlock, Bottleneck, Residual
from smartmod.nn.layers.residual_norm import ResidualNorm
from smartmod.nn.layers.rnn import RNN
from smartmod.nn.layers.scale import Scale
from smartmod.nn.layers.sequence_pooling import AttentionPooling, LastStepPooling, MaxOverTimePooling, MeanOverTimePooling
from smartmod.nn.layers.transformer import TransformerEncoder, TransformerEncoderLayer
from smartmod.nn.layers.transformer_decoder import TransformerDecoder, TransformerDecoderLayer
from smartmod.nn.layers.whitening import PatchWhitening

# __all__ names the layers of one (N, ...) input. The attention and transformer layers imported above take
# (B, T, d) inputs, several for some: tests/nn/test_attention.py checks their configurations and dtypes.
# The recurrent layers and pooling over time take (B, T, F) sequences and a padding mask:
# tests/nn/test_recurrent_layers.py and tests/nn/test_sequence_pooling.py check theirs.
# The convolution, patch whitening, pooling, residual and channel attention layers take (N, C, H, W) images:
# tests/nn/test_conv_module.py checks their configurations and dtypes.
# The Vision Transformer's patch embedding (images in) and class token layers ((B, T, d) tokens in):
# tests/nn/test_vit_layers.py checks theirs.
__all__ = ["Dense", "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "Dropout", "BatchNorm", "LayerNorm", "Embedding", "Scale"]
