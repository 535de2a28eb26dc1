"""SequenceEncoder: texts to padded token ids, obfuscation read back, saved as JSON."""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn.serialize import SerializationError
from smartmod.text.sequence_encoder import SequenceEncoder

TEXTS = ["you are an idiot", "what an idiot", "have a nice day", "a nice day to you"]


def fitted(**settings) -> SequenceEncoder:
    return SequenceEncoder(**{"min_count": 1, **settings}).fit(TEXTS)


def test_ids_follow_the_vocabulary_and_padding_comes_after_the_tokens():
    encoder = fitted()
    tokens = encoder.vocabulary_.tokens_
    ids = encoder.transform(["You are an IDIOT!", "nice"])
    assert ids.shape == (2, 4) and ids.dtype == numpy.int64
    assert [tokens[i] for i in ids[0]] == ["you", "are", "an", "idiot"]
    assert ids[1, 0] == tokens.index("nice") and not ids[1, 1:].any()


def test_unknown_words_get_the_out_of_vocabulary_id():
    assert fitted().transform(["zebra idiot"])[0, 0] == 1


def test_long_texts_keep_their_first_tokens():
    encoder = fitted(max_length=2)
    assert encoder.transform(["have a nice day"]).tolist() == encoder.transform(["have a"]).tolist()


def test_a_text_without_words_is_one_padded_step():
    ids = fitted().transform(["", "!!!"])
    assert ids.shape == (2, 1) and not ids.any()
    assert [len(row) for row in fitted().encode(["", "!!!"])] == [0, 0]


def test_obfuscated_words_read_as_the_vocabulary_word_they_spell():
    """normalize() knows only a lexicon of insults; the vocabulary reads the rest (n1c3, h4ve)."""
    tokens = fitted().vocabulary_.tokens_
    assert fitted().transform(["h4ve a n1c3 day"])[0].tolist() == [tokens.index(word) for word in ("have", "a", "nice", "day")]
    assert fitted(restore_obfuscated=False).transform(["n1c3"])[0, 0] == 1


def test_min_count_and_max_size_bound_the_vocabulary():
    assert fitted(min_count=2).vocabulary_.tokens_[2:] == ["a", "an", "day", "idiot", "nice", "you"]
    assert len(fitted(max_size=3).vocabulary_) == 5  # three words and the two special tokens


def test_save_and_load_give_the_same_ids(tmp_path):
    encoder = fitted(max_length=3, restore_obfuscated=False)
    loaded = SequenceEncoder.load(encoder.save(tmp_path / "encoder"))
    assert loaded.get_config() == encoder.get_config()
    texts = ["you are an idiot", "n1c3", "never seen words"]
    assert numpy.array_equal(loaded.transform(texts), encoder.transform(texts))


def test_a_file_of_another_kind_is_a_clear_error(tmp_path):
    (tmp_path / "sequence_encoder.json").write_text('{"format": "something else"}')
    with pytest.raises(SerializationError, match="not a sequence encoder smartmod can rebuild"):
        SequenceEncoder.load(tmp_path)


def test_misuse_is_reported_clearly():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        SequenceEncoder().transform(["hello"])
    with pytest.raises(TypeError, match="text 1 is a int"):
        fitted().transform(["hello", 3])
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        SequenceEncoder(max_length=0)


def test_drift_monitoring_reads_its_vocabulary():
    from smartmod.eval.drift import out_of_vocabulary_rates

    assert out_of_vocabulary_rates(fitted(), ["you idiot", "zebra idiot", ""]).tolist() == [0.0, 0.5, 0.0]
