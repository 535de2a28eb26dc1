"""CountVectorizer and TfidfVectorizer, checked against scikit-learn on identical analyzers."""
from __future__ import annotations

import json

import numpy
import pytest
import scipy.sparse
import scipy.sparse.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer as SklearnCountVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer as SklearnTfidfVectorizer

from smartmod.nn.serialize import SerializationError
from smartmod.text import ngram_caches, ngram_counts
from smartmod.text.normalize import normalize
from smartmod.text.tokenize import char_wb_ngrams, word_ngrams, word_tokens
from smartmod.text.vectorize import CountVectorizer, TfidfVectorizer
from tests.conftest import require_data

CORPUS = [
    "@USER you are a f*cking idiot!!! https://t.co/x",
    "You are so stupid, go home",
    "I love this song so much 😂😂",
    "Go home you're drunk!!! #MAGA",
    "what an idiot, honestly. sh1t take",
    "this is the best day of my life",
    "u r sooooo stupiddddd lol",
    "love love love this 😂",
    "Home is where the heart is",
    "the song of the year 2019",
    "honestly the best take",
    "she is so drunk lol",
]


def sklearn_analyzer(name, ngram_range):
    """The same n-grams smartmod counts, as a scikit-learn analyzer callable."""
    if name == "word":
        return lambda text: word_ngrams(word_tokens(normalize(text)), ngram_range)
    return lambda text: char_wb_ngrams(word_tokens(normalize(text)), ngram_range)


def block_vocabulary(vectorizer, name):
    return {feature.split(":", 1)[1]: column for feature, column in vectorizer.vocabulary_.items() if feature.startswith(f"{name}:")}


def assert_close(mine, theirs, atol=1e-6):
    difference = abs(scipy.sparse.csr_matrix(mine, dtype=numpy.float64) - scipy.sparse.csr_matrix(theirs, dtype=numpy.float64))
    worst = difference.max() if difference.nnz else 0.0
    assert worst <= atol, f"mine / theirs differ by up to {worst:.3g}"


SETTINGS = [
    dict(sublinear_tf=True, norm="l2", use_idf=True, smooth_idf=True, binary=False, min_df=2),
    dict(sublinear_tf=False, norm="l2", use_idf=True, smooth_idf=False, binary=False, min_df=1),
    dict(sublinear_tf=True, norm="l1", use_idf=False, smooth_idf=True, binary=False, min_df=2),
    dict(sublinear_tf=False, norm=None, use_idf=True, smooth_idf=True, binary=True, min_df=0.2),
]


@pytest.mark.parametrize("analyzer", ["word", "char"])
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_tfidf_matches_sklearn(analyzer, settings):
    ngram_range = (1, 2) if analyzer == "word" else (2, 5)
    mine = TfidfVectorizer(analyzer=analyzer, restore_obfuscated=False, **settings).fit(CORPUS)
    theirs = SklearnTfidfVectorizer(analyzer=sklearn_analyzer(analyzer, ngram_range), dtype=numpy.float64, **settings).fit(CORPUS)
    assert block_vocabulary(mine, analyzer) == theirs.vocabulary_
    if settings["use_idf"]:
        numpy.testing.assert_allclose(mine.idf_, theirs.idf_, rtol=1e-12)
    assert_close(mine.transform(CORPUS), theirs.transform(CORPUS))


def test_word_plus_char_matches_sklearn_blocks_side_by_side():
    mine = TfidfVectorizer(min_df=2, restore_obfuscated=False).fit(CORPUS)
    word = SklearnTfidfVectorizer(analyzer=sklearn_analyzer("word", (1, 2)), min_df=2, sublinear_tf=True).fit(CORPUS)
    char = SklearnTfidfVectorizer(analyzer=sklearn_analyzer("char", (2, 5)), min_df=2, sublinear_tf=True).fit(CORPUS)
    texts = CORPUS + ["a new text about a stupid song"]
    assert_close(mine.transform(texts), scipy.sparse.hstack([word.transform(texts), char.transform(texts)]))


def test_each_block_has_unit_norm():
    features = TfidfVectorizer(min_df=1).fit_transform(CORPUS)
    numpy.testing.assert_allclose(scipy.sparse.linalg.norm(features, axis=1), numpy.sqrt(2.0), rtol=1e-6)


@pytest.mark.parametrize("binary", [False, True])
def test_counts_match_sklearn(binary):
    mine = CountVectorizer(analyzer="word", word_ngram_range=(1, 3), min_df=1, binary=binary).fit(CORPUS)
    theirs = SklearnCountVectorizer(analyzer=sklearn_analyzer("word", (1, 3)), binary=binary).fit(CORPUS)
    assert block_vocabulary(mine, "word") == theirs.vocabulary_
    counts = mine.transform(CORPUS)
    assert counts.dtype == numpy.float32
    assert_close(counts, theirs.transform(CORPUS), atol=0.0)


def test_max_features_keeps_the_same_ngrams_as_sklearn_when_counts_do_not_tie():
    analyze = sklearn_analyzer("char", (2, 4))
    totals = numpy.sort(numpy.asarray(SklearnCountVectorizer(analyzer=analyze).fit_transform(CORPUS).sum(axis=0)).ravel())[::-1]
    limit = next(k for k in range(20, len(totals)) if totals[k - 1] != totals[k])
    mine = TfidfVectorizer(analyzer="char", char_ngram_range=(2, 4), min_df=1, max_features=limit).fit(CORPUS)
    theirs = SklearnTfidfVectorizer(analyzer=analyze, max_features=limit, sublinear_tf=True).fit(CORPUS)
    assert block_vocabulary(mine, "char") == theirs.vocabulary_
    assert_close(mine.transform(CORPUS), theirs.transform(CORPUS))


def test_max_features_breaks_ties_by_name():
    vectorizer = CountVectorizer(analyzer="word", word_ngram_range=(1, 1), min_df=1, max_features=3, preprocess=None)
    vectorizer.fit(["b a", "a b", "d c"])  # a: 2, b: 2, c: 1, d: 1
    assert vectorizer.get_feature_names() == ["word:a", "word:b", "word:c"]


def test_max_features_applies_to_each_analyzer():
    vectorizer = TfidfVectorizer(min_df=1, max_features=7).fit(CORPUS)
    assert [len(vocabulary) for vocabulary in vectorizer.vocabularies_.values()] == [7, 7]


def test_features_are_named_by_analyzer_in_column_order():
    vectorizer = TfidfVectorizer(min_df=1, word_ngram_range=(1, 1), char_ngram_range=(3, 3), preprocess=None).fit(["ab cd"])
    assert vectorizer.get_feature_names() == ["word:ab", "word:cd", "char: ab", "char: cd", "char:ab ", "char:cd "]
    assert vectorizer.vocabulary_["char: cd"] == 3


def test_texts_are_normalized_by_default():
    vectorizer = CountVectorizer(analyzer="word", min_df=1).fit(["F*CK you @USER", "f u c k them"])
    assert {"word:fuck", "word:xxuser", "word:fuck you"} <= set(vectorizer.get_feature_names())


def test_fit_transform_equals_fit_then_transform_without_restoration():
    vectorizer = TfidfVectorizer(restore_obfuscated=False)  # restoration needs the fitted vocabulary: transform only
    assert_close(vectorizer.fit_transform(CORPUS), vectorizer.transform(CORPUS), atol=0.0)


def test_output_is_canonical_float32_csr():
    features = TfidfVectorizer().fit(CORPUS).transform(CORPUS[:3])
    assert isinstance(features, scipy.sparse.csr_matrix)
    assert features.dtype == numpy.float32
    assert features.has_canonical_format


def test_empty_and_whitespace_texts_give_zero_rows():
    vectorizer = TfidfVectorizer().fit(CORPUS + ["", "   "])
    features = vectorizer.transform(["", " \n\t ", "!!!", "you are stupid"])
    assert features.shape == (4, len(vectorizer.get_feature_names()))
    assert features[:3].nnz == 0
    assert features[3].nnz > 0


def test_no_texts_give_an_empty_matrix():
    vectorizer = TfidfVectorizer().fit(CORPUS)
    assert vectorizer.transform([]).shape == (0, len(vectorizer.get_feature_names()))


def test_a_non_string_text_is_a_type_error_naming_its_index():
    vectorizer = TfidfVectorizer().fit(CORPUS)
    with pytest.raises(TypeError, match=r"texts\[2\] is NoneType, expected str"):
        vectorizer.transform(["ok", "fine", None])
    with pytest.raises(TypeError, match=r"texts\[1\] is float"):
        TfidfVectorizer().fit(["ok", float("nan")])


def test_a_single_string_is_a_type_error():
    with pytest.raises(TypeError, match="got a single str"):
        TfidfVectorizer().fit("just one text")


def test_too_high_min_df_is_a_clear_error():
    with pytest.raises(ValueError, match="min_df=5"):
        TfidfVectorizer(min_df=5).fit(CORPUS[:3])


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [("analyzer", "char_wb", "analyzer must be"), ("word_ngram_range", (2, 1), "word_ngram_range"), ("min_df", 0, "min_df"), ("max_features", 0, "max_features"), ("norm", "l3", "norm")],
)
def test_bad_settings_are_clear_errors(argument, value, message):
    with pytest.raises(ValueError, match=message):
        TfidfVectorizer(**{argument: value}).fit(CORPUS)


def test_transform_before_fit_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        TfidfVectorizer().transform(["x"])


def test_counting_in_chunks_gives_the_same_matrix(monkeypatch):
    whole = TfidfVectorizer(min_df=1).fit_transform(CORPUS)
    monkeypatch.setattr(ngram_counts, "_CHUNK_SIZE", 5)
    chunked_vectorizer = TfidfVectorizer(min_df=1)
    assert_close(chunked_vectorizer.fit_transform(CORPUS), whole, atol=0.0)
    assert_close(chunked_vectorizer.transform(CORPUS), whole, atol=0.0)


@pytest.mark.parametrize("cls", [CountVectorizer, TfidfVectorizer])
def test_save_load_round_trip_gives_identical_matrices(cls, tmp_path):
    vectorizer = cls(min_df=1, max_features=50).fit(CORPUS)
    vectorizer.save(tmp_path / "vectorizer")
    restored = cls.load(tmp_path / "vectorizer")
    assert restored.get_feature_names() == vectorizer.get_feature_names()
    assert restored.get_config() == vectorizer.get_config()
    texts = CORPUS + ["something never seen, stupid"]
    assert (restored.transform(texts) != vectorizer.transform(texts)).nnz == 0
    document = json.loads((tmp_path / "vectorizer" / "vectorizer.json").read_text(encoding="utf-8"))
    assert document["class"] == cls.__name__


def test_a_custom_preprocess_must_be_given_again_at_load(tmp_path):
    def shout(text):
        return text.upper()

    TfidfVectorizer(min_df=1, preprocess=shout).fit(CORPUS).save(tmp_path)
    with pytest.raises(SerializationError, match="custom preprocess"):
        TfidfVectorizer.load(tmp_path)
    assert TfidfVectorizer.load(tmp_path, preprocess=shout).preprocess is shout


def test_loading_with_the_wrong_class_names_the_right_one(tmp_path):
    CountVectorizer(min_df=1).fit(CORPUS).save(tmp_path)
    with pytest.raises(SerializationError, match="CountVectorizer.load"):
        TfidfVectorizer.load(tmp_path)


def test_loading_a_missing_directory_is_a_serialization_error(tmp_path):
    with pytest.raises(SerializationError, match="does not exist"):
        TfidfVectorizer.load(tmp_path / "nothing here")


def test_a_damaged_idf_array_is_a_serialization_error(tmp_path):
    from smartmod.nn.serialize import save_arrays

    TfidfVectorizer(min_df=1).fit(CORPUS).save(tmp_path)
    save_arrays(tmp_path / "arrays.npz", {"idf": numpy.ones(3)})
    with pytest.raises(SerializationError, match="idf array of shape"):
        TfidfVectorizer.load(tmp_path)


@pytest.mark.data
def test_matches_sklearn_on_olid_tweets():
    import pandas

    tweets = pandas.read_csv(require_data("text/olid/olid-training-v1.0.tsv"), sep="\t")["tweet"].tolist()[:1500]
    mine = TfidfVectorizer(analyzer="word", min_df=2, restore_obfuscated=False).fit(tweets)
    theirs = SklearnTfidfVectorizer(analyzer=sklearn_analyzer("word", (1, 2)), min_df=2, sublinear_tf=True).fit(tweets)
    assert block_vocabulary(mine, "word") == theirs.vocabulary_
    assert_close(mine.transform(tweets), theirs.transform(tweets))


def test_a_full_word_cache_empties_itself_without_changing_results(monkeypatch):
    expected = TfidfVectorizer(min_df=1).fit(CORPUS).transform(CORPUS)
    monkeypatch.setattr(ngram_caches, "_CACHE_SIZE", 3)
    vectorizer = TfidfVectorizer(min_df=1)
    assert_close(vectorizer.fit_transform(CORPUS), expected, atol=0.0)
    assert_close(vectorizer.transform(CORPUS), expected, atol=0.0)
    assert len(vectorizer._char_columns) <= 3
    assert len(vectorizer._transform_cache) <= 3 and len(vectorizer._transform_cache.pieces) <= 3


OBFUSCATED = CORPUS + ["f u c k you", "y o u  i d i o t", "s.h.i.t", "@USER@USER hi", "don't b*ll*cks it's", "🇺🇸🇺🇸 lol 😂😂", "", "  \t ", "ｆｕｃｋ 𝐟𝐮𝐜𝐤", "a-b-c-d e.f.g.h"]


@pytest.mark.parametrize("restore", [True, False])
@pytest.mark.parametrize("analyzer,word_range", [("word+char", (1, 2)), ("word", (1, 3)), ("word", (2, 3)), ("char", (1, 1))])
def test_transform_through_the_piece_cache_counts_what_the_plain_path_counts(restore, analyzer, word_range):
    vectorizer = CountVectorizer(analyzer=analyzer, word_ngram_range=word_range, min_df=1, restore_obfuscated=restore).fit(OBFUSCATED)
    restorer = vectorizer._obfuscation_restorer()
    preprocess = vectorizer._transform_preprocess(restorer)
    texts = OBFUSCATED + ["you idiot you are so stupid", "stupid home sh1t"]
    cached = vectorizer._count(texts, vectorizer.vocabularies_, restorer, preprocess)
    assert vectorizer._transform_cache.pieces  # the transform path filled it
    plain = ngram_counts.count_ngrams(texts, vectorizer.vocabularies_, tuple(word_range), getattr(vectorizer, "_char_columns", None), True, preprocess, restorer)
    assert len(cached) == len(plain)
    for mine, reference in zip(cached, plain):
        assert (mine != reference).nnz == 0 and mine.shape == reference.shape


def test_the_piece_cache_refuses_a_growing_vocabulary():
    from collections import defaultdict
    import itertools

    with pytest.raises(TypeError, match="fixed vocabularies"):
        ngram_counts.PieceFeatures(defaultdict(itertools.count().__next__), True, None, True, None)


@settings(max_examples=50)
@given(st.lists(st.text(), max_size=5))
def test_any_unicode_text_gives_a_row(texts):
    vectorizer = TfidfVectorizer(min_df=1).fit(CORPUS)
    features = vectorizer.transform(texts)
    assert features.shape == (len(texts), len(vectorizer.get_feature_names()))
    assert numpy.isfinite(features.data).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cc",)), max_size=12), max_size=30))
def test_the_table_gives_each_word_the_bytes_the_one_by_one_lookup_gives(words):
    vectorizer = CountVectorizer(analyzer="char", min_df=1).fit(CORPUS + ["ｆｕｃｋ 😂 é"])
    one_by_one = ngram_counts.CharNgramColumns(vectorizer.vocabularies_["char"], tuple(vectorizer.char_ngram_range))
    together = ngram_counts.CharNgramColumns(vectorizer.vocabularies_["char"], tuple(vectorizer.char_ngram_range))
    together.fill(words + ["love", "\ud800x"])  # a lone surrogate too
    for word in words + ["love", "\ud800x"]:
        assert dict.__getitem__(together, word) == one_by_one[word]


def test_filling_a_growing_vocabulary_is_refused():
    from collections import defaultdict
    import itertools

    with pytest.raises(TypeError, match="fixed vocabulary"):
        ngram_counts.CharNgramColumns(defaultdict(itertools.count().__next__), (2, 5)).fill(["word"])


@pytest.mark.parametrize("cls,settings", [(TfidfVectorizer, {}), (TfidfVectorizer, {"norm": "l1", "sublinear_tf": False}),
                                          (TfidfVectorizer, {"analyzer": "char", "use_idf": False}), (CountVectorizer, {"binary": True})])
def test_the_column_layout_holds_the_same_matrix(monkeypatch, cls, settings):
    vectorizer = cls(min_df=1, **settings).fit(CORPUS)
    texts = OBFUSCATED + [""]
    rows = vectorizer.transform(texts)
    columns = vectorizer.transform(texts, layout="csc")
    assert columns.format == "csc" and columns.has_sorted_indices and columns.dtype == rows.dtype
    assert_close(columns.tocsr(), rows, atol=1e-6)
    monkeypatch.setattr(ngram_counts, "_CHUNK_SIZE", 4)  # several chunks, stacked by columns
    assert_close(vectorizer.transform(texts, layout="csc").tocsr(), rows, atol=1e-6)
    with pytest.raises(ValueError, match="layout must be 'csr' or 'csc'"):
        vectorizer.transform(texts, layout="coo")


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_a_row_before_trailing_empty_rows_still_has_unit_norm(layout):
    vectorizer = TfidfVectorizer(analyzer="char", min_df=1).fit(CORPUS)
    features = vectorizer.transform(["you are so stupid", "", "  "], layout=layout).tocsr()
    numpy.testing.assert_allclose(scipy.sparse.linalg.norm(features, axis=1), [1.0, 0.0, 0.0], atol=1e-6)
