"""Text normalization: one canonical spelling per word before tokenization.

The steps, in order:

1. the HTML entities social media text carries unescaped: ``&amp; &lt; &gt; &quot; &apos;
   &nbsp;`` and numeric ones (``&#128514;`` → 😂), repeatedly, for text escaped twice or whose
   entities step 2 reveals (other named entities such as ``&ii;`` are rare in posts, and
   de-obfuscation could spell them);
2. Unicode NFKC (fullwidth ``ｆｕｃｋ``, mathematical 𝐟𝐮𝐜𝐤 and circled ⓕⓤⓒⓚ letters become
   ``fuck``) and case folding (:meth:`str.casefold`); curly quotes become straight ones; with
   ``deobfuscate``, look-alike letters become Latin ones and invisible characters and combining
   marks (accents) are deleted (:func:`~smartmod.text.deobfuscate.deobfuscate_characters`);
3. placeholders, each a word of its own: ``xxurl`` for web addresses (and the datasets' literal
   ``URL`` and ``<url>``), ``xxemail`` for e-mail addresses, ``xxuser`` for user mentions
   (``@name``, and the datasets' literal ``@USER`` and ``<user>``);
4. with ``deobfuscate``, leetspeak, masked and stretched words read as plain words
   (:func:`~smartmod.text.deobfuscate.deobfuscate_words`);
5. ``xxnum`` for numbers standing alone (``2019``, ``3.5``, ``10:30``, ``1,000``; not ``mp3``);
6. runs of whitespace collapsed to one space, none at either end;
7. with ``deobfuscate``, spaced letters joined (``f u c k``, ``f.u.c.k`` → ``fuck``), last so
   that a run the earlier steps split off (``a b c@user``) is joined too; a joined word goes
   through steps 3 to 5 (``s h i i i t`` → ``shit``, ``u r l`` → ``xxurl``). Adjacent spaced
   words join into one run (``a f a s c i s t`` → ``afascist``) unless a ``segment`` function
   splits it (a fitted vectorizer passes its vocabulary's: ``a fascist``).

ASCII text (most of it) skips the Unicode work; steps 3 to 5 run per whitespace-separated word
and are memoized. Every pattern is compiled once at import.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, partial

from smartmod.text.deobfuscate import deobfuscate_characters, deobfuscate_words, join_spaced_letters

__all__ = ["normalize", "folded_words", "normalize_word", "may_join_spaced_letters", "PLACEHOLDERS"]

#: The placeholder words :func:`normalize` writes.
PLACEHOLDERS: tuple[str, ...] = ("xxurl", "xxemail", "xxuser", "xxnum")

_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'}
_HTML_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#x[0-9a-f]{1,6});", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+|<url>|\burl\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_USER = re.compile(r"@user\b|(?<![\w@])@\w+|<user>")
_NUMBER = re.compile(r"\b\d+(?:[.,:]\d+)*\b")
_LONE_LETTER = re.compile(r"(?<!\w)[a-z](?!\w)")


def normalize(text: str, deobfuscate: bool = True, segment: Callable[[str], str] | None = None) -> str:
    """The canonical form of ``text``: NFKC, case-folded, placeholders, de-obfuscated.

    Parameters
    ----------
    text : str
        Raw text, as posted.
    deobfuscate : bool
        Undo filter-dodging spellings (see :mod:`smartmod.text.deobfuscate`). Turn off to
        keep look-alike letters, leetspeak, masks, spaced and stretched letters as written.
    segment : callable or None
        Splits a joined run of spaced letters into words (``afascist`` → ``a fascist``);
        None keeps each run one word.

    Returns
    -------
    str
        The normalized text: words separated by single spaces.

    Examples
    --------
    >>> normalize("@USER Ur such a f*cking 1d10t!!! https://t.co/x")
    'xxuser ur such a fucking idiot!!! xxurl'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize expects a str, got {type(text).__name__}")
    normalize_word = _NORMALIZE_WORD[bool(deobfuscate)]
    text = " ".join(map(normalize_word, folded_words(text, deobfuscate)))
    if deobfuscate:
        joined = join_spaced_letters(text, segment)
        if joined != text:  # the joined words ("s h i i i t") need the word steps as well
            text = " ".join(map(normalize_word, joined.split()))
    return text


def folded_words(text: str, deobfuscate: bool = True) -> list[str]:
    """Steps 1 and 2 of :func:`normalize`, split at whitespace: the words steps 3 to 5 apply to one by one.

    ``normalize(text)`` is ``" ".join(map(normalize_word, folded_words(text)))`` unless step 7
    joins spaced letters in it, which only a text some of whose normalized words
    :func:`may_join_spaced_letters` can need.
    """
    return _fold_characters(text, deobfuscate).split()


def normalize_word(word: str, deobfuscate: bool = True) -> str:
    """Steps 3 to 5 of :func:`normalize` for one of :func:`folded_words` (memoized); may hold spaces (``a@b`` → ``a xxuser``)."""
    return _NORMALIZE_WORD[bool(deobfuscate)](word)


def may_join_spaced_letters(normalized_word: str) -> bool:
    """False when step 7 cannot touch this normalized word: it has no single letter standing
    alone. Every run step 7 joins has a middle letter with a separator or a word boundary on
    both sides, so a text none of whose words may join is left as it is."""
    return _LONE_LETTER.search(normalized_word) is not None


def _word_steps(word: str, deobfuscate: bool) -> str:
    """Steps 3 to 5 for one whitespace-free ``word``; no pattern they use spans whitespace."""
    text = _replace_addresses(word)
    if deobfuscate:
        text = deobfuscate_words(text)
    pieces = _NUMBER.sub(" xxnum ", text).split()
    if len(pieces) == 1:
        return pieces[0]
    # a placeholder split the word, and what is left of it may read differently ("0@0a" → "@0a")
    normalize_word = _NORMALIZE_WORD[deobfuscate]
    return " ".join([piece if piece in PLACEHOLDERS else normalize_word(piece) for piece in pieces])


# Words repeat (Zipf's law): remembering the steps' result for recent words makes normalize
# several times faster on real text.
_NORMALIZE_WORD = {flag: lru_cache(maxsize=1 << 17)(partial(_word_steps, deobfuscate=flag)) for flag in (False, True)}


def _straighten_quotes(text: str) -> str:
    for curly, straight in _QUOTES.items():
        text = text.replace(curly, straight)
    return text


def _fold_characters(text: str, deobfuscate: bool) -> str:
    """Steps 1 and 2, again while one reveals work for the other (``&#̀65;``, ``&#65;``)."""
    while True:
        folded = _HTML_ENTITY.sub(_unescape_entity, text) if "&" in text else text
        if folded.isascii():
            folded = folded.lower()
        else:
            folded = _straighten_quotes(unicodedata.normalize("NFKD", folded))
            folded = deobfuscate_characters(folded) if deobfuscate else folded.casefold()
            folded = unicodedata.normalize("NFC", folded)
        if folded == text or "&" not in folded:
            return folded
        text = folded


def _unescape_entity(match: re.Match[str]) -> str:
    return html.unescape(match.group())


def _replace_addresses(text: str) -> str:
    """Web addresses, e-mail addresses and user mentions to their placeholders."""
    if "url" in text or "http" in text or "www." in text:
        text = _URL.sub(" xxurl ", text)
    if "@" in text:
        text = _USER.sub(" xxuser ", _EMAIL.sub(" xxemail ", text))
    elif "<user>" in text:
        text = _USER.sub(" xxuser ", text)
    return text
