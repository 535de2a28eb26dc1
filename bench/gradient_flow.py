"""Vanishing gradients in a plain RNN against an LSTM, on a task that needs a long memory.

Task: sequences of T = 40 steps of 4 Gaussian features; the label is whether the very first
step's first feature is positive, so everything after step 0 is noise to be ignored. Each network
is a recurrent layer (hidden 32) whose final state feeds Dense(1), trained with binary
cross-entropy and Adam; the LSTM's forget gate starts with a bias of 3 (σ(3) ≈ 0.95: the cell
starts out remembering). For each, ‖∂L/∂x_t‖ (the loss on the final output, per input step) is
measured at initialization and after training, and plotted on a log scale: the RNN's gradient
shrinks geometrically with the distance to the end, the LSTM's does not, and only the LSTM learns
the task.

    python bench/gradient_flow.py [--steps 500] [--out docs/img/gradient_flow.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy

if TYPE_CHECKING:
    from smartmod.nn.layers.recurrent import Recurrent

STEPS, FEATURES, HIDDEN, BATCH, FORGET_BIAS = 40, 4, 32, 64, 3.0


def task(rows: int, rng: numpy.random.Generator) -> tuple[numpy.ndarray, numpy.ndarray]:
    """x (rows, T, 4) noise; y (rows, 1) = 1 where x[:, 0, 0] > 0."""
    x = rng.normal(size=(rows, STEPS, FEATURES)).astype(numpy.float32)
    return x, (x[:, :1, 0] > 0).astype(numpy.float32)


class Network:
    """A recurrent layer, its final state into Dense(1), and binary cross-entropy on the logit."""

    def __init__(self, recurrent: "Recurrent") -> None:
        from smartmod.nn import Dense
        from smartmod.nn.losses import BCEWithLogitsLoss
        from smartmod.nn.optim import Adam

        self.recurrent = recurrent
        self.head = Dense(HIDDEN, 1)
        self.loss = BCEWithLogitsLoss()
        self.optimizer = Adam(self.recurrent.parameters() + self.head.parameters(), lr=3e-3)

    def grad_of_final_state(self, x: numpy.ndarray, y: numpy.ndarray) -> numpy.ndarray:
        """∂L/∂h_T (B, H) after one forward pass; the head's gradients are accumulated."""
        self.loss.forward(self.head.forward(self.recurrent.forward(x)), y)
        return self.head.backward(self.loss.backward())

    def train_step(self, x: numpy.ndarray, y: numpy.ndarray) -> None:
        self.optimizer.zero_grad()
        self.recurrent.backward(self.grad_of_final_state(x, y))
        self.optimizer.step()

    def accuracy(self, x: numpy.ndarray, y: numpy.ndarray) -> float:
        return float(numpy.mean((self.head.forward(self.recurrent.forward(x)) > 0) == (y > 0.5)))

    def gradient_flow(self, x: numpy.ndarray, y: numpy.ndarray) -> numpy.ndarray:
        """‖∂L/∂x_t‖ over the batch, for t = 0 .. T-1."""
        from smartmod.nn.layers.gradient_flow import gradient_norms_through_time

        return gradient_norms_through_time(self.recurrent, x, self.grad_of_final_state(x, y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500, help="training steps of batch 64")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img" / "gradient_flow.png")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from smartmod.nn import LSTM, RNN, backend

    backend.seed(0)
    rng = numpy.random.default_rng(0)
    probe_x, probe_y = task(256, rng)
    test_x, test_y = task(2000, rng)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    print(f"task: remember the sign of step 0 over {STEPS} steps; hidden {HIDDEN}, {args.steps} Adam steps of batch {BATCH}")
    print(f"{'model':6s} {'when':8s} {'|dL/dx_0|':>11s} {'|dL/dx_T/2|':>12s} {'|dL/dx_T-1|':>12s} {'first/last':>11s} {'accuracy':>9s}")
    networks = {
        "RNN": Network(RNN(FEATURES, HIDDEN, return_sequences=False)),
        "LSTM": Network(LSTM(FEATURES, HIDDEN, return_sequences=False, forget_bias=FORGET_BIAS)),
    }
    for when, axis in (("init", axes[0]), ("trained", axes[1])):
        if when == "trained":
            for network in networks.values():
                for _ in range(args.steps):
                    network.train_step(*task(BATCH, rng))
        for name, network in networks.items():
            norms = network.gradient_flow(probe_x, probe_y)
            accuracy = network.accuracy(test_x, test_y)
            print(f"{name:6s} {when:8s} {norms[0]:11.3e} {norms[STEPS // 2]:12.3e} {norms[-1]:12.3e} {norms[0] / norms[-1]:11.3e} {accuracy:9.3f}")
            axis.semilogy(numpy.arange(STEPS), norms, label=f"{name} (test accuracy {accuracy:.2f})")
        axis.set_title("at initialization" if when == "init" else f"after {args.steps} training steps")
        axis.set_xlabel("input step t (the loss reads the output after step T-1)")
        axis.legend()
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("‖∂L/∂x_t‖ over 256 sequences")
    figure.suptitle("Gradient flow through time: the RNN's gradient vanishes, the LSTM's does not")
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
