"""Undo what people do to words to slip them past a keyword filter.

Each step maps an obfuscated spelling to the plain one, so that a bag-of-words model sees
``fuck`` whether the writer typed ``f*ck``, ``f u c k``, ``fuuuuck`` or ``ƒυсk``:

* look-alike characters (:data:`CONFUSABLES`): Cyrillic and Greek letters that look Latin and
  small capitals become Latin letters; invisible characters (zero-width space and joiners,
  soft hyphen, bidi controls, variation selectors) and combining diacritical marks are deleted,
  so accents go (``fück`` → ``fuck``, ``año`` → ``ano``) and so do "Zalgo" stacks of marks;
* spaced letters: a run of three or more single letters joined by the same space, dot or
  dash (``f u c k``, ``f.u.c.k``, ``u.s.a.``) becomes one word;
* leetspeak (:data:`LEET`): ``4 3 1 0 5 7 @ $`` read as ``a e i o s t a s`` in a word that
  mixes them with letters, when the reading spells a :data:`LEXICON` entry over a changed
  character (``sh1t``, ``a55h0le``, ``b@stard``, ``bull$hit``, ``k1ll``); other words keep
  their digits and signs (``2019``, ``mp3``, ``10am``, ``b4``, ``h1n1``, ``ca$h``, ``#r4today``),
  and an ``@`` inside them starts a mention glued to the word (``racist@somebody`` →
  ``racist @somebody``);
* masked letters: ``* # !`` inside a word (and ``*`` at its end) stand for one letter each;
  the word is resolved against the small :data:`LEXICON` (``f**k``, ``sh!t``, ``b#tch``,
  ``a**hole``, ``f*cking`` → ``fuck``, ``shit``, ``bitch``, ``asshole``, ``fucking``); a masked
  word that fits no entry is left as written (``mi*rosoft``, ``wow!!this``);
* stretched letters: a letter repeated three or more times is cut to one or two, whichever
  spells a word starting with a :data:`LEXICON` entry (``fuuuuck`` → ``fuck``,
  ``stupiddddd`` → ``stupid``, ``asssss`` → ``ass``), else to three (``sooooo`` → ``sooo``):
  however long the stretch, one spelling, which still shows it was stretched, so that a
  vectorizer's vocabulary can read it later (:mod:`smartmod.text.restore`: ``owneeeer`` →
  ``owneeer`` → ``owner``).

The word-level functions take case-folded text (the output of :func:`str.casefold`).
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable

__all__ = ["CONFUSABLES", "LEET", "LEXICON", "deobfuscate_characters", "join_spaced_letters", "deobfuscate_words"]

#: Words people commonly disguise (profanity, slurs and insults), in tie-break order: a masked
#: or stretched word is read as the longest entry it can spell, then the earliest listed.
#: Inflections need no entry: the entry is matched as a prefix (``f*cking`` → ``fuck`` + ``ing``).
#: Keep the list short: every entry is a chance to rewrite an innocent word.
LEXICON: tuple[str, ...] = (
    "fuck", "shit", "bitch", "cunt", "dick", "cock", "pussy", "asshole", "ass", "bastard",
    "whore", "slut", "hoe", "faggot", "fag", "nigger", "nigga", "retard", "dyke", "tranny",
    "twat", "wanker", "prick", "piss", "crap", "damn", "douche", "porn", "penis", "rape",
    "kill", "hate", "suck", "idiot", "stupid", "dumb", "moron", "loser",
)
_LEXICON_BY_LENGTH = sorted(LEXICON, key=len, reverse=True)  # sort is stable: ties keep list order

#: Leetspeak digits and signs and the letters they stand for.
LEET: dict[str, str] = {"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_TABLE = str.maketrans(LEET)
_MASKS = "*#!"

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0" + "".join(map(chr, range(0xFE00, 0xFE10)))
)
# the combining diacritical marks blocks: accents (as NFKD separates them) and "Zalgo" stacks
_DIACRITICS = "".join(
    chr(code)
    for first, last in [(0x0300, 0x036F), (0x0483, 0x0489), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F)]
    for code in range(first, last + 1)
)
_LOOK_ALIKES = {
    # Cyrillic, upper then lower case where both resemble a Latin letter
    "АВЕКМНОРСТУХЅІЈ": "ABEKMHOPCTYXSIJ",
    "авекмнорстухѕіјԁԛԝӏьп": "abekmhopctyxsijdqwlbn",
    # Greek (upper case looks like the Latin capital, lower case like the Latin small letter)
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ": "ABEZHIKMNOPTYX",
    "αβεζηικμνορτυχγω": "abeznikuvoptuxyw",
    # Latin small capitals and other letter-like symbols NFKC leaves alone
    "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ": "abcdefghijklmnoprstuvwyz",
    "ƒıɑɡɩօսոʏ": "fiagiouny",
}
#: ``str.translate`` table: look-alike characters to Latin letters; invisible characters and
#: combining diacritical marks deleted.
CONFUSABLES: dict[int, str | None] = {
    **{ord(source): target for sources, targets in _LOOK_ALIKES.items() for source, target in zip(sources, targets, strict=True)},
    **dict.fromkeys(map(ord, _INVISIBLE + _DIACRITICS)),
}

_CONFUSABLE = re.compile("[" + re.escape("".join(map(chr, CONFUSABLES))) + "]")
_SPACED_LETTERS = re.compile(r"(?<!\w)[a-z](\. |[ .\-])[a-z](?:\1[a-z])+(?!\w)")
_SEPARATORS = str.maketrans("", "", " .-")
_OBFUSCATED_WORD = re.compile(r"(?<![\w@$*#!])[\w@$*#!]*(?:[a-z][*#!013457@$]|[013457@$][a-z])[\w@$*#!]*")
_LEXICON_WORD = re.compile("|".join(LEXICON))
_PUNCTUATION_AROUND = re.compile(r"([!#]*)(.*?)(!*)")
_STRETCH = re.compile(r"([^\W\d_])\1\1")
_STRETCHED_WORD = re.compile(r"\b\w*?([^\W\d_])\1\1\w*")
_LETTER_RUN = re.compile(r"([^\W\d_])\1\1+")


def deobfuscate_characters(text: str) -> str:
    """Case-fold, map look-alikes to Latin letters, delete invisible characters and diacritics.

    ``text`` must be in Unicode normalization form NFKD, where accents are separate combining
    marks; the result needs NFC composition for scripts whose marks are kept (Hangul, kana).
    The look-alike table is applied before case folding (a Greek capital eta looks like ``H``,
    its small letter like ``n``) and again after it, for the small letters of capitals it does
    not list.
    """
    return _translate_confusables(_translate_confusables(text).casefold())


def _translate_confusables(text: str) -> str:
    # str.translate looks up every character; finding the rare ones first is ~5x faster
    return text.translate(CONFUSABLES) if _CONFUSABLE.search(text) else text


def join_spaced_letters(text: str, segment: Callable[[str], str] | None = None) -> str:
    """Join runs of 3+ single letters separated by one space, dot or dash: ``f.u.c.k`` → ``fuck``.

    ``text`` must have its whitespace collapsed to single spaces. A run may hold several words
    (``a f a s c i s t``, ``y o u i d i o t``); ``segment``, when given, splits each joined run
    into words (``afascist`` → ``a fascist``), e.g. with a vocabulary
    (:meth:`~smartmod.text.restore.ObfuscationRestorer.segment`).
    """
    if segment is None:
        return _SPACED_LETTERS.sub(_join_spaced_letters, text)
    return _SPACED_LETTERS.sub(lambda match: segment(_join_spaced_letters(match)), text)


def deobfuscate_words(text: str) -> str:
    """Read leetspeak, resolve masked words and cut stretched letters.

    Run it after e-mail addresses and ``@mentions`` have been replaced: it would cut an
    address in two at its ``@``.
    """
    text = _OBFUSCATED_WORD.sub(_deobfuscate_match, text)
    if _STRETCH.search(text):
        text = _STRETCHED_WORD.sub(_destretch_match, text)
    return text


def _join_spaced_letters(match: re.Match[str]) -> str:
    return match.group().translate(_SEPARATORS)


def _deobfuscate_match(match: re.Match[str]) -> str:
    return _deobfuscate_word(match.group())


def _deobfuscate_word(word: str) -> str:
    """Leetspeak then masks, for one word of ``[a-z0-9_@$*#!]`` (punctuation around it kept)."""
    leading, body, trailing = _PUNCTUATION_AROUND.fullmatch(word).groups()
    reading = body.translate(_LEET_TABLE)
    if reading != body and _spells_lexicon_entry(reading, body):
        body = reading
    elif "@" in body[1:]:  # "racist@somebody": a mention glued to a word
        body = body.replace("@", " @")
    if any(mask in body for mask in _MASKS):
        body = _unmask(body) or body
    return leading + body + trailing


def _spells_lexicon_entry(reading: str, written: str) -> bool:
    """Whether a :data:`LEXICON` entry in ``reading`` covers a character that leetspeak changed."""
    return any(
        reading[start:end] != written[start:end]
        for start, end in (match.span() for match in _LEXICON_WORD.finditer(reading))
    )


def _unmask(word: str) -> str | None:
    """``word`` with its mask characters filled in from the :data:`LEXICON`, or None if none fits."""
    if not word[:1].isalpha():
        return None
    for entry in _LEXICON_BY_LENGTH:
        head, tail = word[: len(entry)], word[len(entry):]
        if (
            len(head) == len(entry)
            and (tail == "" or tail.isalpha())
            and any(mask in head for mask in _MASKS)
            and all(mine == theirs or mine in _MASKS for mine, theirs in zip(head, entry))
        ):
            return entry + tail
    return None


def _destretch_match(match: re.Match[str]) -> str:
    return _destretch(match.group())


def _destretch(word: str) -> str:
    """Cut each run of 3+ equal letters to 1 or 2 when that starts a lexicon entry, else to 3."""
    pieces = _LETTER_RUN.split(word)  # [text, letter, text, letter, ..., text]
    letters = pieces[1::2]
    if len(letters) <= 4:
        for repeats in itertools.product((1, 2), repeat=len(letters)):
            candidate = _assemble(pieces, [letter * count for letter, count in zip(letters, repeats)])
            if candidate.startswith(LEXICON):
                return candidate
    return _assemble(pieces, [letter * 3 for letter in letters])


def _assemble(pieces: list[str], runs: list[str]) -> str:
    """Interleave the text between runs (``pieces[0::2]``) with the replacement ``runs``."""
    return "".join(itertools.chain.from_iterable(itertools.zip_longest(pieces[0::2], runs, fillvalue="")))
