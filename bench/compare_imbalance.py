"""Compare the imbalance strategies of the text model on the same split and report the figures.

Each strategy trains the default recipe (configs/default-text.json) once; the holdout figures
are printed side by side and written to ``--output`` as JSON. The best strategy by mean
macro-F1-like figures (OLID macro-F1, SMS spam F1, hate F1s) and calibration is the default.

    python bench/compare_imbalance.py [--strategies none pos_weight ...] [--output runs/imbalance.json]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from smartmod.moderation.imbalance_strategies import STRATEGIES
from smartmod.moderation.training import load_training_config, train_text_model

KEYS = ["olid_offensive_macro_f1", "davidson_hate_vs_rest_auc", "davidson_toxic_auc", "sms_spam_f1", "hateval_en_hate_f1", "gab_hate_f1", "implicit_hate_hate_f1", "hatexplain_hate_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/default-text.json")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--output", default="runs/imbalance.json")
    args = parser.parse_args()
    base = replace(load_training_config(args.config), progress=False)
    results = {}
    for strategy in args.strategies:
        with tempfile.TemporaryDirectory() as directory:
            card = train_text_model(replace(base, imbalance=strategy), Path(directory) / "model")
        figures = card["holdout_figures"]
        results[strategy] = {key: figures.get(key) for key in KEYS}
        results[strategy]["max_ece"] = max(figures["ece_after_temperature"].values())
        results[strategy]["identity_flag_rate"] = figures["identity_mentions"]["flag_rate"]
        results[strategy]["train_seconds"] = card["training"]["seconds"]["train"]
        print(strategy, json.dumps(results[strategy]), flush=True)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    header = "strategy".ljust(12) + "".join(key[:14].rjust(15) for key in [*KEYS, "max_ece", "identity_flag_rate"])
    print("\n" + header)
    for strategy, row in results.items():
        print(strategy.ljust(12) + "".join(f"{row[key]:15.4f}" if isinstance(row[key], float) else str(row[key]).rjust(15) for key in [*KEYS, "max_ece", "identity_flag_rate"]))


if __name__ == "__main__":
    main()
