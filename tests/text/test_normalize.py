"""normalize: one canonical spelling per word, whatever the writer did to dodge a filter."""
from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmod.text import deobfuscate, normalize, tokenize
from smartmod.text.normalize import normalize as normalize_function

CASES = {
    "case folding": [("Hello WORLD", "hello world"), ("STRASSE Straße", "strasse strasse")],
    "whitespace": [("  a\tlot \n of   space ", "a lot of space"), ("", ""), (" \n\t ", "")],
    "html entities": [
        ("fish &amp; chips", "fish & chips"),
        ("&lt;b&gt; &quot;hi&quot;", '<b> "hi"'),
        ("&#128514;&#x1F602;", "😂😂"),
        ("&amp;amp; twice", "& twice"),
    ],
    "urls": [("see https://t.co/abc123 now", "see xxurl now"), ("www.example.com/x?y=1", "xxurl"), ("OLID says URL", "olid says xxurl"), ("<url>", "xxurl")],
    "user mentions": [
        ("@USER @USER hi", "xxuser xxuser hi"),
        ("@some_one: hey", "xxuser : hey"),
        ("<user> said", "xxuser said"),
        ("thanks@USER", "thanks xxuser"),
        ("racist@somebody", "racist xxuser"),
    ],
    "emails": [("write to John.Doe+x@example.co.uk today", "write to xxemail today")],
    "numbers": [
        ("In 2019 I paid $3.50 at 10:30", "in xxnum i paid $ xxnum at xxnum"),
        ("1,000,000 people", "xxnum people"),
        ("mp3 b4 10am covid19 h1n1", "mp3 b4 10am covid19 h1n1"),
    ],
    "quotes": [("you’re ‘right’", "you're 'right'")],
    "zero-width and soft hyphen": [("fu\u200bck", "fuck"), ("sh\u00adit", "shit"), ("i\u200dd\u2060i\ufeffot", "idiot")],
    "homoglyphs": [
        ("\u0430ss", "ass"),  # Cyrillic a
        ("ƒυсk", "fuck"),  # Latin f with hook, Greek upsilon, Cyrillic es
        ("ΗΕLLΟ", "hello"),  # Greek capitals
        ("ꜰᴜᴄᴋ", "fuck"),  # small capitals
        ("Ｆｕｃｋ", "fuck"),  # fullwidth (NFKC)
        ("𝐟𝐮𝐜𝐤 ⓕⓤⓒⓚ", "fuck fuck"),  # mathematical bold, circled (NFKC)
    ],
    "accents and zalgo": [("fück", "fuck"), ("f\u0336u\u0336c\u0336k\u0336", "fuck"), ("ca\u0301fe\u0301", "cafe")],
    "leetspeak": [
        ("sh1t", "shit"),
        ("b1tch", "bitch"),
        ("a55h0le", "asshole"),
        ("1d10t", "idiot"),
        ("n00b l00ks", "n00b l00ks"),  # no lexicon word: left alone
        ("$hit a$$ b@stard", "shit ass bastard"),
        ("ca$h $roe", "ca$h $roe"),
        ("#wwg1wga", "#wwg1wga"),
    ],
    "masked letters": [
        ("f*ck", "fuck"),
        ("f**k", "fuck"),
        ("f#ck", "fuck"),
        ("sh!t", "shit"),
        ("b!tch", "bitch"),
        ("a**hole", "asshole"),
        ("f*cking f***", "fucking fuck"),
        ("mi*rosoft", "mi*rosoft"),  # fits no lexicon entry
        ("wow!!this", "wow!!this"),
        ("shit!", "shit!"),
    ],
    "spaced letters": [
        ("f u c k you", "fuck you"),
        ("f.u.c.k", "fuck"),
        ("f-u-c-k", "fuck"),
        ("s h i i i t", "shit"),
        ("I'm in the U.S.A. now", "i'm in the usa. now"),
        ("a b", "a b"),  # two single letters are not a run
    ],
    "stretched letters": [
        ("fuuuuuck", "fuck"),
        ("stupiddddd", "stupid"),
        ("asssss", "ass"),
        ("sooooo gooood", "sooo goood"),  # three letters: stretched, for the vocabulary to read
        ("shiiiiit", "shit"),
    ],
    "ordinary text": [
        ("I don't think so, honestly.", "i don't think so, honestly."),
        ("The meeting is at the office on Main St.", "the meeting is at the office on main st."),
        ("Call me at 555-1234", "call me at xxnum - xxnum"),
        ("class assessment passed", "class assessment passed"),
        ("hello, hell, shell, assassin", "hello, hell, shell, assassin"),
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(text, expected, id=f"{kind}: {text!r}") for kind, cases in CASES.items() for text, expected in cases]
)
def test_normalize_gives_the_canonical_spelling(text, expected):
    assert normalize(text) == expected


def test_without_deobfuscation_spellings_stay_but_placeholders_and_nfkc_apply():
    assert normalize("@USER Ｆ*ck \u0430ss sh1t fuuuuck https://x.y 2019", deobfuscate=False) == "xxuser f*ck \u0430ss sh1t fuuuuck xxurl xxnum"


def test_normalize_rejects_a_non_string():
    with pytest.raises(TypeError, match="expects a str, got bytes"):
        normalize(b"bytes")


OBFUSCATION_PIECES = st.sampled_from(
    list("abcfkstu .-*#!@$013457&;<>/:_'\u200b\u0301\u0336") + ["ф", "Η", "η", "İ", "ß", "ﬁ", "Ａ", "ς", "Σ", "ΐ", "@user", "http://x", "&amp;", "url", "xx", "  "]
)


@settings(max_examples=400)
@given(st.one_of(st.text(), st.lists(OBFUSCATION_PIECES).map("".join)))
def test_normalize_never_raises_and_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    assert once == " ".join(once.split())


@settings(max_examples=200)
@given(st.text())
def test_normalize_without_deobfuscation_is_idempotent(text):
    once = normalize(text, deobfuscate=False)
    assert normalize(once, deobfuscate=False) == once


@pytest.mark.parametrize("module", ["smartmod.text", normalize_function.__module__, deobfuscate.__name__, tokenize.__name__])
def test_docstring_examples_hold(module):
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(module))
    assert failures == 0
