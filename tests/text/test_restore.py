"""Vocabulary-guided restoration of obfuscated words, alone and inside the vectorizers."""
from __future__ import annotations

import json

import pytest

from smartmod.text.restore import ObfuscationRestorer
from smartmod.text.vectorize import CountVectorizer, TfidfVectorizer

VOCABULARY = ["idiot", "pathetic", "clown", "liberal", "loser", "bitch", "hello", "trash", "raping", "losses", "bad", "bed", "2019", "xxnum"]


def restored(word, document_frequency=None):
    return ObfuscationRestorer(VOCABULARY, document_frequency)[word]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1d107", "idiot"),  # leetspeak, 1 read as i
        ("l1b3r4l", "liberal"),  # 1 read as i next to a plain l
        ("11b3r41", "liberal"),  # 1 read as l and as i in one word
        ("b17ch", "bitch"),
        ("7r45h", "trash"),
        ("c10wn", "clown"),
        ("id*ot", "idiot"),  # a mask stands for one letter
        ("p#thetic", "pathetic"),
        ("l@ser", "loser"),
        ("b!tch", "bitch"),
        ("cl0*n", "clown"),  # leetspeak and a mask together
        ("pathetiic", "pathetic"),  # a rarely doubled letter
        ("patheeetic", "pathetic"),  # what normalize leaves of "patheeeeeetic"
        ("patheticcc", "pathetic"),  # a letter three times in a row
        ("trassshhh", "trash"),
    ],
)
def test_obfuscated_words_are_read_as_the_vocabulary_word_they_spell(written, expected):
    assert restored(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "2019",  # a number: no letter
        "r4today",  # a hashtag's words, spelling nothing known
        "l1b3r4ls",  # no vocabulary word of its length
        "raping",  # in the vocabulary
        "rapping",  # a common double letter is no sign of stretching
        "looser",  # ... nor does "looser" become "loser"
        "i***t",  # too many masks: at most half the characters
        "***",
        "hi",  # too short to tell
    ],
)
def test_words_that_spell_nothing_known_or_do_not_look_obfuscated_are_kept(written):
    assert restored(written) == written


def test_words_in_the_vocabulary_are_never_changed():
    restorer = ObfuscationRestorer(VOCABULARY, None)
    assert restorer(VOCABULARY) == VOCABULARY


def test_several_candidates_go_to_the_one_in_most_documents():
    document_frequency = {"bad": 10, "bed": 3}.get
    assert restored("b*d", document_frequency) == "bad"
    assert restored("b*d", {"bad": 3, "bed": 10}.get) == "bed"


def test_several_candidates_without_document_frequencies_keep_the_word():
    assert restored("b*d") == "b*d"


def test_equal_document_frequencies_go_to_the_first_candidate_in_alphabetical_order():
    assert ObfuscationRestorer(["bed", "bad"], lambda word: 1.0)["b*d"] == "bad"


def test_word_ngrams_of_several_words_are_not_candidates():
    assert ObfuscationRestorer(["you idiot", "idiot"], None)["y0u"] == "y0u"


SEGMENT_VOCABULARY = ["you", "are", "a", "an", "idiot", "disgrace", "area", "fascist", "sh", "it", "shit", "se", "rb", "itch"]
SEGMENT_FREQUENCY = {"you": 50, "are": 40, "a": 60, "an": 30, "idiot": 5, "disgrace": 2, "area": 1, "fascist": 2,
                     "sh": 1, "it": 30, "shit": 4, "se": 1, "rb": 1, "itch": 1}.get


@pytest.mark.parametrize(
    ("joined", "expected"),
    [
        ("youidiot", "you idiot"),
        ("afascist", "a fascist"),  # the article spaced out along with the word
        ("areadisgrace", "are a disgrace"),  # frequent words beat the rare "area"
        ("idiot", "idiot"),  # a vocabulary word stays whole
        ("shiiit", "shiiit"),  # reads as one word when restored: not "sh ii it"
        ("youidiotx", "youidiotx"),  # no sequence of vocabulary words spells it
        ("serbitch", "serbitch"),  # fragments such as "se" and "rb" are no pieces
    ],
)
def test_a_joined_run_of_spaced_letters_splits_into_its_most_probable_words(joined, expected):
    assert ObfuscationRestorer(SEGMENT_VOCABULARY, SEGMENT_FREQUENCY).segment(joined) == expected


def test_without_document_frequencies_a_run_splits_into_the_fewest_words():
    assert ObfuscationRestorer(["yo", "uid", "iot", "you", "idiot"], None).segment("youidiot") == "you idiot"  # not "yo uid iot"


TRAINING = ["you are an idiot", "what an idiot", "such a clown", "a bad day", "a bad idea", "a bed"]


def test_transform_counts_the_restored_word():
    vectorizer = TfidfVectorizer(min_df=1).fit(TRAINING)
    assert (vectorizer.transform(["such a c10wn"]) != vectorizer.transform(["such a clown"])).nnz == 0  # normalize leaves c10wn
    assert (vectorizer.transform(["a b*d day"]) != vectorizer.transform(["a bad day"])).nnz == 0  # bad: 2 documents, bed: 1


def test_transform_splits_adjacent_spaced_words():
    vectorizer = TfidfVectorizer(min_df=1).fit(TRAINING)
    assert (vectorizer.transform(["w h a t a n i d i o t"]) != vectorizer.transform(["what an idiot"])).nnz == 0


def test_transform_without_restoration_counts_the_word_as_written():
    vectorizer = TfidfVectorizer(min_df=1, restore_obfuscated=False).fit(TRAINING)
    assert (vectorizer.transform(["such a c10wn"]) != vectorizer.transform(["such a clown"])).nnz > 0


def test_count_vectorizer_restores_only_unambiguous_words():
    vectorizer = CountVectorizer(analyzer="word", min_df=1).fit(TRAINING)
    assert vectorizer.transform(["c10wn"])[0, vectorizer.vocabulary_["word:clown"]] == 1
    assert vectorizer.transform(["b*d"]).nnz == 0


@pytest.mark.parametrize("restore_obfuscated", [True, False])
def test_save_and_load_keep_the_option(tmp_path, restore_obfuscated):
    vectorizer = TfidfVectorizer(min_df=1, restore_obfuscated=restore_obfuscated).fit(TRAINING)
    rebuilt = TfidfVectorizer.load(vectorizer.save(tmp_path))
    assert rebuilt.restore_obfuscated is restore_obfuscated
    assert (rebuilt.transform(["such a c10wn"]) != vectorizer.transform(["such a c10wn"])).nnz == 0


def test_a_vectorizer_saved_before_the_option_existed_loads_without_restoration(tmp_path):
    directory = TfidfVectorizer(min_df=1).fit(TRAINING).save(tmp_path)
    document = json.loads((directory / "vectorizer.json").read_text(encoding="utf-8"))
    del document["config"]["restore_obfuscated"]
    (directory / "vectorizer.json").write_text(json.dumps(document), encoding="utf-8")
    assert TfidfVectorizer.load(directory).restore_obfuscated is False


def test_restore_obfuscated_must_be_a_bool():
    with pytest.raises(TypeError, match="restore_obfuscated must be True or False"):
        TfidfVectorizer(restore_obfuscated="yes").fit(TRAINING)
