"""Monitoring windows and drift: on the real server with the default model, in the log, and through ``smartmod monitor report``."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy
import pytest

from smartmod.eval.drift import DriftReference, population_stability_index
from smartmod.moderation.moderator import Moderator
from smartmod.moderation.registry import ModelRegistry
from smartmod.serve.monitoring import ModelMonitor, format_report, read_prediction_log, report_prediction_log, summarize_window
from tests.conftest import data_root
from tests.moderation.test_training import trained  # noqa: F401  (the fixture: a small model trained on two datasets)
from tests.serve.conftest import RunningServer

WINDOW = 16
INSULTS = ["You are a worthless idiot, shut up.", "Shut up you stupid moron, nobody likes you.",
           "What a pathetic loser you are, idiot.", "You dumb idiot, go away."] * 4  # 16 texts, all far above the reference's toxicity


@pytest.fixture(scope="module")
def drifted_server(tmp_path_factory, request):
    """The default model with windows of 16 texts, after one window of insults."""
    folder = tmp_path_factory.mktemp("monitoring")
    running = RunningServer(folder / "server.log", "--monitor-window", str(WINDOW), "--drift-threshold", "0.2",
                            "--log-predictions", str(folder / "predictions.jsonl"))
    running.predictions = folder / "predictions.jsonl"
    request.addfinalizer(running.stop)
    for start in range(0, WINDOW, 8):
        assert running.post_json("/v1/moderate", {"texts": INSULTS[start:start + 8]}).status == 200
    return running


def model_labels() -> str:
    default = Moderator.load("default")
    return f'model="{default.name}",version="{default.version}"'


def test_a_drifted_window_writes_an_alert_line_to_the_log(drifted_server):
    default = Moderator.load("default")
    alerts = [line for line in drifted_server.log().splitlines() if "drift alert" in line]
    assert any(f"model={default.name} version={default.version} feature=toxicity psi=" in line and f"texts={WINDOW}" in line
               for line in alerts), drifted_server.log()
    assert all(float(re.search(r"psi=(\S+)", line)[1]) >= 0.2 for line in alerts)


def test_metrics_expose_the_windows_drift_by_model_version_and_feature(drifted_server):
    text = drifted_server.get("/metrics").body.decode()
    samples = dict(re.findall(r"^(\S+) (\S+)$", text, re.MULTILINE))
    labels = model_labels()
    assert float(samples[f'smartmod_drift_psi{{{labels},feature="toxicity"}}']) >= 0.2
    assert 0.5 < float(samples[f'smartmod_drift_ks{{{labels},feature="toxicity"}}']) <= 1.0
    assert float(samples[f'smartmod_drift_alerts_total{{{labels},feature="toxicity"}}']) == 1
    assert {f'smartmod_drift_psi{{{labels},feature="{feature}"}}' for feature in ("text_length", "oov_rate")} <= set(samples)
    assert float(samples[f"smartmod_windows_total{{{labels}}}"]) == 1
    assert float(samples[f"smartmod_window_flagged_ratio{{{labels}}}"]) == 1.0
    assert float(samples[f'smartmod_model_score_count{{{labels},category="toxicity"}}']) == WINDOW


def test_monitor_report_reads_the_prediction_log_and_marks_the_drift(drifted_server):
    command = [sys.executable, "-m", "smartmod.cli", "monitor", "report", str(drifted_server.predictions)]
    table = subprocess.run([*command, "--min-texts", str(WINDOW)], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert f"{WINDOW} texts, flagged 100.0%" in table.stdout
    assert re.search(r"^  toxicity\s+\S+\s+\S+   ALERT \(PSI >= 0.2\)$", table.stdout, re.MULTILINE), table.stdout
    too_few = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout  # the default minimum: 200 texts
    assert f"only {WINDOW} texts: too few" in too_few and "ALERT" not in too_few, too_few
    report = json.loads(subprocess.run([*command, "--json", "--last", "8"], capture_output=True, text=True, timeout=60).stdout)
    assert [(entry["texts"], entry["flagged_rate"]) for entry in report] == [(8, 1.0)]
    assert sum(report[0]["score_histograms"]["toxicity"]) == 8 and report[0]["drift"]["toxicity"]["psi"] >= 0.2


def observed_texts(n: int, start: float = 0.0) -> dict[str, numpy.ndarray]:
    values = start + numpy.arange(n, dtype=float)
    return {"toxicity": values / 100, "text_length": values, "oov_rate": numpy.zeros(n)}


def test_a_monitor_closes_a_window_every_window_size_texts_and_keeps_the_rest():
    monitor = ModelMonitor("m", "1", ["toxicity"], None, window_size=8)
    assert monitor.observe(observed_texts(5), numpy.zeros(5, dtype=bool)) == []
    windows = monitor.observe(observed_texts(14, start=5), numpy.arange(14) % 2 == 0)
    assert [window.texts for window in windows] == [8, 8]
    assert windows[0].mean_text_length == numpy.mean(numpy.arange(8)) and windows[1].mean_text_length == numpy.mean(numpy.arange(8, 16))
    assert windows[0].flagged_rate == 2 / 8 and windows[0].drift == {}  # 5 unflagged, then texts 0, 1, 2 of the second call
    assert [window.texts for window in monitor.observe(observed_texts(5, start=19), numpy.zeros(5, dtype=bool))] == [8]


def test_a_window_summary_holds_histograms_over_the_score_edges():
    summary = summarize_window("m", "1", ["toxicity"], {"toxicity": numpy.array([0.0, 0.005, 0.5, 1.0]), "text_length": numpy.array([1.0, 2, 3, 4]),
                                                       "oov_rate": numpy.array([0.0, 0.5, 0.5, 1.0])}, numpy.array([False, False, True, True]), None)
    assert summary.score_histograms["toxicity"] == [2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert (summary.flagged_rate, summary.mean_text_length, summary.mean_oov_rate) == (0.5, 2.5, 0.5)


@pytest.mark.parametrize("bad_line", ["not json", '{"model": "m", "version": "1", "flagged": [0]}',
                                      '{"model": "m", "version": "1", "flagged": [0], "features": {"toxicity": [0.1, 0.2]}}'])
def test_a_damaged_prediction_log_names_the_line(tmp_path, bad_line):
    log = tmp_path / "predictions.jsonl"
    log.write_text('{"model": "m", "version": "1", "flagged": [0], "features": {"toxicity": [0.1]}}\n' + bad_line + "\n")
    with pytest.raises(ValueError, match="line 2 is not a prediction record"):
        read_prediction_log(log)


def test_a_model_found_nowhere_is_reported_without_drift(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text('{"model": "gone", "version": "3", "flagged": [1], "features": {"toxicity": [0.9], "text_length": [5], "oov_rate": [0]}}\n')
    summaries = report_prediction_log(log, ModelRegistry(tmp_path / "models"))
    assert [(summary.model, summary.texts, summary.drift) for summary in summaries] == [("gone", 1, {})]
    assert "no drift reference for this model" in format_report(summaries, 0.2)


def test_the_shipped_default_model_carries_the_reference_of_its_validation_rows():
    bundle = Moderator.load("default").bundle
    reference = DriftReference.from_dict(bundle.reference)
    assert reference.rows == bundle.card["data"]["split_sizes"]["validation"]
    assert set(reference.features) == {*bundle.config.categories, "text_length", "oov_rate"}


def test_training_saves_the_reference_that_monitor_reference_recomputes(trained):  # noqa: F811
    root, card = trained
    saved = json.loads((root / "model" / "reference.json").read_text())
    assert saved["rows"] == card["data"]["split_sizes"]["validation"]
    result = subprocess.run([sys.executable, "-m", "smartmod.cli", "monitor", "reference", str(root / "model")], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "SMARTMOD_DATA": str(data_root())})
    assert result.returncode == 0 and f"{saved['rows']} validation rows" in result.stdout, result.stderr
    recomputed = json.loads((root / "model" / "reference.json").read_text())
    for feature, summary in saved["features"].items():  # the same rows, scored by the same (int8) weights
        assert summary["counts"] == recomputed["features"][feature]["counts"], feature
