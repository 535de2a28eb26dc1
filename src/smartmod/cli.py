"""The ``smartmod`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from smartmod import __version__

__all__ = ["main"]


def _add_train_mnist(subparsers: argparse._SubParsersAction) -> None:
    from smartmod.vision.mnist_mlp import MnistMLPConfig

    parser = subparsers.add_parser("mnist", help="train the from-scratch MLP on MNIST or Fashion-MNIST and report test accuracy")
    for field in fields(MnistMLPConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    parser.add_argument("--output", help="save the trained model to this directory")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _run_train_mnist(args: argparse.Namespace) -> int:
    from smartmod.vision.mnist_mlp import MnistMLPConfig, train_mnist_mlp

    config = MnistMLPConfig(**{field.name: getattr(args, field.name) for field in fields(MnistMLPConfig)})
    results = train_mnist_mlp(config, output=args.output, progress=not args.no_progress)
    print(json.dumps(results, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartmod", description="Content moderation with deep learning written from first principles.")
    parser.add_argument("--version", action="version", version=f"smartmod {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model")
    _add_train_mnist(train.add_subparsers(dest="task", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train" and args.task == "mnist":
            return _run_train_mnist(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"smartmod: error: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
