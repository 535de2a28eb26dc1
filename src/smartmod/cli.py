"""The ``smartmod`` command line: moderate, train, evaluate, serve, models, monitor."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any

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
    from smartmod.vision.configs import MnistMLPConfig

    train = commands.add_parser("train", help="train a model").add_subparsers(dest="task", required=True)
    text = train.add_parser("text", help="train the text moderation model on the shared text datasets")
    text.add_argument("--config", help="JSON training config (keys of TextTrainingConfig); defaults apply to missing keys")
    text.add_argument("--output", required=True, help="directory to write the model bundle to (with --cross-validate: crossval.json)")
    text.add_argument("--report", help="directory to write the holdout evaluation report (JSON, HTML, PNG) to")
    text.add_argument("--cross-validate", type=int, metavar="K",
                      help="instead of training the model, run K-fold cross-validation on its train and validation rows "
                           "and write each fold's figures and their mean, std, min and max to OUTPUT/crossval.json")
    mnist = train.add_parser("mnist", help="train the from-scratch MLP on MNIST or Fashion-MNIST and report test accuracy")
    for field in fields(MnistMLPConfig):
        mnist.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    mnist.add_argument("--output", help="save the trained model to this directory")
    mnist.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_train_images(train)
    _add_train_word2vec(train)


def _add_train_word2vec(train: argparse._SubParsersAction) -> None:
    from smartmod.text.word2vec_config import Word2VecConfig

    parser = train.add_parser("word2vec", help="train word2vec vectors on all shared English text",
                              description="Train skip-gram or CBOW vectors with negative sampling on every shared English "
                                          "text dataset; write word2vec.json and vectors.npz (and vectors.txt with --text-format).")
    parser.add_argument("--output", required=True, help="directory to write the vectors to")
    architecture = parser.add_mutually_exclusive_group()
    architecture.add_argument("--sg", dest="architecture", action="store_const", const="skip-gram", default="skip-gram", help="skip-gram (the default)")
    architecture.add_argument("--cbow", dest="architecture", action="store_const", const="cbow", help="continuous bag of words")
    for field in fields(Word2VecConfig):
        if field.name != "architecture":
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default, help=f"(default: {field.default})")
    parser.add_argument("--text-format", action="store_true", help="also write vectors.txt in the word2vec text format")


def _run_train_word2vec(args: argparse.Namespace) -> int:
    from smartmod.text.english_corpus import english_token_lists
    from smartmod.text.word2vec import Word2Vec, Word2VecConfig

    config = Word2VecConfig(**{field.name: getattr(args, field.name) for field in fields(Word2VecConfig)})
    token_lists = english_token_lists()
    print(f"corpus: {len(token_lists)} texts, {sum(map(len, token_lists))} words", file=sys.stderr)
    model = Word2Vec(config).fit(token_lists, on_epoch=lambda entry: print(json.dumps(entry), file=sys.stderr))
    model.save(args.output)
    if args.text_format:
        model.save_word2vec_format(Path(args.output) / "vectors.txt")
    print(json.dumps({"output": args.output, "words": len(model), "dim": config.dim, "training_log": model.training_log}, indent=2))
    return 0


def _add_train_images(train: argparse._SubParsersAction) -> None:
    from smartmod.vision.configs import ImageTrainingConfig

    images = train.add_parser("images", help="train an image classifier (CNN, ResNet, ViT) on MNIST, Fashion-MNIST or CIFAR-10",
                              description="Options override the --config file; lists (widths, augmentation) come from the file.")
    images.add_argument("--config", help="JSON training config (keys of ImageTrainingConfig); defaults apply to missing keys")
    images.add_argument("--output", help="directory for the checkpoint (checkpoint.npz), the model (model/) and results.json")
    images.add_argument("--resume", action="store_true", help="continue the interrupted run checkpointed in --output")
    images.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    for field in fields(ImageTrainingConfig):
        if field.type in ("int", "float", "str", "str | None", "int | None"):
            images.add_argument(f"--{field.name.replace('_', '-')}", type=float if field.type == "float" else int if "int" in field.type else str)


def _run_train_images(args: argparse.Namespace) -> int:
    from smartmod.nn.serialize import atomic_write_bytes, read_json
    from smartmod.vision.training import ImageTrainingConfig, saved_run_config, train_image_classifier

    if args.resume and not args.output:
        raise ValueError("--resume continues the run checkpointed in --output: give --output DIR")
    if args.config and not Path(args.config).is_file():
        raise ValueError(f"--config {args.config}: no such file")
    values = read_json(args.config, "an image training config") if args.config else {}
    known = {field.name for field in fields(ImageTrainingConfig)}
    given = {name: getattr(args, name) for name in known if getattr(args, name, None) is not None}
    if args.resume and not args.config:
        values = saved_run_config(args.output)  # --resume alone continues with the settings the run started with
        if values is None and not given:
            raise ValueError(f"{args.output} does not record the settings its run started with: resume it with the same --config and options")
        values = values or {}
    if not isinstance(values, dict) or set(values) - known:
        raise ValueError(f"{args.config}: a training config is a JSON object with keys among {sorted(known)}"
                         + (f"; unknown: {sorted(set(values) - known)}" if isinstance(values, dict) else ""))
    values.update(given)
    values["progress"] = not args.no_progress
    results = train_image_classifier(ImageTrainingConfig(**values), output=args.output, resume=args.resume)
    if args.output:
        atomic_write_bytes(Path(args.output) / "results.json", json.dumps(results, indent=2).encode("utf-8"))
    summary = {key: results[key] for key in ("parameters", "epochs_run", "train_seconds", "best_val_accuracy", "test_accuracy")}
    print(json.dumps({"dataset": results["config"]["dataset"], "model": results["config"]["model"], **summary}, indent=2))
    return 0


def _run_train(args: argparse.Namespace) -> int:
    if args.task == "images":
        return _run_train_images(args)
    if args.task == "word2vec":
        return _run_train_word2vec(args)
    if args.task == "mnist":
        from smartmod.vision.mnist_mlp import MnistMLPConfig, train_mnist_mlp

        config = MnistMLPConfig(**{field.name: getattr(args, field.name) for field in fields(MnistMLPConfig)})
        print(json.dumps(train_mnist_mlp(config, output=args.output, progress=not args.no_progress), indent=2))
        return 0
    from smartmod.moderation.training import TextTrainingConfig, load_training_config, train_text_model

    config = load_training_config(args.config) if args.config else TextTrainingConfig()
    if args.cross_validate is not None:
        return _cross_validate(config, args)
    card = train_text_model(config, args.output, report_dir=args.report)
    print(json.dumps(card["holdout_figures"], indent=2))
    return 0


def _cross_validate(config: Any, args: argparse.Namespace) -> int:
    from smartmod.moderation.cross_validation import cross_validate_text_model
    from smartmod.nn.serialize import atomic_write_bytes

    if args.report:
        raise ValueError("--report writes a holdout report of a trained model; --cross-validate trains none: leave one of them out")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)

    def progress(index: int, figures: dict[str, Any]) -> None:
        print(f"fold {index + 1}/{args.cross_validate} done in {figures['seconds']} s", file=sys.stderr)

    result = cross_validate_text_model(config, args.cross_validate, on_fold=progress)
    atomic_write_bytes(output / "crossval.json", json.dumps(result, indent=2, allow_nan=False).encode("utf-8"))
    for name, stats in result["summary"].items():
        if not name.endswith("_rows") and name != "seconds":
            print(f"{name:<44} {stats['mean']:.4f} ± {stats['std']:.4f}  [{stats['min']:.4f}, {stats['max']:.4f}]")
    print(f"wrote {output / 'crossval.json'}")
    return 0


def _add_inspect_image(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("inspect-image", help="what an image classifier predicts for an image, and why (Grad-CAM, saliency, filters, feature maps)",
                                 description="Writes gradcam.png, saliency.png, filters.png and feature_maps.png to --output and prints the prediction as JSON.")
    parser.add_argument("model", help="a model directory written by 'smartmod train images' (OUTPUT/model)")
    parser.add_argument("image", help="the image file (JPEG, PNG, GIF or WebP)")
    parser.add_argument("--output", required=True, help="directory for the pictures")
    parser.add_argument("--target-class", type=int, help="the class to explain (default: the predicted one)")
    parser.add_argument("--layer", help="Grad-CAM's layer, a name in model.named_modules() (default: the last convolutional stage)")


def _run_inspect_image(args: argparse.Namespace) -> int:
    from smartmod.vision.inspection import inspect_image

    print(json.dumps(inspect_image(args.model, args.image, args.output, args.target_class, args.layer), indent=2))
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
                                 description="Serve the web page at / and POST /v1/moderate, POST /v1/explain, GET /v1/models, /healthz, /metrics and /openapi.json until SIGINT or SIGTERM.")
    for field in fields(ServerSettings):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=str if field.default is None else type(field.default),
                            default=field.default, help=f"{field.metadata['help']} (default: {field.default})")


def _run_serve(args: argparse.Namespace) -> int:
    from smartmod.serve.server import run_server
    from smartmod.serve.settings import ServerSettings

    run_server(ServerSettings(**{field.name: getattr(args, field.name) for field in fields(ServerSettings)}))
    return 0


def _registry_option() -> argparse.ArgumentParser:
    from smartmod.moderation.registry import REGISTRY_ENVIRONMENT_VARIABLE

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--registry", help=f"models directory (default: ${REGISTRY_ENVIRONMENT_VARIABLE}, else ~/.smartmod/models)")
    return parent


def _add_models(commands: argparse._SubParsersAction) -> None:
    from smartmod.moderation.registry import STAGES

    registry = _registry_option()
    actions = commands.add_parser("models", help="the model registry: list, show, add and promote model versions").add_subparsers(
        dest="action", required=True)
    actions.add_parser("list", parents=[registry], help="every model version and its stage ('default' is the bundled model)")
    show = actions.add_parser("show", parents=[registry], help="one model version: path, stages, categories, thresholds, model card")
    show.add_argument("model", help="NAME (its production version), NAME:VERSION or NAME:STAGE")
    add = actions.add_parser("add", parents=[registry], help="copy a model bundle into the registry (a new name's first version goes to production)")
    add.add_argument("path", help="the model bundle directory ('smartmod train text --output' writes one)")
    add.add_argument("--name", help="register under this name (default: the bundle's own name)")
    add.add_argument("--version", help="register as this version (default: the bundle's own version)")
    promote = actions.add_parser("promote", parents=[registry], help="put a model version in a stage")
    promote.add_argument("model", help="NAME:VERSION")
    promote.add_argument("--stage", choices=STAGES, default="production", help="the stage (default: production)")


def _run_models(args: argparse.Namespace) -> int:
    from smartmod.moderation.bundle import TextModelBundle
    from smartmod.moderation.registry import ModelRegistry

    registry = ModelRegistry(args.registry)
    if args.action == "list":
        print(f"{'NAME':<20} {'VERSION':<12} {'STAGE':<22} PATH")
        for entry in registry.entries():
            print(f"{entry.name:<20} {entry.version:<12} {','.join(entry.stages) or '-':<22} {entry.path}")
    elif args.action == "show":
        entry = registry.lookup(args.model)
        bundle = TextModelBundle.load(entry.path)
        print(json.dumps({"name": entry.name, "version": entry.version, "stages": list(entry.stages), "path": str(entry.path),
                          "categories": bundle.config.categories, "thresholds": bundle.config.thresholds,
                          "drift_reference": bundle.reference is not None, "card": bundle.card}, indent=2))
    elif args.action == "add":
        entry = registry.add(args.path, name=args.name, version=args.version)
        print(f"registered {entry.qualified_name} at {entry.path} (stages: {', '.join(entry.stages) or 'none'})")
    else:
        name, _, version = args.model.partition(":")
        if not version:
            raise ValueError(f"promote needs NAME:VERSION, got {args.model!r}; see the versions with 'smartmod models list'")
        entry = registry.promote(name, version, args.stage)
        print(f"{entry.qualified_name} is now {args.stage}")
    return 0


def _add_monitor(commands: argparse._SubParsersAction) -> None:
    registry = _registry_option()
    actions = commands.add_parser("monitor", help="drift of served models against their training reference").add_subparsers(
        dest="action", required=True)
    report = actions.add_parser("report", parents=[registry], help="prediction statistics and drift (PSI, KS) from a server's prediction log",
                                description="Summarize the prediction log 'smartmod serve --log-predictions FILE' writes: per model version, "
                                            "texts, flagged rate, mean length and OOV rate, and PSI / KS of every feature against the "
                                            "model's reference (found in the registry or the bundled default by the logged name and version).")
    report.add_argument("log", help="the prediction log (JSON lines)")
    report.add_argument("--last", type=int, help="only the last N texts of each model version (default: all)")
    report.add_argument("--threshold", type=float, default=0.2, help="PSI at or over which a feature is marked ALERT (default: 0.2)")
    report.add_argument("--min-texts", type=int, default=200, help="no ALERT for a model version with fewer texts: too few for "
                                                                   "PSI and KS to mean drift (default: 200)")
    report.add_argument("--json", action="store_true", help="print JSON (with the score histograms) instead of a table")
    reference = actions.add_parser("reference", parents=[registry], help="recompute a model's drift reference on its validation rows",
                                   description="Rebuild the validation split of a model trained by 'smartmod train text' from its card "
                                               "and the shared data, score it, and write reference.json into the model's directory.")
    reference.add_argument("model", help="'default', a bundle directory or a registered NAME[:VERSION]")


def _run_monitor(args: argparse.Namespace) -> int:
    from smartmod.moderation.registry import ModelRegistry

    registry = ModelRegistry(args.registry)
    if args.action == "report":
        from smartmod.serve.monitoring import format_report, report_prediction_log

        summaries = report_prediction_log(args.log, registry, args.last)
        print(json.dumps([summary.to_dict() for summary in summaries], indent=2) if args.json else format_report(summaries, args.threshold, args.min_texts))
        return 0
    from smartmod.moderation.bundle import REFERENCE_FILE, TextModelBundle
    from smartmod.moderation.training import validation_reference
    from smartmod.nn.serialize import atomic_write_bytes

    directory = registry.resolve(args.model)
    reference = validation_reference(TextModelBundle.load(directory))
    atomic_write_bytes(directory / REFERENCE_FILE, json.dumps(reference.to_dict(), allow_nan=False).encode("utf-8"))
    print(f"wrote the drift reference of {reference.rows} validation rows to {directory / REFERENCE_FILE}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartmod", description="Content moderation with deep learning written from first principles.")
    parser.add_argument("--version", action="version", version=f"smartmod {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_moderate(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_inspect_image(commands)
    _add_serve(commands)
    _add_models(commands)
    _add_monitor(commands)
    return parser


_RUNNERS = {"moderate": _run_moderate, "train": _run_train, "evaluate": _run_evaluate, "serve": _run_serve, "models": _run_models,
            "monitor": _run_monitor, "inspect-image": _run_inspect_image}


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
