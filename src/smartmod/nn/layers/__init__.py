"""Layers: each a Module with forward and backward side by side."""
from smartmod.nn.layers.activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.embedding import Embedding
from smartmod.nn.layers.normalization import BatchNorm, LayerNorm

__all__ = ["Dense", "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "Dropout", "BatchNorm", "LayerNorm", "Embedding"]
