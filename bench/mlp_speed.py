"""Training-step speed of one MLP in smartmod and PyTorch CPU, same threads, same run.

Network (issue 2): 20,000-dim input → Dense 256 → ReLU → Dropout(0.5) → Dense 6 → sigmoid
outputs with binary cross-entropy on logits, Adam, batch 256. Measured twice: with a sparse
TF-IDF-like CSR input (~1% density) and with the same input dense. Blocks alternate between the
two frameworks (A B A B ...) and the median time per step is compared.

    python bench/mlp_speed.py [--threads 2] [--blocks 10] [--steps 5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, report, set_threads  # noqa: E402

INPUTS, HIDDEN, OUTPUTS, BATCH, DENSITY = 20_000, 256, 6, 256, 0.01


def tfidf_like(rows: int, rng) -> "scipy.sparse.csr_matrix":
    """Rows of ~1% nonzeros with positive, L2-normalized weights, like TF-IDF features."""
    import numpy
    import scipy.sparse

    matrix = scipy.sparse.random(rows, INPUTS, density=DENSITY, format="csr", dtype=numpy.float32, random_state=rng)
    matrix.data = rng.random(matrix.data.shape, dtype=numpy.float32) + 0.1
    norms = numpy.sqrt(matrix.multiply(matrix).sum(axis=1)).A.ravel()
    return scipy.sparse.diags(1 / numpy.maximum(norms, 1e-12)).astype(numpy.float32) @ matrix


def smartmod_step(batches, targets):
    from smartmod.nn import Dense, Dropout, ReLU, Sequential
    from smartmod.nn.losses import BCEWithLogitsLoss
    from smartmod.nn.optim import Adam

    model = Sequential(Dense(INPUTS, HIDDEN), ReLU(), Dropout(0.5), Dense(HIDDEN, OUTPUTS))
    model.needs_input_grad = False
    loss, optimizer = BCEWithLogitsLoss(), Adam(model.parameters(), lr=1e-3)
    state = {"i": 0}

    def step() -> None:
        x = batches[state["i"] % len(batches)]
        state["i"] += 1
        optimizer.zero_grad()
        loss.forward(model.forward(x), targets)
        model.backward(loss.backward())
        optimizer.step()

    return step


def torch_step(batches, targets, sparse: bool):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(INPUTS, HIDDEN), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(HIDDEN, OUTPUTS))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = torch.nn.BCEWithLogitsLoss()
    if sparse:
        inputs = [torch.sparse_csr_tensor(b.indptr.astype("int64"), b.indices.astype("int64"), b.data, size=b.shape) for b in batches]
    else:
        inputs = [torch.from_numpy(b) for b in batches]
    y = torch.from_numpy(targets)
    first, rest = model[0], model[1:]
    state = {"i": 0}

    def step() -> None:
        x = inputs[state["i"] % len(inputs)]
        state["i"] += 1
        optimizer.zero_grad()
        hidden = torch.sparse.mm(x, first.weight.t()) + first.bias if sparse else first(x)
        loss(rest(hidden), y).backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed block")
    args = parser.parse_args()
    set_threads(args.threads)

    import numpy
    import torch

    torch.set_num_threads(args.threads)
    rng = numpy.random.default_rng(0)
    sparse_batches = [tfidf_like(BATCH, rng) for _ in range(4)]
    dense_batches = [numpy.ascontiguousarray(b.toarray()) for b in sparse_batches]
    targets = (rng.random((BATCH, OUTPUTS)) < 0.2).astype(numpy.float32)
    print(f"MLP {INPUTS}→{HIDDEN}→ReLU→Dropout→{OUTPUTS}, batch {BATCH}, Adam, {args.threads} threads, torch {torch.__version__}")

    ratios = {}
    for name, batches, sparse in (("sparse CSR input (~1% dense)", sparse_batches, True), ("dense input", dense_batches, False)):
        times = interleaved({"smartmod": smartmod_step(batches, targets), "pytorch": torch_step(batches, targets, sparse)}, args.blocks, args.steps)
        ratios[name] = report(name, times, BATCH)
    print("\nsummary: " + ", ".join(f"{name}: {ratio:.2f}x PyTorch's time" for name, ratio in ratios.items()))


if __name__ == "__main__":
    main()
