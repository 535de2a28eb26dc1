"""Training the text model on a slice of the shared data, and evaluating it from the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas
import pytest

from smartmod.moderation import Moderator
from smartmod.moderation.training import TextTrainingConfig, load_training_config, train_text_model
from tests.conftest import require_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    require_data("text/sms-spam/train.csv.gz")
    require_data("text/olid/olid-training-v1.0.tsv")
    root = tmp_path_factory.mktemp("training")
    config = TextTrainingConfig(datasets=["sms-spam", "olid"], max_records_per_dataset=1500, epochs=4, hidden=32, max_features=20000,
                                identity_negatives=1, specialists=["spam"], progress=False)
    card = train_text_model(config, root / "model", report_dir=root / "report")
    return root, card


def test_training_on_a_slice_learns_spam_and_offense(trained):
    _, card = trained
    figures = card["holdout_figures"]
    assert figures["sms_spam_f1"] > 0.8, figures
    assert figures["olid_offensive_auc"] > 0.65, figures
    assert card["data"]["datasets"] == ["olid", "sms-spam"]
    assert sum(card["data"]["split_sizes"].values()) == 3000


def test_spam_is_scored_by_its_specialist_in_the_saved_bundle(trained):
    from smartmod.data.categories import CATEGORIES
    from smartmod.nn import Parallel

    root, card = trained
    (chosen,) = card["training"]["specialists"]
    assert chosen["category"] == "spam" and chosen["C"] == float(min(chosen["validation_log_loss"], key=chosen["validation_log_loss"].get))
    assert chosen["rows"]["train"] < card["data"]["split_sizes"]["train"]  # the SMS rows only: OLID does not label spam
    assert "'spam' is learned from one dataset alone (sms-spam)" in " ".join(card["limits"])
    network = Moderator.load(root / "model").bundle.network
    assert isinstance(network, Parallel)
    spam, others = CATEGORIES.index("spam"), [c != "spam" for c in CATEGORIES]
    assert abs(network[0].weight.data[:, spam]).max() > 0 and not network[0].weight.data[:, others].any()  # its column alone
    assert not network[1][len(network[1]) - 1].weight.data[:, spam].any()  # the MLP's spam column is zeroed


def test_trained_bundle_loads_and_scores(trained):
    root, _ = trained
    moderator = Moderator.load(root / "model")
    spam, ham = moderator.predict(["WINNER!! Claim your free prize now, call 09061701461", "ok see you at lunch"])
    assert spam["spam"] > ham["spam"]


def test_report_is_written_as_json_html_and_plots(trained):
    root, _ = trained
    report = json.loads((root / "report" / "report.json").read_text())
    assert set(report["per_dataset"]) == {"olid", "sms-spam"}
    assert report["history"]["val_loss"] and set(report["plots"]) >= {"roc", "reliability", "learning_curves"}
    assert (root / "report" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert list((root / "report").glob("*.png"))


def test_evaluate_cli_on_a_labeled_file(trained, tmp_path):
    root, _ = trained
    source = tmp_path / "labeled.csv"
    pandas.DataFrame({"text": ["free prize call now 0800", "see you soon", "WIN cash now!!! txt WIN to 80086", "thanks mate"],
                      "spam": [1, 0, 1, 0]}).to_csv(source, index=False)
    result = subprocess.run([sys.executable, "-m", "smartmod.cli", "evaluate", str(root / "model"), "--data", str(source), "--output", str(tmp_path / "eval")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "eval" / "report.html").exists() and (tmp_path / "eval" / "report.json").exists()


def test_evaluate_cli_rejects_unknown_data(trained, tmp_path):
    root, _ = trained
    result = subprocess.run([sys.executable, "-m", "smartmod.cli", "evaluate", str(root / "model"), "--data", "nonexistent-set", "--output", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "neither a shared dataset" in result.stderr


def test_training_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"hiden": 3}))
    with pytest.raises(ValueError, match="unknown keys \\['hiden'\\]"):
        load_training_config(path)


def test_an_unknown_category_weighting_fails_before_reading_any_data(tmp_path, monkeypatch):
    from smartmod.moderation import training

    monkeypatch.setattr(training, "prepare_records", lambda config: pytest.fail("the data was read before the config was checked"))
    with pytest.raises(ValueError, match="unknown category_weights 'even'; choose one of \\('none', 'balanced'\\)"):
        train_text_model(TextTrainingConfig(category_weights="even"), tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_shipped_config_is_loadable():
    config = load_training_config(Path(__file__).resolve().parents[2] / "configs" / "default-text.json")
    assert config.weight_storage == "int8" and config.imbalance == "none"


def test_soft_label_config_is_the_shipped_one_with_soft_labels():
    configs = Path(__file__).resolve().parents[2] / "configs"
    shipped, soft = (load_training_config(configs / name) for name in ("default-text.json", "text-soft-labels.json"))
    assert not shipped.soft_labels and soft.soft_labels
    assert {**vars(soft), "soft_labels": False, "name": shipped.name} == vars(shipped)


def test_wide_network_adds_a_linear_path_and_survives_an_int8_bundle(tmp_path):
    from smartmod.data.categories import CATEGORIES
    from smartmod.moderation.bundle import BundleConfig, TextModelBundle
    from smartmod.moderation.training import text_network
    from smartmod.nn import Parallel, Sequential
    from smartmod.text.vectorize import TfidfVectorizer

    texts = ["you are an idiot", "have a nice day", "what a stupid idea", "see you tomorrow"]
    vectorizer = TfidfVectorizer(min_df=1).fit(texts)
    features = vectorizer.transform(texts)
    assert isinstance(text_network(features.shape[1], len(CATEGORIES), TextTrainingConfig()), Sequential)
    network = text_network(features.shape[1], len(CATEGORIES), TextTrainingConfig(wide=True, hidden=4))
    assert isinstance(network, Parallel)
    network[0].weight.data[...] = 0.5  # the linear path, zero at the start of training
    network.eval()
    config = BundleConfig(categories=list(CATEGORIES), thresholds={c: 0.5 for c in CATEGORIES}, temperatures={c: 1.0 for c in CATEGORIES},
                          network=network.to_config(), name="wide", version="0", weight_storage="int8")
    bundle = TextModelBundle(config, vectorizer, network)
    loaded = TextModelBundle.load(bundle.save(tmp_path / "wide"))
    assert isinstance(loaded.network, Parallel)
    assert abs(loaded.logits(texts) - bundle.logits(texts)).max() < 0.05


def test_cross_validation_scores_every_fold_and_summarizes_the_spread(tmp_path):
    require_data("text/sms-spam/train.csv.gz")
    config = {"datasets": ["sms-spam"], "max_records_per_dataset": 600, "epochs": 3, "hidden": 16, "max_features": 5000,
              "identity_negatives": 0, "progress": False}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    command = [sys.executable, "-m", "smartmod.cli", "train", "text", "--config", str(tmp_path / "config.json"),
               "--output", str(tmp_path / "cv"), "--cross-validate", "3"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr.count("fold ") == 3 and "sms_spam_f1" in finished.stdout
    result = json.loads((tmp_path / "cv" / "crossval.json").read_text(encoding="utf-8"))
    assert result["folds"] == 3 and len(result["per_fold"]) == 3
    assert result["rows"] == sum(fold["sms_rows"] for fold in result["per_fold"]) == 540  # 90% of 600: the 10% holdout stays out
    spam = result["summary"]["sms_spam_f1"]
    assert spam["min"] <= spam["mean"] <= spam["max"] and spam["std"] >= 0 and spam["mean"] > 0.7, spam


def test_cross_validation_rejects_a_report_and_too_few_folds(tmp_path):
    base = [sys.executable, "-m", "smartmod.cli", "train", "text", "--output", str(tmp_path / "cv")]
    with_report = subprocess.run([*base, "--cross-validate", "3", "--report", str(tmp_path / "r")], capture_output=True, text=True, timeout=60)
    assert with_report.returncode != 0 and "leave one of them out" in with_report.stderr
    one_fold = subprocess.run([*base, "--cross-validate", "1"], capture_output=True, text=True, timeout=60)
    assert one_fold.returncode != 0 and "at least 2 folds" in one_fold.stderr


def test_soft_labels_with_a_resampling_strategy_fail_before_reading_any_data(tmp_path, monkeypatch):
    from smartmod.moderation import training

    monkeypatch.setattr(training, "prepare_records", lambda config: pytest.fail("the data was read before the config was checked"))
    with pytest.raises(ValueError, match="soft_labels cannot be combined with imbalance 'smote', which picks rows by their 0/1 labels"):
        train_text_model(TextTrainingConfig(soft_labels=True, imbalance="smote"), tmp_path / "model")
    with pytest.raises(ValueError, match="soft_labels must be true or false, got 'yes'"):
        train_text_model(TextTrainingConfig(soft_labels="yes"), tmp_path / "model")


def test_the_network_learns_the_targets_where_they_differ_from_the_labels():
    """Texts labeled toxic whose target is 0.2 (as if one annotator in five had seen harm): trained
    on the targets, the network's raw probability for them falls below 0.5; on the labels, above."""
    import numpy

    from smartmod.data.categories import CATEGORIES
    from smartmod.moderation.training import fit_text_model

    toxic = [f"you utter idiot number {k}" for k in range(20)]
    calm = [f"have a lovely day number {k}" for k in range(40)]
    texts = toxic + calm
    labels = numpy.full((len(texts), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)
    labels[:, CATEGORIES.index("toxicity")] = [1.0] * len(toxic) + [0.0] * len(calm)
    targets = labels.copy()
    targets[:len(toxic), CATEGORIES.index("toxicity")] = 0.2
    validation = numpy.array([18, 19, *range(52, 60)])  # mostly calm, so the validation loss falls as the network learns either way
    train = numpy.setdiff1d(numpy.arange(len(texts)), validation)
    config = TextTrainingConfig(hidden=8, epochs=40, patience=40, lr=0.02, dropout=0.0, min_df=1, identity_negatives=0, progress=False)
    raw = {}
    for name, given in (("labels", None), ("targets", targets)):
        fitted = fit_text_model(config, texts, labels, train, validation, given)
        logits = fitted.bundle.logits([texts[i] for i in train if i < len(toxic)])[:, CATEGORIES.index("toxicity")]
        raw[name] = float(numpy.mean(1 / (1 + numpy.exp(-logits))))
    assert raw["labels"] > 0.9 and 0.1 < raw["targets"] < 0.4, raw
    with pytest.raises(ValueError, match=r"targets must have the labels' shape \(60, 7\), got \(59, 7\)"):
        fit_text_model(config, texts, labels, train, validation, targets[1:])
