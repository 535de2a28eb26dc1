"""The ``smartmod`` command line: moderate, train, evaluate, serve."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import fields

from smartmod import __version__

__all__ = ["main", "build_parser"]


def _add_moderate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("moderate", help="score texts for harm",
                                 description="Score texts given as arguments (JSON lines on stdout) or a file (CSV, JSONL, TXT, Parquet; '-' for stdin/stdout).")
    parser.add_argument("texts", nargs="*", help="texts to score; omit when using --input")
    parser.add_argument("--input", "-i", help="file of texts to score ('-' for standard input)")
    parser.add_argument("--output", "-o", default="-", help="where to write the scores ('-' for standard output, the default)")
    parser.add_argument("--text-column", default="text", help="column holding the texts (CSV, JSONL, Parquet; default 'text')")
    parser.add_argument("--format", dest="input_format", choices=("csv", "jsonl", "txt", "parquet"), help="input format (default: from the extension; stdin: txt)")
    parser.add_argument("--output-format", choices=("csv", "jsonl", "parquet"), help="output format (default: from the extension; stdout: jsonl)")
    parser.add_argument("--model", default="default", help="'default' (bundled) or a model directory")
    parser.add_argument("--batch-size", type=int, default=4096, help="texts scored at once")
    parser.add_argument("--workers", type=int, help="processes scoring batches in parallel (default: one per CPU core)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _run_moderate(args: argparse.Namespace) -> int:
    from smartmod.moderation.batch import moderate_file
    from smartmod.moderation.moderator import Moderator

    if args.texts and args.input:
        raise ValueError("give texts as arguments or --input, not both")
    if not args.texts and not args.input:
        raise ValueError("nothing to score: give texts as arguments or --input FILE ('-' for standard input)")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be positive, got {args.batch_size}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be positive, got {args.workers}")
    moderator = Moderator.load(args.model)
    if args.texts:
        for text, result in zip(args.texts, moderator.moderate(args.texts)):
            print(json.dumps({"text": text, **result}, ensure_ascii=False))
        return 0
    summary = moderate_file(moderator, args.input, args.output, text_column=args.text_column, input_format=args.input_format,
                            output_format=args.output_format, batch_size=args.batch_size, workers=args.workers, progress=not args.no_progress)
    print(f"smartmod: scored {summary['texts']} texts in {summary['seconds']:.1f} s ({summary['texts_per_second']:.0f} texts/s), "
          f"{summary['flagged']} flagged", file=sys.stderr)
    return 0


def _add_train(commands: argparse._SubParsersAction) -> None:
    from smartmod.vision.mnist_mlp import MnistMLPConfig

    train = commands.add_parser("train", help="train a model").add_subparsers(dest="task", required=True)
    text = train.add_parser("text", help="train the text moderation model on the shared text datasets")
    text.add_argument("--config", help="JSON training config (keys of TextTrainingConfig); defaults apply to missing keys")
    text.add_argument("--output", required=True, help="directory to write the model bundle to")
    text.add_argument("--report", help="directory to write the holdout evaluation report (JSON, HTML, PNG) to")
    mnist = train.add_parser("mnist", help="train the from-scratch MLP on MNIST or Fashion-MNIST and report test accuracy")
    for field in fields(MnistMLPConfig):
        mnist.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    mnist.add_argument("--output", help="save the trained model to this directory")
    mnist.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _run_train(args: argparse.Namespace) -> int:
    if args.task == "mnist":
        from smartmod.vision.mnist_mlp import MnistMLPConfig, train_mnist_mlp

        config = MnistMLPConfig(**{field.name: getattr(args, field.name) for field in fields(MnistMLPConfig)})
        print(json.dumps(train_mnist_mlp(config, output=args.output, progress=not args.no_progress), indent=2))
        return 0
    from smartmod.moderation.training import TextTrainingConfig, load_training_config, train_text_model

    config = load_training_config(args.config) if args.config else TextTrainingConfig()
    card = train_text_model(config, args.output, report_dir=args.report)
    print(json.dumps(card["holdout_figures"], indent=2))
    return 0


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("evaluate", help="evaluate a model and write a report (JSON + HTML + plots)")
    parser.add_argument("model", help="'default' or a model directory")
    parser.add_argument("--data", nargs="+", required=True,
                        help="shared dataset names (scored on the model's own holdout split) or labeled files (CSV/JSONL with a text column and 0/1 category columns)")
    parser.add_argument("--output", required=True, help="directory for report.json, report.html and the plots")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--cross-dataset", help="JSON matrix written by bench/cross_dataset.py, rendered in the report")


def _run_evaluate(args: argparse.Namespace) -> int:
    from smartmod.moderation.evaluation import evaluate_command

    summary = evaluate_command(args.model, args.data, args.output, text_column=args.text_column, cross_dataset=args.cross_dataset)
    print(json.dumps(summary, indent=2))
    return 0


def _add_serve(commands: argparse._SubParsersAction) -> None:
    from smartmod.serve.settings import ServerSettings

    parser = commands.add_parser("serve", help="serve the moderation HTTP API",
                                 description="Serve POST /v1/moderate, GET /v1/models, /healthz, /metrics and /openapi.json until SIGINT or SIGTERM.")
    for field in fields(ServerSettings):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default,
                            help=f"{field.metadata['help']} (default: {field.default})")


def _run_serve(args: argparse.Namespace) -> int:
    from smartmod.serve.server import run_server
    from smartmod.serve.settings import ServerSettings

    run_server(ServerSettings(**{field.name: getattr(args, field.name) for field in fields(ServerSettings)}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartmod", description="Content moderation with deep learning written from first principles.")
    parser.add_argument("--version", action="version", version=f"smartmod {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_moderate(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_serve(commands)
    return parser


_RUNNERS = {"moderate": _run_moderate, "train": _run_train, "evaluate": _run_evaluate, "serve": _run_serve}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.simplefilter("default")
    warnings.formatwarning = lambda message, category, *rest: f"smartmod: warning: {message}\n"
    try:
        return _RUNNERS[args.command](args)
    except (ValueError, FileNotFoundError) as error:
        print(f"smartmod: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
