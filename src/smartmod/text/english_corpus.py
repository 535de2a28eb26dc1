"""All shared English text as token lists: the corpus word2vec trains on.

Every text dataset of :data:`~smartmod.data.text_readers.TEXT_DATASETS` but the Spanish HatEval
tweets: tweets (OLID, Davidson, HatEval, HateXplain), forum and social posts (Stormfront, Gab,
Latent Hatred), Wikipedia talk pages (Jigsaw), Civil Comments (Toxic Spans), SMS and meme texts.
A text that occurs in several datasets or splits is kept once. Each text goes through
:func:`~smartmod.text.normalize` (case folding, placeholders, de-obfuscation) and
:func:`~smartmod.text.word_tokens` and becomes one sentence of the corpus.
"""
from __future__ import annotations

from collections.abc import Iterable

from smartmod.data.source_files import PathLike
from smartmod.data.text_readers import TEXT_DATASETS, read_all_text
from smartmod.text.normalize import normalize
from smartmod.text.tokenize import word_tokens

__all__ = ["ENGLISH_DATASETS", "english_token_lists"]

#: The English text datasets, in :data:`TEXT_DATASETS` order.
ENGLISH_DATASETS: tuple[str, ...] = tuple(name for name in TEXT_DATASETS if name != "hateval-es")


def english_token_lists(root: PathLike | None = None, names: Iterable[str] = ENGLISH_DATASETS) -> list[list[str]]:
    """One token list per distinct text of the datasets ``names`` (default: all English ones).

    Parameters
    ----------
    root : path, optional
        The shared data folder; default the data path setting (``SMARTMOD_DATA``).
    names : iterable of str
        Dataset names, keys of :data:`TEXT_DATASETS`.

    Returns
    -------
    list of list of str
        The tokens of each text, in dataset order; empty texts are left out.
    """
    texts = dict.fromkeys(record.text for record in read_all_text(root, names))  # distinct, in order
    token_lists = (word_tokens(normalize(text)) for text in texts)
    return [tokens for tokens in token_lists if tokens]
