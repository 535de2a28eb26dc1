"""Training an image classifier: MNIST, Fashion-MNIST or CIFAR-10 with a CNN, a ResNet or a ViT.

The recipe: images scaled to [0, 1] and normalized per channel with the training set's mean
and standard deviation; the last ``validation`` training images held out for model selection
(the best validation epoch's weights are kept; with none held out, the last epoch's);
augmentation of the training batches only (:mod:`smartmod.vision.augment`, run by the
Trainer's ``batch_transform`` on the checkpointed generator, so an interrupted run resumes
exactly); softmax cross-entropy with optional label
smoothing; SGD with Nesterov momentum and weight decay (or Adam) under a linear warm-up and
cosine decay, or airbench's settings (Jordan 2024): a triangular schedule, BatchNorm weights
frozen and BatchNorm biases on a 64 times larger step. Every epoch also records its wall-clock
time and the test accuracy, so a run reports time to accuracy the way DAWNBench does (Coleman
et al. 2017); the test set never chooses anything.

Data arrays are kept channels-last in memory, (N, H, W, C), and handed to the network as the
(N, C, H, W) view (:func:`~smartmod.nn.layers.conv.channels_first`), the layout the
convolutions run in without copying.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy

from smartmod.nn import backend
from smartmod.nn.callbacks import Callback, EarlyStopping, LearningRateScheduler
from smartmod.nn.layers.conv import channels_first
from smartmod.nn.layers.whitening import PatchWhitening
from smartmod.nn.lookahead import Lookahead
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.module import Module
from smartmod.nn.layers.normalization import BatchNorm, recalibrate_batchnorm
from smartmod.nn.optim import SGD, Adam, Optimizer
from smartmod.nn.schedules import CosineWithWarmup, LearningRateSchedule, PiecewiseLinear
from smartmod.nn.serialize import atomic_write_bytes, load_model, read_json, save_model
from smartmod.nn.train import Trainer, predict
from smartmod.nn.validation import check_range
from smartmod.vision.augment_pipeline import Compose
from smartmod.vision.configs import ImageTrainingConfig
from smartmod.vision.datasets import ImageSplits, load_cifar10, load_fashion_mnist, load_mnist
from smartmod.vision.fast_resnet import fast_resnet
from smartmod.vision.mnist_mlp import accuracy
from smartmod.vision.resnet import cifar_resnet
from smartmod.vision.small_cnn import small_cnn
from smartmod.vision.vit import vision_transformer

__all__ = ["ImageTrainingConfig", "DATASETS", "MODELS", "build_image_model", "train_image_classifier", "channel_statistics", "accuracy", "select_classes",
           "predict_augmented", "fit_patch_whitening", "build_optimizer",
           "copy_all_but_last_layer"]

DATASETS: dict[str, Callable[[], ImageSplits]] = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist, "cifar10": load_cifar10}
MODELS = ("small-cnn", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "fast-resnet", "vit")
ATTENTION = (None, "se", "cbam")
SCHEDULES = ("cosine", "triangle")
# The usual CIFAR recipe: pad-and-crop and mirror. Digits are not mirrored (a mirrored 2 is no 2).
DEFAULT_AUGMENTATION = {
    "cifar10": [{"name": "random_crop", "padding": 4}, {"name": "horizontal_flip"}],
    "mnist": [{"name": "random_crop", "padding": 2, "padding_mode": "zero"}],
    "fashion-mnist": [{"name": "random_crop", "padding": 2, "padding_mode": "zero"}, {"name": "horizontal_flip"}],
}


def build_image_model(config: ImageTrainingConfig, image_shape: tuple[int, int, int], classes: int) -> Module:
    """The network for images ``(H, W, C)``: (N, C, H, W) → (N, classes) logits, every BatchNorm
    tracking its running statistics with ``config.batchnorm_momentum``."""
    check_range(batchnorm_momentum=config.batchnorm_momentum, high=1.0)
    if config.batchnorm_momentum == 0:
        raise ValueError("batchnorm_momentum must be above 0 (at 0 the running statistics never leave their start)")
    model = _network(config, image_shape, classes)
    for _, module in model.named_modules():
        if isinstance(module, BatchNorm):
            module.momentum = float(config.batchnorm_momentum)
    return model


def _network(config: ImageTrainingConfig, image_shape: tuple[int, int, int], classes: int) -> Module:
    height, width, channels = image_shape
    if config.model not in MODELS:
        raise ValueError(f"unknown model {config.model!r}; choose one of {', '.join(MODELS)}")
    if config.attention not in ATTENTION:
        raise ValueError(f"attention must be null, 'se' or 'cbam', got {config.attention!r}")
    if config.attention is not None and "resnet" not in config.model:
        raise ValueError(f"attention={config.attention!r} applies to the ResNets only, not to {config.model!r}")
    if config.model == "small-cnn":
        return small_cnn(channels, classes, config.widths)
    if config.model == "vit":
        model = vision_transformer((height, width), config.vit_patch, channels, classes, d_model=config.vit_dim,
                                   depth=config.vit_depth, num_heads=config.vit_heads)
        model.needs_input_grad = False
        return model
    if config.model == "fast-resnet":
        return fast_resnet(classes, channels, config.fast_resnet_widths, attention=config.attention, stem=config.fast_resnet_stem,
                           block=config.fast_resnet_block, init=config.fast_resnet_init)
    return cifar_resnet(int(config.model[len("resnet"):]), classes, channels, config.resnet_width, attention=config.attention)


class _EpochClock(Callback):
    """Records each epoch's cumulative training seconds and test accuracy (for time to accuracy)."""

    def __init__(self, test_images: numpy.ndarray, test_labels: numpy.ndarray):
        self.test_images, self.test_labels = test_images, test_labels
        self.seconds: list[float] = []
        self.test_accuracy: list[float] = []
        self._start = 0.0
        self._elapsed = 0.0

    def on_train_begin(self, trainer):
        self._start = time.perf_counter()  # a resumed run starts mid-epoch, without on_epoch_begin

    def on_epoch_begin(self, trainer, epoch):
        self._start = time.perf_counter()

    def on_epoch_end(self, trainer, epoch, logs):
        self._elapsed += time.perf_counter() - self._start
        self.seconds.append(round(self._elapsed, 1))
        self.test_accuracy.append(accuracy(predict(trainer.model, channels_first(self.test_images), 500), self.test_labels))
        self._start = time.perf_counter()  # the test pass above is not training time

    def state_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "test_accuracy": self.test_accuracy, "elapsed": self._elapsed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seconds, self.test_accuracy, self._elapsed = list(state["seconds"]), list(state["test_accuracy"]), float(state["elapsed"])


def predict_augmented(model: Module, images: Any, flip: bool = True, shift: int = 0, batch_size: int = 500) -> Any:
    """Test-time augmentation: the model's outputs for ``images`` (N, C, H, W), averaged over
    views made with the training's own augmentations.

    With ``flip``, each view is averaged with its mirror image (flipped left to right). With
    ``shift`` > 0, half the weight goes to two copies translated by ``shift`` pixels up-left
    and down-right (the edges reflected), as in Jordan's airbench (2024).
    """
    def views_of(batch: Any) -> Any:
        logits = predict(model, batch, batch_size)
        return (logits + predict(model, batch[..., ::-1], batch_size)) / 2 if flip else logits

    logits = views_of(images)
    if shift <= 0:
        return logits
    xp = backend.get_array_module(images)
    height, width = images.shape[2:]
    padded = xp.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)), mode="reflect")  # (N, C, H + 2s, W + 2s)
    shifted = [views_of(xp.ascontiguousarray(padded[:, :, top:top + height, top:top + width])) for top in (0, 2 * shift)]
    return (logits + (shifted[0] + shifted[1]) / 2) / 2


def fit_patch_whitening(model: Module, images: numpy.ndarray, count: int = 5000) -> None:
    """Fit every :class:`~smartmod.nn.PatchWhitening` in ``model`` to the first ``count`` of the
    (normalized, channels-last) training ``images``, as Jordan's airbench does with 5,000."""
    for _, module in model.named_modules():
        if isinstance(module, PatchWhitening):
            module.fit(channels_first(images[:count]))


def select_classes(images: numpy.ndarray, labels: numpy.ndarray, classes: list[int], per_class: int | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The images of ``classes`` (the first ``per_class`` of each), labels renumbered 0..k-1 in the order given."""
    known = set(numpy.unique(labels).tolist())
    if not classes or len(set(classes)) != len(classes) or not set(classes) <= known:
        raise ValueError(f"classes must be distinct labels of the dataset ({sorted(known)}), got {classes!r}")
    keep = numpy.zeros(len(labels), dtype=bool)
    for label in classes:
        rows = numpy.flatnonzero(labels == label)
        keep[rows[:per_class]] = True
    new_label = numpy.full(max(known) + 1, -1, dtype=numpy.int64)
    new_label[classes] = numpy.arange(len(classes))
    return images[keep], new_label[labels[keep]]


def channel_statistics(images: numpy.ndarray, chunk: int = 1024) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The mean and standard deviation (+1e-6) of each channel of 8-bit images (N, H, W, C) scaled
    to [0, 1], as float32 (C,), summed in float64 chunk by chunk.

    A float32 mean over the image axes of a channels-last array adds every value into one
    float32 total per channel; over CIFAR-10's 46 million values a channel, the totals stop
    growing, and all three channel means came out 0.364 (they are 0.47-0.49).
    """
    channels = images.shape[-1]
    total, squares = numpy.zeros(channels), numpy.zeros(channels)
    for start in range(0, len(images), chunk):
        values = images[start:start + chunk].reshape(-1, channels).astype(numpy.float64) / 255
        total += values.sum(axis=0)
        squares += numpy.einsum("mc,mc->c", values, values)
    count = max(1, images[..., 0].size)
    mean = total / count
    variance = numpy.maximum(squares / count - mean ** 2, 0.0)
    return mean.astype(numpy.float32), (numpy.sqrt(variance) + 1e-6).astype(numpy.float32)


def prepare_images(splits: ImageSplits, config: ImageTrainingConfig) -> tuple[numpy.ndarray, ...]:
    """Float32 channels-last arrays normalized with the training rows' statistics; the training
    rows shuffled (seeded) first, since a dataset may come ordered by class, and ``test_limit``
    a seeded sample of the test rows for the same reason."""
    for name in ("train_limit", "test_limit"):
        limit = getattr(config, name)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"{name} must be a positive whole number of images, or null for all of them; got {limit!r}")
    x_train = splits.x_train if splits.x_train.ndim == 4 else splits.x_train[..., None]  # (N, H, W, C)
    x_test = splits.x_test if splits.x_test.ndim == 4 else splits.x_test[..., None]
    y_train, y_test = splits.y_train, splits.y_test
    if config.classes is not None or config.train_per_class is not None:
        classes = config.classes if config.classes is not None else sorted(set(y_train.tolist()))
        x_train, y_train = select_classes(x_train, y_train, classes, config.train_per_class)
        x_test, y_test = select_classes(x_test, y_test, classes)
    order = numpy.random.default_rng(config.seed).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    if config.train_limit is not None:
        x_train, y_train = x_train[:config.train_limit], y_train[:config.train_limit]
    if config.test_limit is not None and config.test_limit < len(x_test):  # a seeded sample in the original order: the test set too may come sorted by class
        kept = numpy.sort(numpy.random.default_rng(config.seed + 1).choice(len(x_test), config.test_limit, replace=False))
        x_test, y_test = x_test[kept], y_test[kept]
    if isinstance(config.validation, bool) or not isinstance(config.validation, int) or not 0 <= config.validation < len(x_train):
        raise ValueError(f"validation must be between 0 and {len(x_train) - 1} images (the training images), got {config.validation!r}")
    kept = len(x_train) - config.validation  # 0 held out: empty validation arrays
    mean, std = channel_statistics(x_train[:kept])

    def normalized(images: numpy.ndarray) -> numpy.ndarray:
        return ((images.astype(numpy.float32) / 255 - mean) / std).astype(numpy.float32)

    x_train = normalized(x_train)
    return x_train[:kept], y_train[:kept], x_train[kept:], y_train[kept:], normalized(x_test), y_test, mean, std


def class_names(splits: ImageSplits, config: ImageTrainingConfig) -> list[str]:
    """The name of each output of the network, in order (the dataset's label as text where it names none)."""
    labels = config.classes if config.classes is not None else sorted(set(splits.y_train.tolist()))
    return [splits.class_names[label] if splits.class_names else str(label) for label in labels]


def copy_all_but_last_layer(source: Module, target: Module) -> None:
    """Fine-tuning's start: ``target`` takes every weight and buffer of ``source`` except those of
    its last layer (the classifier, which stays freshly initialized); the two must share the rest."""
    last = f"{len(target) - 1}."
    state = {name: value for name, value in source.state_dict().items() if not name.startswith(last)}
    fresh = {name: value for name, value in target.state_dict().items() if name.startswith(last)}
    try:
        target.load_state_dict({**state, **fresh})
    except (KeyError, ValueError) as error:
        raise ValueError(f"init_from: the saved model does not match this config's network below its last layer ({error}); "
                         "use the same model, widths and image size as the run that saved it") from error


RUN_CONFIG = "training-config.json"  # the config a run directory was started with


def saved_run_config(output: str | Path) -> dict[str, Any] | None:
    """The config an earlier run in ``output`` was started with, or None."""
    path = Path(output) / RUN_CONFIG
    return read_json(path, "a smartmod image training run") if path.is_file() else None


def _claim_run_directory(output: Path, config: ImageTrainingConfig, resume: bool) -> None:
    """A fresh run refuses a directory holding another run's checkpoint (nothing written is
    lost); a resumed run must have the settings the run was started with."""
    checkpoint, settings = output / "checkpoint.npz", {key: value for key, value in asdict(config).items() if key != "progress"}
    if not resume:
        if checkpoint.exists():
            raise ValueError(f"{output} holds a run already ({checkpoint}): resume it, or give another output directory")
        output.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(output / RUN_CONFIG, json.dumps(settings, indent=2).encode("utf-8"))
        return
    if not checkpoint.exists():
        raise ValueError(f"nothing to resume in {output}: it holds no checkpoint.npz")
    started = saved_run_config(output) or settings
    changed = sorted(key for key in settings if started.get(key) != settings[key])
    if changed:
        raise ValueError(f"the run in {output} was started with other settings ({', '.join(f'{key}={started.get(key)!r}' for key in changed)}); "
                         "resume it with those, or start a new run in another directory")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(choice) for choice in choices)}, got {value!r}")


def _check_optimizer_settings(config: ImageTrainingConfig) -> None:
    _check_choice("optimizer", config.optimizer, ("sgd", "adam"))
    _check_choice("schedule", config.schedule, SCHEDULES)
    _check_choice("batchnorm_weights", config.batchnorm_weights, ("learned", "frozen"))
    check_range(momentum=config.momentum, high=1.0, include_high=False)
    check_range(batchnorm_bias_lr_scale=config.batchnorm_bias_lr_scale)
    if config.batchnorm_bias_lr_scale != 1 and config.optimizer != "sgd":
        raise ValueError(f"batchnorm_bias_lr_scale needs the sgd optimizer, got {config.optimizer!r}; set it to 1 or use sgd")


def build_optimizer(config: ImageTrainingConfig, model: Module, steps_per_epoch: int) -> tuple[Optimizer, LearningRateSchedule]:
    """The optimizer over the parameters the config trains, and its per-step schedule.

    ``batchnorm_weights="frozen"`` leaves every BatchNorm's γ where it starts, 1 unless
    ``init_from`` copied it (out of the optimizer);
    ``batchnorm_bias_lr_scale`` sets the BatchNorm biases' ``lr_scale`` (SGD only).
    """
    _check_optimizer_settings(config)
    frozen = set()
    for _, module in model.named_modules():
        if isinstance(module, BatchNorm) and module.affine:
            module.bias.lr_scale = float(config.batchnorm_bias_lr_scale)
            if config.batchnorm_weights == "frozen":
                frozen.add(id(module.weight))
    parameters = [parameter for parameter in model.parameters() if id(parameter) not in frozen]
    if config.optimizer == "sgd":
        optimizer: Optimizer = SGD(parameters, lr=config.lr, momentum=config.momentum, nesterov=config.momentum > 0,
                                   weight_decay=config.weight_decay)
    else:
        optimizer = Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    total_steps = steps_per_epoch * config.epochs
    warmup = min(int(config.warmup_epochs * steps_per_epoch), total_steps - 1)
    if config.schedule == "cosine":
        return optimizer, CosineWithWarmup(optimizer, warmup, total_steps)
    points = [(0, 0.2), (warmup, 1.0), (total_steps, 0.07)] if warmup > 0 else [(0, 1.0), (total_steps, 0.07)]
    return optimizer, PiecewiseLinear(optimizer, [step for step, _ in points], [factor for _, factor in points])


def train_image_classifier(config: ImageTrainingConfig, output: str | Path | None = None, resume: bool = False) -> dict[str, Any]:
    """Train, keep the best validation epoch, score the test set; returns the results.

    With ``output``, the training state is checkpointed to ``output/checkpoint.npz`` every epoch
    (and every 50 steps), ``resume=True`` continues an interrupted run from it, and the final
    model is saved to ``output/model`` with the results, classes and normalization as metadata.
    """
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    _check_optimizer_settings(config)
    if isinstance(config.test_time_shift, bool) or not isinstance(config.test_time_shift, int) or config.test_time_shift < 0:
        raise ValueError(f"test_time_shift must be a whole number of pixels, 0 or more, got {config.test_time_shift!r}")
    if isinstance(config.batchnorm_recalibration, bool) or not isinstance(config.batchnorm_recalibration, int) or config.batchnorm_recalibration < 0:
        raise ValueError(f"batchnorm_recalibration must be a whole number of training images, 0 (off) or more, got {config.batchnorm_recalibration!r}")
    if config.validation == 0 and config.patience is not None:
        raise ValueError("patience stops on validation accuracy, but validation is 0; hold out some training images or set patience to null")
    if output is not None:
        _claim_run_directory(Path(output), config, resume)
    splits = DATASETS[config.dataset]()
    x_train, y_train, x_val, y_val, x_test, y_test, mean, std = prepare_images(splits, config)
    classes = int(y_train.max()) + 1
    augment = Compose.from_config(config.augmentation if config.augmentation is not None else DEFAULT_AUGMENTATION[config.dataset])

    backend.seed(config.seed)
    model = build_image_model(config, x_train.shape[1:], classes)
    fit_patch_whitening(model, x_train)
    if config.init_from is not None:
        copy_all_but_last_layer(load_model(config.init_from), model)
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer, schedule = build_optimizer(config, model, steps_per_epoch)
    clock = _EpochClock(x_test, y_test)
    callbacks: list[Callback] = [LearningRateScheduler(schedule, interval="step"), clock]
    stopper = EarlyStopping("val_accuracy", mode="max", patience=config.patience or config.epochs + 1) if len(x_val) else None
    if stopper is not None:
        callbacks.append(stopper)
    if config.lookahead:
        callbacks.append(Lookahead(total_steps, every=5, start_step=min(3, config.epochs - 1) * steps_per_epoch, steps_per_epoch=steps_per_epoch))
    checkpoint = Path(output) / "checkpoint.npz" if output is not None else None
    trainer = Trainer(model, CrossEntropyLoss(label_smoothing=config.label_smoothing), optimizer, batch_size=config.batch_size,
                      metrics={"accuracy": accuracy}, callbacks=callbacks, checkpoint_path=checkpoint, checkpoint_every=50,
                      batch_transform=lambda batch: channels_first(augment(batch)), seed=config.seed, progress=config.progress)
    history = trainer.fit(x_train, y_train, epochs=config.epochs,
                          validation_data=(channels_first(x_val), y_val) if stopper is not None else None, resume=resume)
    if stopper is not None and stopper.best_weights:
        model.load_state_dict(stopper.best_weights)  # the best validation epoch, also when every epoch ran
    validation_accuracy = history.get("val_accuracy", [None] * len(history["loss"]))  # None without validation images
    if config.batchnorm_recalibration:
        recalibrate_batchnorm(model, channels_first(x_train[:config.batchnorm_recalibration]))
    test_logits = predict_augmented(model, channels_first(x_test), config.test_time_flip, config.test_time_shift)
    results = {
        "config": asdict(config),
        "classes": classes,
        "parameters": model.num_parameters(),
        "epochs_run": len(history["loss"]),
        "train_seconds": clock.seconds[-1] if clock.seconds else 0.0,
        "best_val_accuracy": max(history["val_accuracy"]) if stopper is not None else None,
        "test_accuracy": accuracy(test_logits, y_test),  # the best validation epoch's weights; the last epoch's without validation
        "test_time_flip": config.test_time_flip,
        "test_time_shift": config.test_time_shift,
        "epochs": [{"epoch": index + 1, "seconds": seconds, "loss": loss, "val_accuracy": val, "test_accuracy": test}
                   for index, (seconds, loss, val, test) in enumerate(zip(clock.seconds, history["loss"], validation_accuracy,
                                                                           clock.test_accuracy))],
        "normalization": {"mean": mean.tolist(), "std": std.tolist()},
        "image_shape": list(x_train.shape[1:]),  # (H, W, C) the network reads
        "class_names": class_names(splits, config),
    }
    if output is not None:
        save_model(model, Path(output) / "model", metadata=results)
    return results

