"""EvaluationReport: JSON without NaN, an escaped self-contained HTML page, PNG plots, atomic writes."""
from __future__ import annotations

import json
import re

import numpy
import pytest

from smartmod.eval import plots
from smartmod.eval.metrics import classification_summary
from smartmod.eval.report import EvaluationReport, json_ready

CATEGORIES = ["toxic", "insult", "threat"]
SCRIPT = "<script>alert('pwned')</script>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def example_report(**overrides) -> EvaluationReport:
    """120 rows from two sources; source "b" labels no threat, threat has no positive at all, and
    row 0 (whose text is a script tag) is the most confident toxic false positive."""
    generator = numpy.random.default_rng(0)
    Y = (generator.random((120, 3)) < [0.3, 0.4, 0.0]).astype(float)
    Y[60:, 2] = numpy.nan
    Y[:30, 1] = numpy.nan
    P = numpy.clip(0.6 * Y + 0.5 * generator.random((120, 3)), 0, 1)
    P = numpy.where(numpy.isnan(P), 0.3, P)
    Y[0, 0], P[0, 0] = 0.0, 0.99
    arguments = dict(
        thresholds={"toxic": 0.5, "insult": 0.55, "threat": 0.5},
        sources=["a"] * 60 + ["b"] * 60,
        texts=[SCRIPT if i == 0 else f"text {i}" for i in range(120)],
        history={"loss": [0.9, 0.6, 0.5], "val_loss": [0.95, 0.7, 0.65]},
        cross_dataset={"a": {"a": {"macro_f1": 0.81, "auc": 0.9}, "b": {"macro_f1": 0.42}}, "b": {"a": {"macro_f1": float("nan")}}},
        top_k=3,
    )
    arguments.update(overrides)
    return EvaluationReport(Y, P, CATEGORIES, **arguments)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    directory = tmp_path_factory.mktemp("report")
    data = example_report().write(directory)
    return directory, data


def test_write_produces_json_html_and_every_plot(written):
    directory, data = written
    assert (directory / "report.json").is_file() and (directory / "report.html").is_file()
    assert set(data["plots"]) == {"learning_curves", "roc", "precision_recall", "confusion_matrices", "reliability"}
    for name in data["plots"].values():
        assert (directory / name).read_bytes().startswith(PNG_SIGNATURE)
    assert not list(directory.glob(".*.tmp"))


def test_json_has_no_nan_literal_and_undefined_figures_are_null(written):
    directory, data = written
    def refuse(constant):
        raise AssertionError(f"report.json holds the non-JSON literal {constant}")
    loaded = json.loads((directory / "report.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert loaded == data
    assert loaded["ranking"]["threat"]["roc_auc"] is None and "no labeled positives" in loaded["ranking"]["threat"]["note"]
    assert loaded["cross_dataset"]["b"]["a"]["macro_f1"] is None


def test_html_escapes_texts_from_the_data(written):
    directory, _ = written
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page


def test_html_is_self_contained_and_references_plots_by_relative_path(written):
    directory, data = written
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "<style>" in page and "<link" not in page and "http://" not in page and "https://" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(sources) == sorted(data["plots"].values())
    assert all((directory / source).is_file() for source in sources)


def test_html_has_tables_for_categories_datasets_and_the_cross_dataset_matrix(written):
    directory, _ = written
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "<h2>Metrics per category</h2><table>" in page
    assert "<h2>Per dataset</h2>" in page and "<h3>a (60 rows)</h3><table>" in page
    assert "<h3>macro_f1</h3><table>" in page and "<td>0.81</td>" in page


def test_per_dataset_results_cover_the_categories_each_source_labels(written):
    _, data = written
    assert data["per_dataset"]["a"]["categories"] == CATEGORIES
    assert data["per_dataset"]["b"]["categories"] == ["toxic", "insult"]
    report = example_report()
    rows = numpy.arange(60, 120)
    expected = json_ready(classification_summary(report.Y[rows][:, :2], report.P[rows][:, :2], [0.5, 0.55], ["toxic", "insult"]))
    assert data["per_dataset"]["b"]["metrics"] == expected


def test_overall_metrics_and_error_analysis_use_the_given_thresholds(written):
    _, data = written
    assert data["metrics"]["per_category"]["insult"]["threshold"] == 0.55
    false_positives = data["errors"]["toxic"]["false_positives"]
    assert false_positives[0] == {"index": 0, "score": 0.99, "text": SCRIPT}
    assert all(example["score"] >= 0.5 for example in false_positives) and len(false_positives) <= 3


def test_calibration_fitted_here_is_flagged_as_in_sample_and_given_temperatures_are_used():
    fitted = example_report().to_dict()["calibration"]
    assert "optimistic" in fitted["temperatures"]
    assert fitted["per_category"]["toxic"]["nll_after"] <= fitted["per_category"]["toxic"]["nll_before"]
    given = example_report(temperatures=[2.0, 1.0, 1.0]).to_dict()["calibration"]
    assert given["temperatures"] == "given (fitted elsewhere)" and given["per_category"]["toxic"]["temperature"] == 2.0
    assert len(given["per_category"]["toxic"]["reliability_before"]["count"]) == 15


def test_without_optional_inputs_the_report_leaves_those_sections_out(tmp_path):
    data = example_report(sources=None, texts=None, history=None, cross_dataset=None).write(tmp_path)
    assert data["per_dataset"] is None and data["errors"] is None and data["history"] is None
    assert "learning_curves" not in data["plots"] and not (tmp_path / "learning_curves.png").exists()


def test_a_failure_while_building_writes_nothing_and_keeps_the_previous_report(tmp_path, monkeypatch):
    example_report().write(tmp_path)
    before = (tmp_path / "report.json").read_bytes()
    def broken(*args, **kwargs):
        raise RuntimeError("plotting failed")
    monkeypatch.setattr(plots, "reliability_png", broken)
    with pytest.raises(RuntimeError, match="plotting failed"):
        example_report(title="second").write(tmp_path)
    assert (tmp_path / "report.json").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_probabilities_outside_zero_one_are_rejected():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        EvaluationReport([[0, 1]], [[0.5, 3.0]], ["a", "b"])


def test_json_ready_turns_numpy_values_and_non_finite_floats_into_json_types():
    converted = json_ready({"a": numpy.array([1.0, numpy.nan]), 2: (numpy.int64(3), float("inf")), "b": numpy.float32(0.5)})
    assert converted == {"a": [1.0, None], "2": [3, None], "b": 0.5}


@pytest.mark.parametrize("overrides, message", [
    ({"history": {"loss": "high"}}, r"history\['loss'\] must be a list of numbers"),
    ({"history": [0.5, 0.4]}, "history must map names"),
    ({"cross_dataset": {"a": 0.5}}, "cross_dataset must map each training source"),
    ({"sources": ["a"] * 3}, "one name per row"),
    ({"texts": ["only one"]}, "one text per row"),
])
def test_malformed_optional_inputs_are_rejected_with_what_was_expected(overrides, message):
    with pytest.raises(ValueError, match=message):
        example_report(**overrides)


@pytest.mark.parametrize("temperatures, message", [
    ([1.0, 0.0, 1.0], "temperatures must be > 0"),
    ([1.0], "temperatures must be one finite"),
])
def test_bad_given_temperatures_are_rejected(temperatures, message):
    with pytest.raises(ValueError, match=message):
        example_report(temperatures=temperatures)
