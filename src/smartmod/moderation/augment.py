"""Benign identity mentions added to training: a counterweight to identity-term bias.

In the hate datasets, identity terms ("gay", "Muslim", "Black") appear mostly in hateful posts,
and several sets label only the hateful side for toxicity, so a bag-of-words model learns the
terms themselves as signs of harm. Following Dixon et al. 2018 ("Measuring and Mitigating
Unintended Bias in Text Classification"), the training side gets short, plainly benign
sentences that mention identity groups, labeled negative for every harm category but spam.

These training templates are deliberately different sentences from the evaluation templates
in :mod:`smartmod.moderation.probes`, so the reported flag rate measures generalization to
new sentences, not memorization.
"""
from __future__ import annotations

from smartmod.data.categories import CATEGORIES
from smartmod.data.records import TextRecord
from smartmod.moderation.probes import IDENTITY_TEMPLATES, IDENTITY_TERMS

__all__ = ["TRAINING_TEMPLATES", "identity_negatives"]

TRAINING_TEMPLATES = [
    "{Term} rights are human rights.",
    "I met a {term} woman at the conference.",
    "As a {term} man, I love hiking on weekends.",
    "My {term} grandmother bakes the best bread.",
    "{Term} students won the science fair this year.",
    "There is a {term} bakery downtown.",
    "He is {term} and works as a nurse.",
    "The documentary is about {term} history.",
    "Everyone is welcome here, including {term} people.",
    "A {term} friend of mine called me today.",
    "The museum has an exhibit by {term} artists.",
    "Our team captain is {term}.",
    "{Term} families celebrated the holiday together.",
    "I listened to a podcast hosted by a {term} journalist.",
    "The {term} club meets every Tuesday.",
]

_HARMS = tuple(category for category in CATEGORIES if category != "spam")


def identity_negatives() -> list[TextRecord]:
    """One benign record per (identity term, training template), negative for every harm."""
    if set(TRAINING_TEMPLATES) & set(IDENTITY_TEMPLATES):
        raise RuntimeError("training and evaluation identity templates overlap; the evaluation would be memorized")
    records = []
    for term in IDENTITY_TERMS:
        for number, template in enumerate(TRAINING_TEMPLATES):
            text = template.format(term=term, Term=term[0].upper() + term[1:])
            records.append(TextRecord(text=text, source="identity-templates", labels={c: 0 for c in _HARMS}, split="train",
                                      id=f"{term}:{number}", group=f"{term}:{number}", original={}))
    return records
