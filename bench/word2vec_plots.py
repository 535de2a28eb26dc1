"""PCA and t-SNE maps of chosen groups of words, from a saved smartmod word2vec model.

The groups are words of the shared English corpus that a reader can check at a glance: family and
gender words, countries, nationalities, numbers, weekdays, insults, religions and so on. Words the
model does not know are left out. PCA shows the two directions of largest variance of these
words' vectors; t-SNE (perplexity 15, seed 0) their neighbourhoods.

    smartmod train word2vec --output /tmp/w2v        # or bench/word2vec_vs_gensim.py --save /tmp/w2v
    python bench/word2vec_plots.py --model /tmp/w2v [--out docs/img]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy

from smartmod.text.embedding_plots import pca_coordinates, word_map_png
from smartmod.text.tsne import tsne
from smartmod.text.word2vec import Word2Vec

GROUPS = {
    "family and gender": "man woman boy girl father mother son daughter brother sister husband wife king queen dad mom uncle aunt",
    "countries": "america mexico germany china russia israel france italy india canada sweden britain africa europe",
    "nationalities": "american mexican german chinese russian israeli french italian indian canadian swedish british african european",
    "numbers": "one two three four five six seven eight nine ten hundred thousand million",
    "weekdays and months": "monday tuesday wednesday thursday friday saturday sunday january march june july october december",
    "insults": "idiot moron stupid dumb retard fool loser asshole bitch coward scum trash",
    "religion": "muslim muslims islam christian christians jewish jews church god jesus religion mosque",
    "politics": "trump obama president government democrats republicans liberals election vote congress",
    "body and food": "food eat drink water coffee pizza beer chicken",
    "tech and media": "twitter facebook youtube internet phone video news media tweet",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a directory written by Word2Vec.save (smartmod train word2vec --output)")
    parser.add_argument("--out", default="docs/img", help="folder for word2vec_pca.png and word2vec_tsne.png")
    args = parser.parse_args()
    model = Word2Vec.load(args.model)
    words, groups = [], []
    for group, text in GROUPS.items():
        known = [word for word in text.split() if word in model]
        words += known
        groups += [group] * len(known)
    vectors = numpy.array([model[word] for word in words], dtype=numpy.float64)
    unit = vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)  # cosine geometry, as the neighbours use
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{model.config.architecture} word2vec, {len(model)} words, dim {model.config.dim}"
    (out / "word2vec_pca.png").write_bytes(word_map_png(pca_coordinates(unit), words, groups, f"PCA of {len(words)} chosen words: {title}"))
    (out / "word2vec_tsne.png").write_bytes(word_map_png(tsne(unit, perplexity=15, seed=0), words, groups,
                                                         f"t-SNE (perplexity 15) of {len(words)} chosen words: {title}"))
    print(f"wrote {out / 'word2vec_pca.png'} and {out / 'word2vec_tsne.png'} ({len(words)} words)")


if __name__ == "__main__":
    main()
