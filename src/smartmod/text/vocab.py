"""A token vocabulary for sequence models: padding at id 0, out-of-vocabulary at id 1."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy

__all__ = ["Vocabulary"]

VOCABULARY_FORMAT = "smartmod.text.vocabulary"
FORMAT_VERSION = 1


class Vocabulary:
    """Maps tokens to integer ids and back, keeping the most frequent tokens.

    Id 0 is the padding token and id 1 the out-of-vocabulary (OOV) token; kept tokens follow,
    most frequent first, ties in alphabetical order, so fitting is deterministic. The two
    special tokens are reserved: they are not counted when they occur in the data.

    Parameters
    ----------
    min_count : int
        Keep tokens seen at least this many times.
    max_size : int or None
        Keep at most this many tokens, not counting the two special ones; None keeps all.
    pad_token, oov_token : str
        The strings :meth:`decode` writes for ids 0 and 1.

    Attributes
    ----------
    tokens_ : list of str
        The token of each id, ``tokens_[0] == pad_token``, ``tokens_[1] == oov_token``.
    counts_ : dict of str to int
        How often each kept token occurred in the data given to :meth:`fit`.
    """

    pad_id = 0
    oov_id = 1

    def __init__(self, min_count: int = 1, max_size: int | None = None, pad_token: str = "<pad>", oov_token: str = "<oov>"):
        self.min_count = min_count
        self.max_size = max_size
        self.pad_token = pad_token
        self.oov_token = oov_token

    def fit(self, token_lists: Iterable[Sequence[str]]) -> Vocabulary:
        """Count the tokens of every list and keep the most frequent; returns ``self``."""
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or self.min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {self.min_count!r}")
        if self.max_size is not None and (isinstance(self.max_size, bool) or not isinstance(self.max_size, int) or self.max_size < 0):
            raise ValueError(f"max_size must be None or an integer >= 0, got {self.max_size!r}")
        if self.pad_token == self.oov_token:
            raise ValueError(f"pad_token and oov_token must differ, both are {self.pad_token!r}")
        counts: Counter[str] = Counter()
        for index, tokens in enumerate(token_lists):
            if isinstance(tokens, str):
                raise TypeError(f"token_lists[{index}] is a str; pass one list of tokens per text (e.g. word_tokens(text))")
            counts.update(tokens)
        non_string = next((token for token in counts if not isinstance(token, str)), None)
        if non_string is not None:
            raise TypeError(f"tokens must be str, got {type(non_string).__name__} ({non_string!r})")
        for reserved in (self.pad_token, self.oov_token):
            counts.pop(reserved, None)
        ranked = sorted((token for token, count in counts.items() if count >= self.min_count), key=lambda token: (-counts[token], token))
        kept = ranked if self.max_size is None else ranked[: self.max_size]
        self.tokens_ = [self.pad_token, self.oov_token, *kept]
        self.counts_ = {token: counts[token] for token in kept}
        self._index = {token: index for index, token in enumerate(self.tokens_)}
        return self

    def __len__(self) -> int:
        return len(self._fitted_tokens())

    def __contains__(self, token: object) -> bool:
        self._fitted_tokens()
        return token in self._index

    def encode(self, tokens: Sequence[str]) -> numpy.ndarray:
        """The ids of ``tokens``, shape (T,), int64; unknown tokens get :attr:`oov_id`."""
        self._fitted_tokens()
        if isinstance(tokens, str):
            raise TypeError("encode expects a sequence of tokens, got a str; split it first (e.g. word_tokens(text))")
        index, oov = self._index, self.oov_id
        return numpy.fromiter((index.get(token, oov) for token in tokens), dtype=numpy.int64, count=len(tokens))

    def encode_batch(self, token_lists: Sequence[Sequence[str]], max_length: int | None = None) -> numpy.ndarray:
        """Ids of several token lists, padded with :attr:`pad_id` on the right.

        Parameters
        ----------
        token_lists : sequence of N sequences of str
        max_length : int or None
            Truncate longer lists to this many tokens; None uses the longest list's length.

        Returns
        -------
        numpy.ndarray, shape (N, L), int64
            ``L`` is ``max_length``, or the longest list's length when it is None.
        """
        encoded = [self.encode(tokens) for tokens in token_lists]
        length = max((len(ids) for ids in encoded), default=0) if max_length is None else max_length
        if length < 0:
            raise ValueError(f"max_length must be None or >= 0, got {max_length}")
        batch = numpy.full((len(encoded), length), self.pad_id, dtype=numpy.int64)  # (N, L)
        for row, ids in enumerate(encoded):
            batch[row, : min(len(ids), length)] = ids[:length]
        return batch

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of ``ids``, padding ids skipped; an id outside the vocabulary is an error."""
        tokens = self._fitted_tokens()
        decoded = []
        for position, token_id in enumerate(ids):
            if not 0 <= token_id < len(tokens):
                raise ValueError(f"ids[{position}] = {token_id} is not an id of this vocabulary (0 to {len(tokens) - 1})")
            if token_id != self.pad_id:
                decoded.append(tokens[token_id])
        return decoded

    def to_dict(self) -> dict[str, Any]:
        """The fitted vocabulary as JSON-ready data; :meth:`from_dict` rebuilds it."""
        return {
            "format": VOCABULARY_FORMAT,
            "format_version": FORMAT_VERSION,
            "config": {"min_count": self.min_count, "max_size": self.max_size, "pad_token": self.pad_token, "oov_token": self.oov_token},
            "tokens": self._fitted_tokens()[2:],
            "counts": [self.counts_[token] for token in self.tokens_[2:]],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        """Rebuild a vocabulary from :meth:`to_dict` output."""
        if not isinstance(data, dict) or data.get("format") != VOCABULARY_FORMAT:
            raise ValueError(f"not a smartmod vocabulary (expected a dict with format {VOCABULARY_FORMAT!r})")
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"vocabulary format {data['format_version']} is newer than this smartmod reads ({FORMAT_VERSION}); upgrade smartmod")
        try:
            vocabulary = cls(**data["config"])
            tokens, counts = list(data["tokens"]), list(data["counts"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"damaged vocabulary data: {error}") from error
        vocabulary.tokens_ = [vocabulary.pad_token, vocabulary.oov_token, *tokens]
        if len(tokens) != len(counts) or len(set(vocabulary.tokens_)) != len(vocabulary.tokens_):
            raise ValueError(f"damaged vocabulary data: {len(tokens)} tokens (with repeats or special tokens) and {len(counts)} counts")
        vocabulary.counts_ = dict(zip(tokens, counts))
        vocabulary._index = {token: index for index, token in enumerate(vocabulary.tokens_)}
        return vocabulary

    def _fitted_tokens(self) -> list[str]:
        if not hasattr(self, "tokens_"):
            raise RuntimeError("this Vocabulary is not fitted yet; call fit(token_lists) or Vocabulary.from_dict(data) first")
        return self.tokens_
