"""Training-step speed of two convolutional networks in smartmod and PyTorch CPU, same threads, same run.

(a) the small CNN: 3 stages of (conv3×3 → BN → ReLU) × 2 + 2×2 max-pool at 32/64/128 channels,
    global average pool, Linear(10);
(b) ResNet-20 (He et al. 2016, CIFAR version; projection shortcuts where the shape changes);
(c) the fast ResNet (``smartmod.vision.fast_resnet``: stem, then 3 stages of conv3×3 → max-pool
    → BN → ReLU + a residual conv3×3 → BN → ReLU, at 64/256/256 channels; global max-pool,
    Linear(10), logits × 0.125).
All on batches of 128 random 32×32×3 images: forward, softmax cross-entropy, backward, SGD
with momentum 0.9. Blocks alternate between the frameworks (A B A B ...); the median time per
step is compared. ``--profile`` prints instead where smartmod's step spends its time, layer
type by layer type.

    python bench/cnn_speed.py [--threads 2] [--blocks 6] [--steps 2] [--networks small resnet20 fast-resnet] [--profile]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, report, set_threads  # noqa: E402

BATCH, CLASSES = 128, 10


NETWORKS = ("small", "resnet20", "fast-resnet")


def smartmod_network(name: str):
    from smartmod.vision.fast_resnet import fast_resnet
    from smartmod.vision.resnet import cifar_resnet
    from smartmod.vision.small_cnn import small_cnn

    return {"small": small_cnn, "resnet20": cifar_resnet, "fast-resnet": fast_resnet}[name]()


def torch_network(name: str):
    import torch
    from torch import nn

    def conv_bn(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> list:
        return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out)]

    if name == "small":
        layers, channels = [], 3
        for width in (32, 64, 128):
            for _ in range(2):
                layers += [*conv_bn(channels, width), nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2))
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, CLASSES))

    if name == "fast-resnet":
        class Residual(nn.Module):
            def __init__(self, width: int):
                super().__init__()
                self.body = nn.Sequential(*conv_bn(width, width), nn.ReLU())

            def forward(self, x):
                return x + self.body(x)

        widths = (32, 64, 256, 256)
        layers = [*conv_bn(3, widths[0]), nn.ReLU()]
        for previous, width in zip(widths, widths[1:]):
            layers += [nn.Conv2d(previous, width, 3, 1, 1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(width), nn.ReLU(), Residual(width)]

        class Scaled(nn.Module):
            def forward(self, x):
                return x * 0.125

        return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(widths[-1], CLASSES), Scaled())

    class BasicBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out))
            self.shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if stride != 1 or c_in != c_out else nn.Identity()

        def forward(self, x):
            return torch.relu(self.body(x) + self.shortcut(x))

    blocks, channels = [], 16
    for stage, width in enumerate((16, 32, 64)):
        for index in range(3):
            blocks.append(BasicBlock(channels, width, 2 if stage > 0 and index == 0 else 1))
            channels = width
    return nn.Sequential(*conv_bn(3, 16), nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, CLASSES))


def training_step(model, images, labels):
    """One training step of a smartmod network on a fixed batch: forward, softmax cross-entropy,
    backward, SGD with momentum 0.9."""
    from smartmod.nn.losses import CrossEntropyLoss
    from smartmod.nn.optim import SGD

    loss, optimizer = CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad()
        loss.forward(model.forward(images), labels)
        model.backward(loss.backward())
        optimizer.step()

    return step


def smartmod_step(name: str, images, labels):
    model = smartmod_network(name)
    return model, training_step(model, images, labels)


def torch_step(name: str, images, labels):
    import torch

    model = torch_network(name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def profile(name: str, images, labels, steps: int) -> None:
    """Wall time of each layer type's forward and backward, and of the optimizer, per step."""
    model, step = smartmod_step(name, images, labels)
    totals: dict[str, float] = defaultdict(float)

    def timed(label: str, method):
        def wrapper(*arguments):
            start = time.perf_counter()
            result = method(*arguments)
            totals[label] += time.perf_counter() - start
            return result
        return wrapper

    for _, module in model.named_modules():
        if not list(module.children()):  # leaves only, so no time is counted twice
            kind = type(module).__name__
            object.__setattr__(module, "forward", timed(f"{kind} forward", module.forward))
            object.__setattr__(module, "backward", timed(f"{kind} backward", module.backward))
    step()
    totals.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    total = (time.perf_counter() - start) / steps
    print(f"\n{name}: {total * 1000:.0f} ms per step; by layer type:")
    for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {label:28s} {seconds / steps * 1000:8.1f} ms  {seconds / steps / total:6.1%}")
    print(f"  {'rest (loss, SGD, glue)':28s} {(total - sum(totals.values()) / steps) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--steps", type=int, default=2, help="training steps per timed block")
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=["small", "resnet20"])
    parser.add_argument("--profile", action="store_true", help="print smartmod's time per layer type instead of comparing")
    args = parser.parse_args()
    set_threads(args.threads)

    import numpy
    import torch

    torch.set_num_threads(args.threads)
    rng = numpy.random.default_rng(0)
    images = rng.normal(size=(BATCH, 3, 32, 32)).astype(numpy.float32)
    labels = rng.integers(0, CLASSES, size=BATCH)
    print(f"batch {BATCH} of 32×32×3, SGD momentum 0.9, {args.threads} threads, numpy {numpy.__version__}, torch {torch.__version__}")
    if args.profile:
        for name in args.networks:
            profile(name, images, labels, args.steps)
        return
    ratios = {}
    for name in args.networks:
        runners = {"smartmod": smartmod_step(name, images, labels)[1], "pytorch": torch_step(name, images, labels)}
        ratios[name] = report(f"{name} training step", interleaved(runners, args.blocks, args.steps), BATCH)
    print("\nsummary: " + ", ".join(f"{name}: {ratio:.2f}x PyTorch's time" for name, ratio in ratios.items()))


if __name__ == "__main__":
    main()
