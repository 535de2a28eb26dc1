"""Text preprocessing: normalization, tokenization, vocabularies and bag-of-n-grams features.

>>> from smartmod.text import TfidfVectorizer
>>> features = TfidfVectorizer(min_df=1).fit_transform(["you are a f*cking idiot", "have a nice day"])
>>> features.shape[0]
2
"""
from smartmod.text.normalize import PLACEHOLDERS, normalize
from smartmod.text.tokenize import char_ngrams, char_wb_ngrams, word_ngrams, word_tokens
from smartmod.text.vectorize import CountVectorizer, TfidfVectorizer
from smartmod.text.vocab import Vocabulary

__all__ = [
    "PLACEHOLDERS",
    "normalize",
    "word_tokens",
    "word_ngrams",
    "char_ngrams",
    "char_wb_ngrams",
    "Vocabulary",
    "CountVectorizer",
    "TfidfVectorizer",
]
