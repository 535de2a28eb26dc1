"""Text dataset readers: the shared datasets as data/README.md describes them, and the file-format
checks on small fixture files written where a reader can see them.

The first half reads every shared dataset once (skipped when ../shared/data is absent, failing
under CI=true) and pins its record counts per split and its labeled / positive counts per category.
The second half writes fixture files into ``tmp_path`` to show each behaviour of the readers: bad
rows raise or are skipped with one warning, invalid UTF-8 is replaced, missing columns are named,
the full Jigsaw competition files are read.
"""
from __future__ import annotations

import functools
import gzip
import json
import pickle
import warnings
from collections import Counter
from pathlib import Path

import numpy
import pytest

from smartmod.data.categories import CATEGORIES, label_counts, label_matrix
from smartmod.data.records import DataFormatError, DataFormatWarning, TextRecord
from smartmod.data.text_readers import (
    TEXT_DATASETS, read_all_text, read_davidson, read_gab_hate_corpus, read_harmeme, read_hatexplain, read_jigsaw,
    read_olid, read_sms_spam, read_stormfront, read_text_dataset, read_toxic_spans,
)
from tests.conftest import data_root, require_data

# name: (data folder, records per split, {category: (labeled, positive)}); every category not
# listed must be unlabeled on every record.
EXPECTED = {
    "olid": ("text/olid", {"train": 13240}, {"toxicity": (13240, 4400)}),
    "davidson": ("text/davidson", {"train": 21067}, {"toxicity": (21067, 17528), "identity_attack": (21067, 1216)}),
    "jigsaw-subset": ("text/jigsaw-subset", {"train": 2886}, {
        "toxicity": (2886, 294), "severe_toxicity": (2886, 35), "obscene": (2886, 159), "threat": (2886, 12),
        "insult": (2886, 158), "identity_attack": (2886, 31),
    }),
    "sms-spam": ("text/sms-spam", {"train": 4475}, {"spam": (4475, 598)}),
    "hateful-memes-text": ("text/hateful-memes-text", {"train": 8500, "dev_seen": 500, "dev_unseen": 540},
                           {"identity_attack": (9540, 3466)}),
    "hateval-en": ("text/hateval2019", {"train": 9000, "dev": 1000}, {"identity_attack": (10000, 4210)}),
    "hateval-es": ("text/hateval2019", {"train": 4500, "dev": 500}, {"identity_attack": (5000, 2079)}),
    "toxic-spans": ("text/toxic-spans", {"train": 7939, "trial": 690}, {"toxicity": (8629, 8629)}),
    "hatexplain": ("text/hatexplain", {"train": 15383, "val": 1922}, {"toxicity": (17305, 10273), "identity_attack": (17305, 5341)}),
    # 10,466 sentences less 168 "relation" and 73 "idk/skip"
    "stormfront": ("text/stormfront", {"train": 10225}, {"identity_attack": (10225, 957)}),
    "gab-hate-corpus": ("text/gab-hate-corpus", {"train": 22036}, {
        "toxicity": (22036, 2670), "obscene": (22036, 1379), "threat": (22036, 131), "identity_attack": (22036, 1857),
    }),
    "implicit-hate": ("text/implicit-hate", {"train": 17184}, {"identity_attack": (17184, 6551)}),
    "multioff": ("text/meme-texts/multioff", {"train": 445, "val": 149}, {"toxicity": (594, 245)}),
    "harmeme-c": ("text/meme-texts/harmeme/Harm-C", {"train": 3013, "val": 177}, {"toxicity": (3190, 1125), "identity_attack": (2389, 324)}),
    # 3,115 memes less the one with an empty harm level
    "harmeme-p": ("text/meme-texts/harmeme/Harm-P", {"train": 2937, "val": 177}, {"toxicity": (3114, 1576), "identity_attack": (1648, 110)}),
    "pridemm": ("text/meme-texts/pridemm", {"train": 4328, "val": 228}, {"identity_attack": (4556, 2235)}),
}


@functools.cache
def _read_shared(name: str) -> list[TextRecord]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataFormatWarning)  # the shared files are clean: a warning is a bug
        return read_text_dataset(name, data_root())


def shared(name: str) -> list[TextRecord]:
    """The records of a shared dataset, read once per test session."""
    require_data(EXPECTED[name][0])
    return _read_shared(name)


def test_every_registered_dataset_has_expectations():
    assert set(EXPECTED) == set(TEXT_DATASETS)


@pytest.mark.data
@pytest.mark.parametrize("name", EXPECTED)
def test_shared_dataset_has_the_documented_records_per_split(name):
    assert dict(Counter(record.split for record in shared(name))) == EXPECTED[name][1]


@pytest.mark.data
@pytest.mark.parametrize("name", EXPECTED)
def test_shared_dataset_labels_only_its_categories(name):
    expected = {category: EXPECTED[name][2].get(category, (0, 0)) for category in CATEGORIES}
    assert label_counts(shared(name)) == expected


@pytest.mark.data
@pytest.mark.parametrize("name", EXPECTED)
def test_shared_dataset_records_are_well_formed(name):
    records = shared(name)
    assert all(record.source == name and record.text.strip() for record in records)
    assert len({record.id for record in records}) == len(records) - (400 if name == "hateful-memes-text" else 0)


@pytest.mark.data
def test_olid_tweets_lose_their_csv_quoting_but_keep_their_quotes():
    tweets = {record.id: record for record in shared("olid")}
    assert tweets["62688"].text == '@USER Someone should\'veTaken" this piece of shit to a volcano. 😂"'
    assert tweets["62688"].original == {"subtask_a": "OFF", "subtask_b": "UNT", "subtask_c": None}
    assert not any(record.text.startswith('"') for record in tweets.values())


@pytest.mark.data
def test_davidson_keeps_its_class_for_hate_versus_rest():
    classes = Counter(record.original["class"] for record in shared("davidson"))
    assert classes == {0: 1216, 1: 16312, 2: 3539}


@pytest.mark.data
def test_hateval_records_carry_their_language():
    assert {record.language for record in shared("hateval-es")} == {"es"}
    assert {record.language for record in shared("hateval-en")} == {"en"}


@pytest.mark.data
def test_hateful_memes_copies_across_the_dev_files_share_a_group():
    by_group = Counter(record.group for record in shared("hateful-memes-text"))
    assert sum(count == 2 for count in by_group.values()) == 400


@pytest.mark.data
def test_stormfront_groups_the_sentences_of_one_post():
    records = shared("stormfront")
    assert all(record.group == record.id.split("_")[0] for record in records)
    assert len({record.group for record in records}) == 4847


@pytest.mark.data
def test_hatexplain_keeps_tokens_and_rationales():
    records = shared("hatexplain")
    assert all(record.text == " ".join(record.original["tokens"]) for record in records)
    masks = Counter(len(record.original["rationales"]) for record in records)
    assert masks == {0: 7032, 2: 6340, 3: 3933}  # normal posts have none; each annotator who saw harm gave one


@pytest.mark.data
def test_toxic_spans_offsets_fall_inside_their_text():
    records = shared("toxic-spans")
    assert all(all(0 <= offset < len(record.text) for offset in record.original["spans"]) for record in records)
    assert sum(not record.original["spans"] for record in records) == 485 + 43


@pytest.mark.data
def test_read_all_text_concatenates_the_named_datasets():
    require_data("text/sms-spam")
    require_data("text/meme-texts/multioff")
    records = read_all_text(data_root(), names=["multioff", "sms-spam"])
    assert [record.id for record in records] == [record.id for record in shared("multioff") + shared("sms-spam")]


# --- fixture files ---------------------------------------------------------------------------

OLID_HEADER = "id\ttweet\tsubtask_a\tsubtask_b\tsubtask_c\r\n"


def write(path: Path, content: str | bytes) -> Path:
    """``content`` written to ``path`` (gzipped when the name ends in .gz)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def olid_file(tmp_path: Path, *rows: str) -> Path:
    return write(tmp_path / "olid.tsv", OLID_HEADER + "".join(row + "\r\n" for row in rows))


def test_a_bad_label_raises_naming_file_line_and_problem(tmp_path):
    path = olid_file(tmp_path, "1\t@USER fine\tNOT\tNULL\tNULL", "2\t@USER awful\tOFFF\tTIN\tIND")
    with pytest.raises(DataFormatError, match=r"^olid\.tsv line 3: subtask_a is 'OFFF', expected OFF or NOT$") as caught:
        read_olid(path)
    assert (caught.value.file, caught.value.line) == (path, 3)


def test_skip_drops_bad_rows_with_one_warning_giving_the_count(tmp_path):
    path = olid_file(tmp_path, "1\t@USER fine\tNOT\tNULL\tNULL", "2\t@USER awful\tOFFF\tTIN\tIND", "3\t \tOFF\tTIN\tIND", "4\tyou idiot\tOFF\tTIN\tIND")
    with pytest.warns(DataFormatWarning) as caught:
        records = read_olid(path, errors="skip")
    assert len(caught) == 1
    assert "skipped 2 bad row(s)" in str(caught[0].message)
    assert "line 3: subtask_a is 'OFFF'" in str(caught[0].message) and "line 4: tweet is empty" in str(caught[0].message)
    assert [(record.id, record.labels) for record in records] == [("1", {"toxicity": 0}), ("4", {"toxicity": 1})]


def test_errors_must_be_raise_or_skip(tmp_path):
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip', got 'ignore'"):
        read_olid(olid_file(tmp_path, "1\tfine\tNOT\tNULL\tNULL"), errors="ignore")


def test_olid_reads_bare_quotes_and_undoes_csv_quoting(tmp_path):
    path = olid_file(tmp_path, '1\tsaid "hi\tNOT\tNULL\tNULL', '2\t"a ""quoted"" word"\tOFF\tUNT\tNULL')
    assert [record.text for record in read_olid(path)] == ['said "hi', 'a "quoted" word']


def test_missing_columns_are_named_with_the_columns_that_exist(tmp_path):
    path = write(tmp_path / "olid.tsv", "id\ttweet\tlabel\r\n1\thello\tNOT\r\n")
    with pytest.raises(DataFormatError, match=r"olid\.tsv line 1: the header lacks the column\(s\) subtask_a, subtask_b, subtask_c; it has id, tweet, label"):
        read_olid(path)


def test_a_row_with_the_wrong_number_of_fields_is_a_bad_row(tmp_path):
    path = olid_file(tmp_path, "1\thello\tNOT\tNULL")
    with pytest.raises(DataFormatError, match="line 2: has 4 tab-separated fields, expected 5"):
        read_olid(path)


def test_invalid_utf8_is_replaced_with_one_warning_giving_the_count(tmp_path):
    path = write(tmp_path / "sms.csv.gz", b"label,text\nham,caf\xe9 at 8\nspam,WIN \xff\xfe now\n")
    with pytest.warns(DataFormatWarning, match=r"sms\.csv\.gz: 3 bytes are not valid UTF-8 \(the first on line 2\)"):
        records = read_sms_spam(path)
    assert [record.text for record in records] == ["caf\ufffd at 8", "WIN \ufffd\ufffd now"]
    assert [record.labels for record in records] == [{"spam": 0}, {"spam": 1}]


def test_line_numbers_count_the_lines_of_multi_line_texts(tmp_path):
    content = (
        "count,hate_speech,offensive_language,neither,class,tweet\n"
        '3,0,3,0,1,"RT ""quoted""\n\nbitch"\n'
        "3,0,0,3,5,fine\n"
    )
    path = write(tmp_path / "davidson.csv.gz", content)
    with pytest.raises(DataFormatError, match=r"davidson\.csv\.gz line 5: class is '5', expected 0, 1 or 2"):
        read_davidson(path)


def test_davidson_maps_hate_offensive_and_neither(tmp_path):
    content = "count,hate_speech,offensive_language,neither,class,tweet\n3,3,0,0,0,a\n3,0,3,0,1,b\n3,0,0,3,2,c\n"
    records = read_davidson(write(tmp_path / "d.csv", content))
    assert [record.labels for record in records] == [
        {"toxicity": 1, "identity_attack": 1}, {"toxicity": 1, "identity_attack": 0}, {"toxicity": 0, "identity_attack": 0},
    ]
    assert records[0].id == "d.csv:2"
    assert [record.original["label_shares"] for record in records] == [
        {"toxicity": 1.0, "identity_attack": 1.0}, {"toxicity": 1.0, "identity_attack": 0.0}, {"toxicity": 0.0, "identity_attack": 0.0},
    ]


def test_davidson_vote_shares_follow_the_coders_not_the_majority(tmp_path):
    content = "count,hate_speech,offensive_language,neither,class,tweet\n3,2,1,0,0,a\n6,1,4,1,1,b\n"
    records = read_davidson(write(tmp_path / "d.csv", content))
    assert records[0].original["label_shares"] == {"toxicity": 1.0, "identity_attack": round(2 / 3, 6)}
    assert records[1].original["label_shares"] == {"toxicity": round(5 / 6, 6), "identity_attack": round(1 / 6, 6)}


def test_gab_reads_csv_quoted_texts_in_a_tsv(tmp_path):
    content = 'text\thd\tcv\tvo\n"He said ""go"" now"\t1\t0\t0\nplain text\t0\t0\t0\n'
    records = read_gab_hate_corpus(write(tmp_path / "ghc.tsv", content))
    assert [record.text for record in records] == ['He said "go" now', "plain text"]
    assert records[0].labels == {"identity_attack": 1, "threat": 0, "obscene": 0, "toxicity": 1}
    assert records[1].labels == {"identity_attack": 0, "threat": 0, "obscene": 0, "toxicity": 0}


def test_toxic_spans_reject_offsets_outside_the_text(tmp_path):
    path = write(tmp_path / "spans.csv", 'spans,text\n"[0, 1]",ab\n"[5]",abc\n')
    with pytest.raises(DataFormatError, match=r"spans\.csv line 3: spans holds offsets \[5\] outside the text's 3 characters"):
        read_toxic_spans({"trial": path})


def test_stormfront_leaves_out_relation_and_groups_by_post(tmp_path):
    header = "file_id,user_id,subforum_id,num_contexts,label,sampled_split,text\n"
    rows = "7_1,1,2,0,hate,train,they are vermin\n7_2,1,2,1,relation,,and them\n7_3,1,2,0,noHate,,nice day\n8_1,1,2,0,idk/skip,,hm\n"
    records = read_stormfront(write(tmp_path / "s.csv", header + rows))
    assert [(record.id, record.group, record.labels) for record in records] == [
        ("7_1", "7", {"identity_attack": 1}), ("7_3", "7", {"identity_attack": 0}),
    ]


def hatexplain_post(*labels: str, tokens=("you", "people")) -> dict:
    return {
        "annotators": [{"annotator_id": index, "label": label, "target": ["None"]} for index, label in enumerate(labels)],
        "post_tokens": list(tokens), "rationales": [],
    }


def test_hatexplain_takes_the_majority_and_leaves_out_posts_without_one(tmp_path):
    posts = {
        "1_gab": hatexplain_post("hatespeech", "hatespeech", "offensive"),
        "2_gab": hatexplain_post("hatespeech", "offensive", "normal"),
        "3_gab": hatexplain_post("normal", "normal", "offensive"),
    }
    dataset = write(tmp_path / "dataset.json.gz", json.dumps(posts))
    divisions = write(tmp_path / "divisions.json", json.dumps({"train": ["1_gab", "2_gab"], "val": ["3_gab"]}))
    records = read_hatexplain(dataset, divisions)
    assert [(record.id, record.split, record.labels) for record in records] == [
        ("1_gab", "train", {"toxicity": 1, "identity_attack": 1}), ("3_gab", "val", {"toxicity": 0, "identity_attack": 0}),
    ]
    assert records[0].original["annotator_labels"] == ["hatespeech", "hatespeech", "offensive"]
    assert records[0].original["label_shares"] == {"toxicity": 1.0, "identity_attack": round(2 / 3, 6)}
    assert records[1].original["label_shares"] == {"toxicity": round(1 / 3, 6), "identity_attack": 0.0}


def test_hatexplain_names_the_post_of_a_bad_label(tmp_path):
    dataset = write(tmp_path / "dataset.json", json.dumps({"9_gab": hatexplain_post("hate", "normal", "normal")}))
    divisions = write(tmp_path / "divisions.json", json.dumps({"train": ["9_gab"]}))
    with pytest.raises(DataFormatError, match=r"^dataset\.json: post 9_gab: label is 'hate', expected hatespeech, offensive or normal$"):
        read_hatexplain(dataset, divisions)


def test_harmeme_maps_harm_and_community_targets(tmp_path):
    lines = [
        {"id": "a", "image": "a.png", "labels": ["not harmful"], "text": "cute"},
        {"id": "b", "image": "b.png", "labels": ["very harmful", "community"], "text": "they all"},
        {"id": "c", "image": "c.png", "labels": ["somewhat harmful", "individual"], "text": "he is"},
        {"id": "d", "image": "d.png", "labels": ["", "individual"], "text": "unrated"},
    ]
    path = write(tmp_path / "train.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    records = read_harmeme("P", {"train": path})
    assert [(record.id, record.labels) for record in records] == [
        ("a", {"toxicity": 0, "identity_attack": 0}), ("b", {"toxicity": 1, "identity_attack": 1}), ("c", {"toxicity": 1}),
    ]
    assert records[0].source == "harmeme-p"


def test_invalid_json_lines_are_bad_rows(tmp_path):
    path = write(tmp_path / "val.jsonl", '{"id": "a", "labels": ["not harmful"], "text": "ok"}\n{"id": "b", "labels": [\n')
    with pytest.raises(DataFormatError, match=r"val\.jsonl line 2: is not valid JSON"):
        read_harmeme("C", {"val": path})


JIGSAW_LABELS = "toxic,severe_toxic,obscene,threat,insult,identity_hate"


def jigsaw_files(tmp_path: Path, test_labels: str) -> tuple[Path, Path, Path]:
    train = write(tmp_path / "train.csv", f'"id","comment_text",{JIGSAW_LABELS}\n"a1","you are ""great""\nreally",0,0,0,0,0,0\n"a2","idiot",1,0,1,0,1,0\n')
    test = write(tmp_path / "test.csv", '"id","comment_text"\n"t1","hello"\n"t2","die"\n"t3","hmm"\n')
    labels = write(tmp_path / "test_labels.csv", f"id,{JIGSAW_LABELS}\n" + test_labels)
    return train, test, labels


def test_jigsaw_competition_files_drop_unscored_test_comments(tmp_path):
    train, test, labels = jigsaw_files(tmp_path, "t1,-1,-1,-1,-1,-1,-1\nt2,1,1,0,1,0,0\nt3,0,-1,0,-1,0,0\n")
    records = read_jigsaw(train, test, labels)
    assert [(record.id, record.split, record.source) for record in records] == [
        ("a1", "train", "jigsaw"), ("a2", "train", "jigsaw"), ("t2", "test", "jigsaw"), ("t3", "test", "jigsaw"),
    ]
    assert records[0].text == 'you are "great"\nreally'
    assert records[1].labels == {"toxicity": 1, "severe_toxicity": 0, "obscene": 1, "threat": 0, "insult": 1, "identity_attack": 0}
    assert records[3].labels == {"toxicity": 0, "obscene": 0, "insult": 0, "identity_attack": 0}
    assert records[3].original["severe_toxic"] == -1


def test_jigsaw_test_comment_without_a_labels_row_is_a_bad_row(tmp_path):
    _, test, labels = jigsaw_files(tmp_path, "t1,0,0,0,0,0,0\nt2,0,0,0,0,0,0\n")
    with pytest.raises(DataFormatError, match=r"test\.csv line 4: id 't3' has no row in test_labels\.csv"):
        read_jigsaw(test_csv=test, test_labels_csv=labels)


def test_jigsaw_test_comments_need_their_labels_file(tmp_path):
    _, test, _ = jigsaw_files(tmp_path, "")
    with pytest.raises(ValueError, match="test_csv and test_labels_csv go together"):
        read_jigsaw(test_csv=test)


def test_jigsaw_train_rejects_unscored_labels(tmp_path):
    train = write(tmp_path / "train.csv", f"id,comment_text,{JIGSAW_LABELS}\nx,hi,-1,0,0,0,0,0\n")
    with pytest.raises(DataFormatError, match=r"train\.csv line 2: toxic is '-1', expected 0 or 1"):
        read_jigsaw(train)


def test_read_text_dataset_reads_the_shared_layout_under_root(tmp_path):
    olid_file(tmp_path / "text" / "olid", "1\thello\tNOT\tNULL\tNULL")
    (tmp_path / "text" / "olid" / "olid.tsv").rename(tmp_path / "text" / "olid" / "olid-training-v1.0.tsv")
    assert [record.text for record in read_text_dataset("olid", tmp_path)] == ["hello"]


def test_read_text_dataset_names_the_known_datasets():
    with pytest.raises(ValueError, match="unknown text dataset 'olidd'; the text datasets are olid, davidson"):
        read_text_dataset("olidd")


def test_label_matrix_holds_nan_where_a_record_is_not_labeled():
    records = [
        TextRecord(text="spam!", source="sms-spam", labels={"spam": 1}, id="1"),
        TextRecord(text="idiot", source="olid", labels={"toxicity": 1}, id="2"),
    ]
    matrix = label_matrix(records)
    assert matrix.shape == (2, len(CATEGORIES)) and matrix.dtype == numpy.float32
    assert matrix[0, CATEGORIES.index("spam")] == 1 and matrix[1, CATEGORIES.index("toxicity")] == 1
    assert numpy.isnan(matrix).sum() == 2 * len(CATEGORIES) - 2


def test_text_record_rejects_unknown_categories_and_non_binary_labels():
    with pytest.raises(ValueError, match=r"unknown categories \['hate'\]"):
        TextRecord(text="x", source="s", labels={"hate": 1}, id="1")
    with pytest.raises(ValueError, match=r"labels must be 0 or 1, got \{'toxicity': 2\}"):
        TextRecord(text="x", source="s", labels={"toxicity": 2}, id="1")
    assert TextRecord(text="x", source="s", labels={}, id="7").group == "7"


def test_data_format_error_survives_pickling():
    error = pickle.loads(pickle.dumps(DataFormatError("a/b.tsv", 3, "bad")))
    assert (str(error), error.line, error.problem) == ("b.tsv line 3: bad", 3, "bad")

