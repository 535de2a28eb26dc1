"""Text preprocessing: normalization, tokenization, vocabularies and bag-of-words features."""
from smartmod.text.normalize import PLACEHOLDERS, normalize

__all__ = ["PLACEHOLDERS", "normalize"]
