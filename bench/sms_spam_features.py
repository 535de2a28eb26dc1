"""How far the text features alone take SMS spam: a logistic regression on the SMS set only.

Fits smartmod's TF-IDF (words + character n-grams, the default model's settings) and a
scikit-learn logistic regression per fold of a seeded, stratified 5-fold split of the SMS Spam
Collection, and prints spam F1 per fold and their mean: once with the default normalization,
once with long numbers (5+ digits: phone numbers, short codes) and currency amounts replaced by
placeholders of their own before it (``xxlongnum``, ``xxmoney``), to see whether the
normalization hides what spam needs.

    python bench/sms_spam_features.py [--folds 5] [--C 10]
"""
from __future__ import annotations

import argparse
import re

import numpy
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from smartmod.data.text_readers import read_all_text
from smartmod.text.normalize import normalize
from smartmod.text.vectorize import TfidfVectorizer

_LONG_NUMBER = re.compile(r"(?<!\w)\d{5,}(?!\w)")
_CURRENCY = re.compile(r"[£$€]\s?(?=\d)")


def with_spam_placeholders(text: str) -> str:
    """:func:`normalize`, after long numbers and currency signs became placeholders."""
    return normalize(_LONG_NUMBER.sub(" xxlongnum ", _CURRENCY.sub(" xxmoney ", text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--C", type=float, default=10.0, help="inverse regularization strength of the logistic regression")
    args = parser.parse_args()
    records = read_all_text(names=["sms-spam"])
    texts = [record.text for record in records]
    labels = numpy.array([record.labels["spam"] for record in records], dtype=numpy.int64)
    print(f"{len(texts)} messages, {labels.mean():.1%} spam; {args.folds}-fold logistic regression (C={args.C})")
    for name, preprocess in (("default normalization", normalize), ("long numbers and currency as placeholders", with_spam_placeholders)):
        scores = []
        for train, test in StratifiedKFold(args.folds, shuffle=True, random_state=0).split(texts, labels):
            vectorizer = TfidfVectorizer(min_df=2, max_features=50_000, preprocess=preprocess, restore_obfuscated=False)
            train_features = vectorizer.fit_transform([texts[i] for i in train])
            model = LogisticRegression(C=args.C, max_iter=2000).fit(train_features, labels[train])
            scores.append(f1_score(labels[test], model.predict(vectorizer.transform([texts[i] for i in test]))))
        print(f"  {name}: spam F1 {numpy.mean(scores):.3f} (folds {', '.join(f'{score:.3f}' for score in scores)})")


if __name__ == "__main__":
    main()
