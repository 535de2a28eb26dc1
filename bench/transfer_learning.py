"""Transfer learning on CIFAR-10: pretrain on classes 0-4, then learn classes 5-9 from 500 images.

Three ways to learn the new task, on the same 500 training images (100 a class, after a 250-image
validation split is set aside for choosing the epoch) and scored on the 5,000 test images of
classes 5-9:

- feature extraction: the pretrained network without its classifier, frozen, and a softmax
  regression trained on its features (``smartmod.vision.transfer``);
- fine-tuning: the whole network starting from the pretrained weights, a new classifier, a
  lower learning rate (``ImageTrainingConfig(init_from=...)``);
- from scratch: the same network from random weights.

Writes ``OUTPUT/transfer.json`` and a plot of test accuracy by epoch (``--plot``, by default
``docs/img/transfer_learning.png``).

    python bench/transfer_learning.py [--model small-cnn] [--pretrain-epochs 8] [--epochs 15] [--output runs/transfer]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from smartmod.vision.training import ImageTrainingConfig, train_image_classifier  # noqa: E402
from smartmod.vision.transfer import train_feature_classifier  # noqa: E402

SOURCE, TARGET = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="small-cnn")
    parser.add_argument("--pretrain-epochs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=15, help="epochs of each way of learning the new task")
    parser.add_argument("--output", default="runs/transfer")
    parser.add_argument("--plot", default="docs/img/transfer_learning.png")
    args = parser.parse_args()
    output = Path(args.output)
    pretrain = ImageTrainingConfig(dataset="cifar10", model=args.model, classes=SOURCE, epochs=args.pretrain_epochs, validation=2500,
                                   progress=False)
    source = train_image_classifier(pretrain, output=output / "pretrain", resume=(output / "pretrain" / "checkpoint.npz").exists())
    print(f"pretrained on classes {SOURCE}: test accuracy {source['test_accuracy']:.4f} after {source['epochs_run']} epochs, "
          f"{source['train_seconds']:.0f} s")
    target = replace(pretrain, classes=TARGET, train_per_class=150, validation=250, epochs=args.epochs)
    runs = {
        "feature extraction": train_feature_classifier(replace(target, optimizer="adam", lr=3e-3), str(output / "pretrain" / "model")),
        "fine-tuning": train_image_classifier(replace(target, init_from=str(output / "pretrain" / "model"), lr=0.01)),
        "from scratch": train_image_classifier(target),
    }
    print(f"{'way':<20} {'best val':>9} {'test (best val epoch)':>22} {'seconds':>8}")
    for name, run in runs.items():
        print(f"{name:<20} {run['best_val_accuracy']:>9.4f} {run['test_accuracy']:>22.4f} {run['train_seconds']:>8.1f}")
    output.mkdir(parents=True, exist_ok=True)
    (output / "transfer.json").write_text(json.dumps({"source": source, "runs": runs}, indent=2))
    figure, axes = plt.subplots(figsize=(6.4, 4))
    for name, run in runs.items():
        axes.plot([e["epoch"] for e in run["epochs"]], [e["test_accuracy"] for e in run["epochs"]], marker="o", markersize=3, label=name)
    axes.axhline(0.2, color="grey", linestyle=":", linewidth=1, label="chance")
    axes.set(xlabel="epoch on the new task", ylabel="test accuracy, classes 5-9",
             title=f"CIFAR-10 5-9 from 500 images ({args.model}; pretrained on 0-4)")
    axes.legend()
    figure.tight_layout()
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.plot, dpi=120)
    print(f"wrote {output / 'transfer.json'} and {args.plot}")


if __name__ == "__main__":
    main()
