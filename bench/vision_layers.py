"""Time of the vision layers that bench/cnn_speed.py does not compare with PyTorch one by one.

(a) BatchNorm forward and backward at ResNet-20's three stage shapes (batch 128, channels-last),
    on rows of its feature matrix side by side (as it runs) and row by row (``_WIDE_ROW = 1``);
(b) ResNet-20's training step (batch 128 of random 32×32×3 images, SGD with momentum) plain,
    with Squeeze-and-Excitation and with CBAM in every block.

Medians of ``--repeats`` timings, 2 threads. Run it on an idle machine: a training beside it
changes every figure.

    python bench/vision_layers.py [--repeats 15] [--steps 4]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import set_threads  # noqa: E402


def median_ms(work, repeats: int) -> float:
    import numpy

    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return float(numpy.median(times)) * 1000


def batch_norm(repeats: int) -> None:
    import numpy

    from smartmod.nn.layers import normalization

    rng = numpy.random.default_rng(0)
    print("BatchNorm, training mode, 128 channels-last images (ms):")
    for channels, side in [(16, 32), (32, 16), (64, 8)]:
        x = rng.normal(size=(128, side, side, channels)).astype(numpy.float32).transpose(0, 3, 1, 2)
        grad = rng.normal(size=(128, side, side, channels)).astype(numpy.float32).transpose(0, 3, 1, 2)
        figures = {}
        for label, wide_row in [("side by side", normalization._WIDE_ROW), ("row by row", 1)]:
            saved, normalization._WIDE_ROW = normalization._WIDE_ROW, wide_row
            try:
                layer = normalization.BatchNorm(channels)
                layer(x)
                figures[label] = (median_ms(lambda: layer(x), repeats), median_ms(lambda: layer.backward(grad), repeats))
            finally:
                normalization._WIDE_ROW = saved
        print(f"  {channels:3d} channels {side}x{side}: " + "; ".join(
            f"{label} forward {forward:.2f}, backward {backward:.2f}" for label, (forward, backward) in figures.items()))


def resnet_steps(steps: int) -> None:
    import numpy

    from cnn_speed import training_step
    from smartmod.vision.resnet import cifar_resnet

    rng = numpy.random.default_rng(0)
    images, labels = rng.normal(size=(128, 3, 32, 32)).astype(numpy.float32), rng.integers(0, 10, 128)
    print("ResNet-20 training step, batch 128 (ms):")
    for attention in (None, "se", "cbam"):
        step = training_step(cifar_resnet(20, attention=attention), images, labels)
        print(f"  {attention or 'plain':5s} {median_ms(step, steps):7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    set_threads(2)  # before NumPy is imported
    batch_norm(args.repeats)
    resnet_steps(args.steps)


if __name__ == "__main__":
    main()
