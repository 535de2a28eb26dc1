"""Training-step speed of a BiLSTM text classifier in smartmod and PyTorch CPU, same threads, same run.

Network (issue 5): Embedding(20000, 128) → bidirectional LSTM (hidden 128 each way) → max over
time → Dense(6), binary cross-entropy on logits, Adam; sequences of 128 token ids, batch 64, no
padding. Blocks alternate between the two frameworks (A B A B ...) and the median time per step is
compared. ``--profile`` instead runs our step under cProfile and prints where the time goes.

    python bench/bilstm_speed.py [--threads 2] [--blocks 8] [--steps 3] [--profile]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, report, set_threads  # noqa: E402

VOCABULARY, EMBEDDING, HIDDEN, OUTPUTS, LENGTH, BATCH = 20_000, 128, 128, 6, 128, 64


def smartmod_step(batches, targets):
    from smartmod.nn import Bidirectional, Dense, Embedding, LSTM, MaxOverTimePooling, Sequential
    from smartmod.nn.losses import BCEWithLogitsLoss
    from smartmod.nn.optim import Adam

    model = Sequential(Embedding(VOCABULARY, EMBEDDING), Bidirectional(LSTM(EMBEDDING, HIDDEN)), MaxOverTimePooling(), Dense(2 * HIDDEN, OUTPUTS))
    loss, optimizer = BCEWithLogitsLoss(), Adam(model.parameters(), lr=1e-3)
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


def profile(step, steps: int) -> None:
    import cProfile
    import pstats

    step()
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [step() for _ in range(steps)])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3, help="training steps per timed block")
    parser.add_argument("--profile", action="store_true", help="profile our training step instead of comparing")
    args = parser.parse_args()
    set_threads(args.threads)

    import numpy
    import torch

    torch.set_num_threads(args.threads)
    rng = numpy.random.default_rng(0)
    batches = [rng.integers(0, VOCABULARY, size=(BATCH, LENGTH)) for _ in range(4)]
    targets = (rng.random((BATCH, OUTPUTS)) < 0.2).astype(numpy.float32)
    if args.profile:
        profile(smartmod_step(batches, targets), args.steps)
        return
    print(
        f"Embedding({VOCABULARY}, {EMBEDDING}) → BiLSTM({HIDDEN}) → max over time → Dense({OUTPUTS}), "
        f"length {LENGTH}, batch {BATCH}, Adam, {args.threads} threads, torch {torch.__version__}"
    )
    times = interleaved({"smartmod": smartmod_step(batches, targets), "pytorch": torch_step(batches, targets)}, args.blocks, args.steps)
    ratio = report("training step", times, BATCH)
    print(f"\nsummary: {ratio:.2f}x PyTorch's time (goal ≤ 1.2x)")


if __name__ == "__main__":
    main()
