"""Evaluation of multi-label moderation scores.

Conventions: scores ``P`` are (N, C) (probabilities where calibration is concerned), labels ``Y``
are (N, C) floats with NaN for "not labeled" (each category's figures use only its labeled rows),
``categories`` is a list of C names; single-column functions take 1-D arrays. A score at or
above its threshold is a positive prediction.

| module | what it holds |
|---|---|
| ``metrics`` | confusion matrices, precision / recall / F1 / accuracy, macro and micro averages |
| ``curves`` | ROC and precision-recall curves, ROC AUC, average precision |
| ``thresholds`` | per-category thresholds: maximum F1 or a target precision |
| ``calibration`` | reliability bins, expected calibration error, temperature scaling |
| ``errors`` | the most confident false positives and false negatives with their texts |
| ``report`` | ``EvaluationReport``: JSON-ready data, written as JSON, HTML and PNG plots |
| ``plots``, ``report_html`` | the report's figures (matplotlib Agg) and its self-contained HTML page |
| ``validation`` | the input checks every function shares |
"""
from smartmod.eval.calibration import (
    ReliabilityBins, apply_temperature, expected_calibration_error, fit_temperature, fit_temperatures, logit,
    negative_log_likelihood, reliability_bins,
)
from smartmod.eval.curves import average_precision, precision_recall_curve, ranking_summary, roc_auc, roc_curve
from smartmod.eval.errors import error_analysis, top_errors
from smartmod.eval.metrics import (
    accuracy, binary_confusion_matrix, classification_summary, confusion_matrices, confusion_matrix, precision_recall_f1,
)
from smartmod.eval.report import EvaluationReport
from smartmod.eval.thresholds import ThresholdChoice, choose_thresholds, max_f1_threshold, precision_target_threshold

__all__ = [
    "accuracy", "binary_confusion_matrix", "classification_summary", "confusion_matrices", "confusion_matrix",
    "precision_recall_f1",
    "average_precision", "precision_recall_curve", "ranking_summary", "roc_auc", "roc_curve",
    "ThresholdChoice", "choose_thresholds", "max_f1_threshold", "precision_target_threshold",
    "ReliabilityBins", "apply_temperature", "expected_calibration_error", "fit_temperature", "fit_temperatures", "logit",
    "negative_log_likelihood", "reliability_bins",
    "error_analysis", "top_errors",
    "EvaluationReport",
]
