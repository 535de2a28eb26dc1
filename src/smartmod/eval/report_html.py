"""The report as one self-contained HTML page: inline CSS, no script, no remote resource.

The PNG plots are referenced by paths relative to the page, so the folder moves as one piece.
Every text taken from the data (titles, category and source names, notes, example texts) is
HTML-escaped, quotes included: an example text holding ``<script>`` is shown, never run.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_html"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 78rem;
       color: #1d1d1f; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .4rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .9rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .55rem; text-align: right; vertical-align: top; }
th { background: #f3f3f5; } td.text, th.text { text-align: left; max-width: 48rem; white-space: pre-wrap; word-break: break-word; }
tr.average td { font-weight: 600; background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #7a4b00; }
"""

_PLOT_TITLES = {
    "learning_curves": "Learning curves",
    "roc": "ROC curves",
    "precision_recall": "Precision-recall curves",
    "confusion_matrices": "Confusion matrices",
    "reliability": "Reliability diagrams",
}


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any) -> str:
    """A table cell's text: floats to 4 significant digits, None (NaN in the data) as a dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _escape(value)


def _row(cells: Sequence[Any], tag: str, text_columns: Sequence[int], row_class: str = "") -> str:
    """One table row of ``tag`` cells (``"th"`` or ``"td"``); ``text_columns`` are left-aligned."""
    parts = []
    for i, cell in enumerate(cells):
        align = " class=text" if i in text_columns else ""
        content = _escape(cell) if tag == "th" else _cell(cell)
        parts.append(f"<{tag}{align}>{content}</{tag}>")
    return f"<tr{row_class}>{''.join(parts)}</tr>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], text_columns: Sequence[int] = (), average_rows: int = 0) -> str:
    """An HTML table; the last ``average_rows`` rows are emphasized as averages."""
    first_average = len(rows) - average_rows
    body = "".join(_row(row, "td", text_columns, " class=average" if i >= first_average else "") for i, row in enumerate(rows))
    return f"<table><thead>{_row(headers, 'th', text_columns)}</thead><tbody>{body}</tbody></table>"


def _metric_rows(metrics: Mapping[str, Any], ranking: Mapping[str, Any], names: Sequence[str]) -> list[list[Any]]:
    """Per-category rows, then macro and micro rows, in the columns of ``_METRIC_HEADERS``."""
    keys = ("precision", "recall", "f1", "accuracy")
    rows = []
    for name in names:
        row = metrics["per_category"][name]
        rows.append([name, row["threshold"], row["labeled"], row["positives"], *(row[key] for key in keys),
                     ranking[name]["roc_auc"], ranking[name]["average_precision"]])
    for average in ("macro", "micro"):
        rows.append([average, None, None, None, *(metrics[average][key] for key in keys), None, None])
    return rows


_METRIC_HEADERS = ["category", "threshold", "labeled", "positives", "precision", "recall", "F1", "accuracy", "ROC AUC", "AP"]


def _overall(data: Mapping[str, Any]) -> str:
    names = data["categories"]
    calibration = data["calibration"]["per_category"]
    metrics = _table(_METRIC_HEADERS, _metric_rows(data["metrics"], data["ranking"], names), text_columns=(0,), average_rows=2)
    calibration_rows = [[name, calibration[name]["temperature"], calibration[name]["ece_before"], calibration[name]["ece_after"],
                         calibration[name]["nll_before"], calibration[name]["nll_after"]] for name in names]
    notes = [f"{name}: {data['ranking'][name]['note']}" for name in names if data["ranking"][name]["note"]]
    return "".join([
        "<h2>Metrics per category</h2>", metrics,
        "".join(f'<p class="note">{_escape(note)}</p>' for note in notes),
        f"<h2>Calibration</h2><p>Temperatures {_escape(data['calibration']['temperatures'])}; "
        f"ECE over {_escape(data['calibration']['n_bins'])} equal-width bins.</p>",
        _table(["category", "temperature", "ECE before", "ECE after", "NLL before", "NLL after"], calibration_rows, text_columns=(0,)),
    ])


def _plots(plots: Mapping[str, str]) -> str:
    figures = []
    for name, path in plots.items():
        title = _escape(_PLOT_TITLES.get(name, name))
        figures.append(f'<h3>{title}</h3><img src="{_escape(path)}" alt="{title}">')
    return "<h2>Plots</h2>" + "".join(figures) if figures else ""


def _per_dataset(per_dataset: Mapping[str, Any] | None) -> str:
    if not per_dataset:
        return ""
    parts = ["<h2>Per dataset</h2>"]
    for source, result in per_dataset.items():
        parts.append(f"<h3>{_escape(source)} ({_escape(result['rows'])} rows)</h3>")
        parts.append(_table(_METRIC_HEADERS, _metric_rows(result["metrics"], result["ranking"], result["categories"]),
                            text_columns=(0,), average_rows=2))
    return "".join(parts)


def _cross_dataset(cross: Mapping[str, Mapping[str, Any]] | None) -> str:
    """One train × eval table per metric; a bare number per cell is the metric "value"."""
    if not cross:
        return ""
    cells = {(train, evaluated): value if isinstance(value, Mapping) else {"value": value}
             for train, row in cross.items() for evaluated, value in row.items()}
    metrics = list(dict.fromkeys(metric for value in cells.values() for metric in value))
    evaluated = list(dict.fromkeys(name for _, name in cells))
    parts = ["<h2>Cross-dataset results</h2><p>Rows: the source trained on; columns: the source evaluated on.</p>"]
    for metric in metrics:
        rows = [[train, *(cells.get((train, name), {}).get(metric) for name in evaluated)] for train in cross]
        parts.append(f"<h3>{_escape(metric)}</h3>" + _table(["trained on \\ evaluated on", *evaluated], rows, text_columns=(0,)))
    return "".join(parts)


def _errors(errors: Mapping[str, Any] | None) -> str:
    if not errors:
        return ""
    parts = ["<h2>Error analysis</h2>"]
    for name, found in errors.items():
        parts.append(f"<h3>{_escape(name)}</h3>")
        for kind, title in (("false_positives", "False positives: the highest-scored labeled negatives"),
                            ("false_negatives", "False negatives: the lowest-scored labeled positives")):
            rows = [[example["score"], example["index"], example["text"]] for example in found[kind]]
            parts.append(f"<p>{title}</p>" + (_table(["score", "row", "text"], rows, text_columns=(2,)) if rows else "<p>none</p>"))
    return "".join(parts)


def render_html(data: Mapping[str, Any]) -> str:
    """The page for a report's JSON-ready data (``EvaluationReport.write`` output, NaN as None)."""
    title = _escape(data["title"])
    summary = f"<p>{_escape(data['rows'])} rows; categories: {_escape(', '.join(data['categories']))}.</p>"
    body = "".join([summary, _overall(data), _plots(data.get("plots", {})), _per_dataset(data.get("per_dataset")),
                    _cross_dataset(data.get("cross_dataset")), _errors(data.get("errors"))])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>\n")
