"""The airbench recipe in PyTorch on the shared CIFAR-10 files: the yardstick for `configs/cifar10-airbench.json`.

Jordan's airbench (2024) reports 94.0% in 9.9 epochs on the original CIFAR-10. The shared copy is
re-encoded as JPEG (../shared/data/README.md), so the published figure is not this data's. This
script trains the same network with the same settings in PyTorch on the same prepared images
(smartmod's loader, normalization and augmentation), so smartmod's run can be compared with
PyTorch's on equal terms, and the data's share of any gap told from the implementation's:

    whitening conv 2×2 (fitted, fixed) → act → 3 × [conv3×3 → max-pool 2 → BN → act → conv3×3 → BN → act]
    at 64/256/256 channels (convolutions Dirac-initialized on their first filters) → global max-pool
    → Linear(256, 10) → × logit_scale

SGD-Nesterov on the mean loss at peak lr 1.5, momentum 0.85, weight decay 1.33e-3 (BatchNorm biases
at 64 × the lr and 1/64 the decay, BatchNorm weights frozen at 1), the triangle schedule (0.2 → 1
at 23% → 0.07), BatchNorm momentum 0.4, label smoothing 0.2, batch 1024, Lookahead every 5 steps
from epoch 3, test-time flip and 1-pixel shift averaging. ``--activation gelu`` is airbench's own
choice; relu is smartmod's configuration.

    python bench/airbench_torch.py [--epochs 10] [--activation relu|gelu] [--threads 2] [--train-limit N] [--test-limit N]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import set_threads  # noqa: E402

WIDTHS = (64, 256, 256)


def network(whitening: numpy.ndarray, activation: str, logit_scale: float) -> nn.Sequential:
    act = nn.GELU if activation == "gelu" else nn.ReLU
    stem = nn.Conv2d(3, whitening.shape[0], 2, bias=False)
    stem.weight.data.copy_(torch.from_numpy(whitening))
    stem.weight.requires_grad = False
    layers: list[nn.Module] = [stem, act()]
    previous = whitening.shape[0]
    for width in WIDTHS:
        first, second = nn.Conv2d(previous, width, 3, padding=1, bias=False), nn.Conv2d(width, width, 3, padding=1, bias=False)
        for conv in (first, second):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # smartmod's he_normal
            nn.init.dirac_(conv.weight.data[:conv.in_channels])
        layers += [first, nn.MaxPool2d(2), norm(width), act(), second, norm(width), act()]
        previous = width
    head = nn.Linear(previous, 10)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), head, Scale(logit_scale))


def norm(width: int) -> nn.BatchNorm2d:
    layer = nn.BatchNorm2d(width, momentum=0.4)
    layer.weight.requires_grad = False
    return layer


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def predict(model: nn.Module, images: torch.Tensor, tta: bool) -> torch.Tensor:
    """Logits, averaged as smartmod.vision.training.predict_augmented does with flip=True, shift=1."""
    model.eval()
    with torch.no_grad():
        outputs = []
        for batch in images.split(1000):
            if not tta:
                outputs.append(model(batch))
                continue
            mirrored = lambda x: 0.5 * (model(x) + model(x.flip(-1)))  # noqa: E731
            padded = nn.functional.pad(batch, (1, 1, 1, 1), mode="reflect")
            size = batch.shape[-1]
            shifted = 0.5 * (mirrored(padded[..., :size, :size]) + mirrored(padded[..., 2:, 2:]))
            outputs.append(0.5 * mirrored(batch) + 0.5 * shifted)
    model.train()
    return torch.cat(outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--activation", choices=("relu", "gelu"), default="relu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=None, help="train on so many images (a quick check)")
    parser.add_argument("--test-limit", type=int, default=None, help="score a seeded sample of so many test images (a quick check)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    set_threads(args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    from smartmod.nn.layers.whitening import PatchWhitening
    from smartmod.vision.augment_pipeline import Compose
    from smartmod.vision.configs import ImageTrainingConfig
    from smartmod.vision.training import DATASETS, prepare_images

    config = ImageTrainingConfig(dataset="cifar10", validation=0, train_limit=args.train_limit,
                                 test_limit=args.test_limit, seed=args.seed)
    x_train, y_train, _, _, x_test, y_test, _, _ = prepare_images(DATASETS["cifar10"](), config)
    whitening = PatchWhitening(3, 2).fit(numpy.ascontiguousarray(x_train[:5000].transpose(0, 3, 1, 2))).weight
    model = network(numpy.asarray(whitening, numpy.float32), args.activation, logit_scale=0.125)
    augment = Compose.from_config([{"name": "random_crop", "padding": 2}, {"name": "horizontal_flip"}])

    batch, lr, momentum, decay, bias_scale = 1024, 1.5, 0.85, 1.33e-3, 64.0
    biases = [p for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in [m.bias]]
    others = [p for p in model.parameters() if p.requires_grad and all(p is not b for b in biases)]
    optimizer = torch.optim.SGD([{"params": others}, {"params": biases, "lr": lr * bias_scale, "weight_decay": decay / bias_scale}],
                                lr=lr, momentum=momentum, nesterov=True, weight_decay=decay)
    steps_per_epoch = math.ceil(len(x_train) / batch)
    total = steps_per_epoch * args.epochs
    warmup = int(2.3 * steps_per_epoch)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda n: float(numpy.interp(n, [0, warmup, total], [0.2, 1.0, 0.07])))
    loss_function = nn.CrossEntropyLoss(label_smoothing=0.2)
    test_images = torch.from_numpy(numpy.ascontiguousarray(x_test.transpose(0, 3, 1, 2)))
    test_labels = torch.from_numpy(y_test)
    rng = numpy.random.default_rng(args.seed)
    slow, step, seconds = None, 0, 0.0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x_train))
        for first in range(0, len(order), batch):
            rows = order[first:first + batch]
            images = torch.from_numpy(numpy.ascontiguousarray(augment(x_train[rows], rng).transpose(0, 3, 1, 2)))
            loss = loss_function(model(images), torch.from_numpy(y_train[rows]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if epoch >= 3 and step % 5 == 0:  # Lookahead, airbench's rising inertia
                state = model.state_dict()
                if slow is None:
                    slow = {k: v.clone() for k, v in state.items() if v.is_floating_point()}
                else:
                    rho = 0.95 ** 5 * (step / total) ** 3
                    for name, value in slow.items():
                        value.lerp_(state[name], 1 - rho)
                        state[name].copy_(value)
        if slow is not None:
            for name, value in model.state_dict().items():
                if name in slow:
                    value.copy_(slow[name])
        seconds += time.perf_counter() - start
        accuracy = (predict(model, test_images, tta=False).argmax(1) == test_labels).float().mean().item()
        print(f"epoch {epoch + 1}: {seconds:.0f} s, loss {loss.item():.4f}, test accuracy {accuracy:.4f}", flush=True)
    tta = (predict(model, test_images, tta=True).argmax(1) == test_labels).float().mean().item()
    print(f"PyTorch airbench recipe ({args.activation}), {args.epochs} epochs, {seconds:.0f} s: test accuracy {accuracy:.4f}, "
          f"with flip and shift averaging {tta:.4f}")


if __name__ == "__main__":
    main()
