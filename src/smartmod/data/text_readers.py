"""Every labeled text dataset by name, read into :class:`~smartmod.data.records.TextRecord` objects.

::

    records = read_all_text()                       # every dataset under the data path setting
    olid = read_text_dataset("olid")                # one dataset
    mine = read_olid("my-olid-copy.tsv")            # a file of the same format elsewhere

The readers themselves live in ``readers_toxicity``, ``readers_hate`` and ``readers_memes``;
``docs/categories.md`` says how each dataset's labels map onto
:data:`~smartmod.data.categories.CATEGORIES`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from smartmod.data.readers_hate import read_hateval, read_hatexplain, read_implicit_hate, read_stormfront
from smartmod.data.readers_memes import read_harmeme, read_hateful_memes, read_multioff, read_pridemm
from smartmod.data.readers_toxicity import (
    read_davidson, read_gab_hate_corpus, read_jigsaw, read_olid, read_sms_spam, read_toxic_spans,
)
from smartmod.data.records import TextRecord
from smartmod.data.source_files import PathLike

__all__ = [
    "TEXT_DATASETS", "read_text_dataset", "read_all_text", "read_jigsaw", "read_olid", "read_davidson",
    "read_toxic_spans", "read_gab_hate_corpus", "read_sms_spam", "read_hateval", "read_hatexplain",
    "read_stormfront", "read_implicit_hate", "read_hateful_memes", "read_multioff", "read_harmeme", "read_pridemm",
]

TEXT_DATASETS: dict[str, Callable[..., list[TextRecord]]] = {
    "olid": read_olid,
    "davidson": read_davidson,
    "jigsaw-subset": read_jigsaw,
    "sms-spam": read_sms_spam,
    "hateful-memes-text": read_hateful_memes,
    "hateval-en": partial(read_hateval, "en"),
    "hateval-es": partial(read_hateval, "es"),
    "toxic-spans": read_toxic_spans,
    "hatexplain": read_hatexplain,
    "stormfront": read_stormfront,
    "gab-hate-corpus": read_gab_hate_corpus,
    "implicit-hate": read_implicit_hate,
    "multioff": read_multioff,
    "harmeme-c": partial(read_harmeme, "C"),
    "harmeme-p": partial(read_harmeme, "P"),
    "pridemm": read_pridemm,
}
"""Dataset name (also its records' ``source``) → reader; each reader is called as
``reader(root=..., errors=...)`` to read the dataset's shared files."""


def read_text_dataset(name: str, root: PathLike | None = None, *, errors: str = "raise") -> list[TextRecord]:
    """The records of the dataset ``name`` from the folder ``root`` (default: the data path setting).

    Parameters
    ----------
    name : str
        A key of :data:`TEXT_DATASETS`.
    root : path, optional
        The folder holding ``text/...``; default ``SMARTMOD_DATA`` or ``../shared/data``.
    errors : {"raise", "skip"}
        What a malformed row does: raise a :class:`~smartmod.data.records.DataFormatError`, or be
        dropped with one warning per file.
    """
    if name not in TEXT_DATASETS:
        raise ValueError(f"unknown text dataset {name!r}; the text datasets are {', '.join(TEXT_DATASETS)}")
    return TEXT_DATASETS[name](root=root, errors=errors)


def read_all_text(root: PathLike | None = None, names: Iterable[str] | None = None, *, errors: str = "raise") -> list[TextRecord]:
    """The records of the datasets ``names`` (default: all of :data:`TEXT_DATASETS`), in that order."""
    return [record for name in (TEXT_DATASETS if names is None else names) for record in read_text_dataset(name, root, errors=errors)]
