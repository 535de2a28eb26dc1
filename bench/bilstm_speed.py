"""Training-step speed of a BiLSTM text classifier in smartmod and PyTorch CPU, same threads, same run.

Network (issue 5): Embedding(20000, 128) → bidirectional LSTM (hidden 128 each way) → max over
time → Dense(6), binary cross-entropy on logits, Adam; sequences of 128 token ids, batch 64, no
padding. Blocks alternate between the two frameworks (A B A B ...) and the median time per step is
compared. ``--profile`` instead times our step phase by phase (each layer's forward and backward,
the loss, Adam), to show where the time goes.

OpenBLAS picks its kernels from the CPU unless ``OPENBLAS_CORETYPE`` names them; the header says
which, since the GEMMs that dominate the step run about twice as fast with AVX-512 kernels
(SkylakeX) as with AVX2 ones (Haswell).

    python bench/bilstm_speed.py [--threads 2] [--blocks 8] [--steps 3] [--profile]
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, report, set_threads  # noqa: E402

VOCABULARY, EMBEDDING, HIDDEN, OUTPUTS, LENGTH, BATCH = 20_000, 128, 128, 6, 128, 64


def smartmod_network():
    """The network, its loss and its optimizer."""
    from smartmod.nn import LSTM, Bidirectional, Dense, Embedding, MaxOverTimePooling, Sequential
    from smartmod.nn.losses import BCEWithLogitsLoss
    from smartmod.nn.optim import Adam

    model = Sequential(Embedding(VOCABULARY, EMBEDDING), Bidirectional(LSTM(EMBEDDING, HIDDEN)), MaxOverTimePooling(), Dense(2 * HIDDEN, OUTPUTS))
    return model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=1e-3)


def smartmod_step(batches, targets):
    model, loss, optimizer = smartmod_network()
    inputs = itertools.cycle(batches)

    def step() -> None:
        optimizer.zero_grad()
        loss.forward(model.forward(next(inputs)), targets)
        model.backward(loss.backward())
        optimizer.step()

    return step


def torch_step(batches, targets):
    import torch

    embedding = torch.nn.Embedding(VOCABULARY, EMBEDDING)
    encoder = torch.nn.LSTM(EMBEDDING, HIDDEN, batch_first=True, bidirectional=True)
    head = torch.nn.Linear(2 * HIDDEN, OUTPUTS)
    optimizer = torch.optim.Adam([*embedding.parameters(), *encoder.parameters(), *head.parameters()], lr=1e-3)
    loss = torch.nn.BCEWithLogitsLoss()
    inputs, y = itertools.cycle([torch.from_numpy(b) for b in batches]), torch.from_numpy(targets)

    def step() -> None:
        optimizer.zero_grad()
        outputs, _ = encoder(embedding(next(inputs)))  # (B, T, 2H)
        loss(head(outputs.max(dim=1).values), y).backward()
        optimizer.step()

    return step


def where_the_time_goes(batches, targets, steps: int) -> None:
    """Our training step phase by phase: each layer's forward and backward, the loss, Adam."""
    import time

    model, loss, optimizer = smartmod_network()
    layers = list(model)
    totals: dict[str, float] = {}

    def timed(name: str, work):
        start = time.perf_counter()
        result = work()
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - start
        return result

    for index in range(steps + 1):
        if index == 1:
            totals.clear()  # the first step warms up
        timed("zero_grad", optimizer.zero_grad)
        x = batches[index % len(batches)]
        for layer in layers:
            x = timed(f"{type(layer).__name__} forward", lambda: layer.forward(x))
        grad = timed("loss", lambda: (loss.forward(x, targets), loss.backward())[1])
        for layer in reversed(layers):
            grad = timed(f"{type(layer).__name__} backward", lambda: layer.backward(grad))
        timed("Adam step", optimizer.step)
    total = sum(totals.values())
    print(f"where the time of one training step goes ({steps} steps):")
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {name:28s} {seconds / steps * 1000:8.2f} ms  {seconds / total:6.1%}")
    print(f"  {'total':28s} {total / steps * 1000:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3, help="training steps per timed block")
    parser.add_argument("--profile", action="store_true", help="time our step phase by phase instead of comparing")
    args = parser.parse_args()
    set_threads(args.threads)

    import numpy
    import torch

    torch.set_num_threads(args.threads)
    rng = numpy.random.default_rng(0)
    batches = [rng.integers(0, VOCABULARY, size=(BATCH, LENGTH)) for _ in range(4)]
    targets = (rng.random((BATCH, OUTPUTS)) < 0.2).astype(numpy.float32)
    if args.profile:
        where_the_time_goes(batches, targets, args.blocks * args.steps)
        return
    print(
        f"Embedding({VOCABULARY}, {EMBEDDING}) → BiLSTM({HIDDEN}) → max over time → Dense({OUTPUTS}), "
        f"length {LENGTH}, batch {BATCH}, Adam, {args.threads} threads, torch {torch.__version__}, "
        f"OpenBLAS kernels: {os.environ.get('OPENBLAS_CORETYPE', 'detected from the CPU')}"
    )
    times = interleaved({"smartmod": smartmod_step(batches, targets), "pytorch": torch_step(batches, targets)}, args.blocks, args.steps)
    ratio = report("training step", times, BATCH)
    print(f"\nsummary: {ratio:.2f}x PyTorch's time (goal ≤ 1.2x)")


if __name__ == "__main__":
    main()
