"""The image-classifier recipe: it learns, resumes exactly, builds every model, rejects bad configs."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy
import pytest

from smartmod.nn.layers.conv import channels_first
from smartmod.nn.layers.normalization import BatchNorm, recalibrate_batchnorm
from smartmod.nn.serialize import load_model
from smartmod.nn.train import Trainer
from smartmod.nn.train import predict
from smartmod.vision.training import (
    DATASETS,
    MODELS,
    ImageTrainingConfig,
    accuracy,
    build_image_model,
    build_optimizer,
    fit_patch_whitening,
    predict_augmented,
    prepare_images,
    train_image_classifier,
)
from smartmod.vision.datasets import ImageSplits
from tests.conftest import require_data

TINY = dict(dataset="mnist", model="small-cnn", widths=[8, 16, 32], epochs=2, batch_size=32, train_limit=1500, validation=300,
            test_limit=300, optimizer="adam", lr=5e-3, warmup_epochs=0.1, augmentation=[], progress=False)
# For tests of the machinery rather than of learning: 10 steps an epoch.
SMALLER = {**TINY, "widths": [4, 8], "train_limit": 500, "validation": 100, "batch_size": 40}


@pytest.fixture(autouse=True)
def mnist_present():
    require_data("images/mnist/mnist.npz")


def test_a_small_cnn_learns_mnist_digits_in_two_short_epochs(tmp_path):
    results = train_image_classifier(ImageTrainingConfig(**TINY), output=tmp_path)
    assert results["best_val_accuracy"] >= 0.85, results["epochs"]  # chance is 0.1
    assert [epoch["epoch"] for epoch in results["epochs"]] == [1, 2]
    assert 0 < results["epochs"][0]["seconds"] < results["epochs"][1]["seconds"] == results["train_seconds"]
    saved = load_model(tmp_path / "model")
    assert saved.num_parameters() == results["parameters"]


def test_an_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path, monkeypatch):
    # Lookahead's slow weights (from step 42 on) are part of the state the checkpoint of step 50 must bring back
    # and the airbench optimizer settings: SGD without BatchNorm weights, biases on a larger step, the triangle schedule
    config = ImageTrainingConfig(**{**SMALLER, "batch_size": 30, "epochs": 4, "lookahead": True,
                                    "augmentation": [{"name": "random_crop", "padding": 2}, {"name": "cutout", "size": 6}],
                                    "optimizer": "sgd", "lr": 0.05, "momentum": 0.85, "schedule": "triangle", "warmup_epochs": 1,
                                    "batchnorm_weights": "frozen", "batchnorm_bias_lr_scale": 4.0})
    expected = train_image_classifier(config, output=tmp_path / "whole")
    original_step = Trainer.train_step
    calls = {"count": 0}

    def crash_on_step_53(self, x, y):  # 14 steps an epoch: resumes mid-epoch 4, from the checkpoint of step 50
        calls["count"] += 1
        if calls["count"] == 53:
            raise KeyboardInterrupt
        return original_step(self, x, y)

    monkeypatch.setattr(Trainer, "train_step", crash_on_step_53)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        train_image_classifier(config, output=tmp_path / "cut")
    monkeypatch.setattr(Trainer, "train_step", original_step)
    resumed = train_image_classifier(config, output=tmp_path / "cut", resume=True)
    assert resumed["train_seconds"] <= time.perf_counter() - start  # the clock counts training time, across the interruption
    assert [epoch["val_accuracy"] for epoch in resumed["epochs"]] == [epoch["val_accuracy"] for epoch in expected["epochs"]]
    whole, cut = load_model(tmp_path / "whole" / "model").state_dict(), load_model(tmp_path / "cut" / "model").state_dict()
    for name in whole:
        numpy.testing.assert_array_equal(whole[name], cut[name], err_msg=name)


def test_test_time_flip_scores_the_test_set_with_each_image_and_its_mirror_averaged(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "epochs": 1, "test_time_flip": True})
    results = train_image_classifier(config, output=tmp_path)
    model = load_model(tmp_path / "model")
    x_test, y_test = prepare_images(DATASETS["mnist"](), config)[4:6]
    logits, mirrored = predict(model, channels_first(x_test)), predict(model, channels_first(x_test[:, :, ::-1]))
    assert not numpy.allclose(logits, mirrored)  # digits are not symmetric: the two passes differ
    assert numpy.allclose(predict_augmented(model, channels_first(x_test)), (logits + mirrored) / 2, atol=1e-6)
    assert results["test_time_flip"] and results["test_accuracy"] == accuracy((logits + mirrored) / 2, y_test)


def test_test_time_shift_gives_half_the_weight_to_two_shifted_copies_with_reflected_edges():
    model = build_image_model(ImageTrainingConfig(**SMALLER), (28, 28, 1), classes=10).eval()
    images = channels_first(numpy.random.default_rng(0).normal(size=(3, 28, 28, 1)).astype(numpy.float32))
    padded = numpy.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    up_left, down_right = padded[:, :, :28, :28], padded[:, :, 4:, 4:]
    assert numpy.array_equal(up_left[:, :, 2:, 2:], images[:, :, :26, :26]) and numpy.array_equal(down_right[:, :, :26, :26], images[:, :, 2:, 2:])
    expected = (predict(model, images) + (predict(model, up_left) + predict(model, down_right)) / 2) / 2
    assert numpy.allclose(predict_augmented(model, images, flip=False, shift=2), expected, atol=1e-6)
    flipped = predict_augmented(model, images, flip=True, shift=2)
    mirrored = [predict_augmented(model, view[..., ::-1].copy(), flip=False) for view in (images, up_left, down_right)]
    assert numpy.allclose(flipped, (expected + (mirrored[0] + (mirrored[1] + mirrored[2]) / 2) / 2) / 2, atol=1e-6)


def test_airbench_settings_freeze_batchnorm_weights_speed_up_its_biases_and_shape_the_schedule():
    config = ImageTrainingConfig(**{**SMALLER, "optimizer": "sgd", "lr": 0.1, "momentum": 0.85, "schedule": "triangle", "warmup_epochs": 2,
                                    "epochs": 10, "batchnorm_weights": "frozen", "batchnorm_bias_lr_scale": 64.0, "batchnorm_momentum": 0.4})
    model = build_image_model(config, (28, 28, 1), classes=10)
    assert {module.momentum for _, module in model.named_modules() if isinstance(module, BatchNorm)} == {0.4}
    optimizer, schedule = build_optimizer(config, model, steps_per_epoch=10)
    norms = [module for _, module in model.named_modules() if isinstance(module, BatchNorm)]
    trained = {id(parameter) for parameter in optimizer.parameters}
    assert norms and not any(id(norm.weight) in trained for norm in norms) and all(id(norm.bias) in trained for norm in norms)
    assert len(trained) == len(model.parameters()) - len(norms)
    assert {norm.bias.lr_scale for norm in norms} == {64.0} and {p.lr_scale for p in optimizer.parameters if p not in [n.bias for n in norms]} == {1.0}
    assert optimizer.momentum == 0.85 and optimizer.nesterov
    rates = [optimizer.lr]
    for _ in range(100):
        schedule.step()
        rates.append(optimizer.lr)
    assert rates[0] == pytest.approx(0.02) and rates[20] == pytest.approx(0.1) and rates[100] == pytest.approx(0.007)
    assert max(rates) == rates[20]
    learned = build_optimizer(ImageTrainingConfig(**{**SMALLER, "optimizer": "sgd"}), build_image_model(config, (28, 28, 1), 10), 10)[0]
    assert len(learned.parameters) == len(model.parameters())


def test_frozen_batchnorm_weights_stay_at_one_through_training(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "optimizer": "sgd", "lr": 0.05, "epochs": 1, "batchnorm_weights": "frozen",
                                    "batchnorm_bias_lr_scale": 8.0, "schedule": "triangle"})
    train_image_classifier(config, output=tmp_path)
    model = load_model(tmp_path / "model")
    norms = [module for _, module in model.named_modules() if isinstance(module, BatchNorm)]
    assert all(numpy.all(norm.weight.data == 1) for norm in norms)
    assert any(numpy.abs(norm.bias.data).max() > 0 for norm in norms)


def test_without_validation_images_every_training_image_is_used_and_the_last_epoch_kept(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "validation": 0, "epochs": 2})
    results = train_image_classifier(config, output=tmp_path)
    x_train, _, x_val, _, x_test, y_test = prepare_images(DATASETS["mnist"](), config)[:6]
    assert len(x_train) == SMALLER["train_limit"] and len(x_val) == 0
    assert results["best_val_accuracy"] is None and [epoch["val_accuracy"] for epoch in results["epochs"]] == [None, None]
    model = load_model(tmp_path / "model")
    assert results["test_accuracy"] == results["epochs"][-1]["test_accuracy"] == accuracy(predict(model, channels_first(x_test)), y_test)


def test_batchnorm_recalibration_leaves_statistics_of_the_final_weights(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "epochs": 1, "batchnorm_recalibration": 200})
    results = train_image_classifier(config, output=tmp_path)
    model = load_model(tmp_path / "model")
    saved = [(norm.running_mean.copy(), norm.running_var.copy()) for _, norm in model.named_modules() if isinstance(norm, BatchNorm)]
    x_train, _, _, _, x_test, y_test = prepare_images(DATASETS["mnist"](), config)[:6]
    assert recalibrate_batchnorm(model, channels_first(x_train[:200])) == len(saved) > 0
    for (mean, var), norm in zip(saved, [norm for _, norm in model.named_modules() if isinstance(norm, BatchNorm)]):
        numpy.testing.assert_allclose(norm.running_mean, mean, rtol=1e-5, atol=1e-6)
        numpy.testing.assert_allclose(norm.running_var, var, rtol=1e-5, atol=1e-6)
    assert results["test_accuracy"] == accuracy(predict(model, channels_first(x_test)), y_test)


def test_test_limit_is_a_seeded_sample_of_every_class_in_the_original_order():
    labels = numpy.repeat(numpy.arange(10), 100)  # sorted by class, as the CIFAR-10 files are
    images = numpy.arange(1000, dtype=numpy.uint8).repeat(4).reshape(1000, 2, 2)
    splits = ImageSplits(images, labels, images, labels)
    config = ImageTrainingConfig(**{**SMALLER, "train_limit": None, "validation": 100, "test_limit": 200})
    first = prepare_images(splits, config)[5]
    assert len(first) == 200 and len(set(first.tolist())) == 10 and numpy.all(numpy.diff(first) >= 0)
    numpy.testing.assert_array_equal(first, prepare_images(splits, config)[5])


def test_a_whitening_stem_is_fitted_to_the_training_images_and_saved_with_the_model(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "model": "fast-resnet", "fast_resnet_stem": "whitening", "fast_resnet_widths": [8, 4, 8],
                                    "epochs": 1, "test_time_shift": 1})
    results = train_image_classifier(config, output=tmp_path)
    model = load_model(tmp_path / "model")
    x_train, _, _, _, x_test, y_test = prepare_images(DATASETS["mnist"](), config)[:6]
    fitted = build_image_model(config, (28, 28, 1), classes=10)
    fit_patch_whitening(fitted, x_train)
    assert numpy.abs(model[0].weight).max() > 0 and numpy.allclose(model[0].weight, fitted[0].weight, atol=1e-6)
    logits = predict_augmented(model, channels_first(x_test), flip=False, shift=1)
    assert results["test_time_shift"] == 1 and results["test_accuracy"] == accuracy(logits, y_test)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_maps_images_to_class_logits(model):
    config = ImageTrainingConfig(model=model, widths=[4, 8], resnet_width=4, vit_dim=16, vit_depth=1, vit_heads=2, vit_patch=8)
    network = build_image_model(config, (32, 32, 3), classes=10)
    images = numpy.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(numpy.float32)
    assert network.forward(channels_first(images)).shape == (2, 10)


@pytest.mark.parametrize("changes, message", [
    ({"dataset": "cifar"}, "unknown dataset 'cifar'"),
    ({"model": "resnet21"}, "unknown model 'resnet21'"),
    ({"model": "small-cnn", "attention": "se"}, "applies to the ResNets only"),
    ({"optimizer": "lbfgs"}, "optimizer must be"),
    ({"test_time_shift": -1}, "test_time_shift must be a whole number of pixels, 0 or more, got -1"),
    ({"test_time_shift": 1.5}, "test_time_shift must be a whole number"),
    ({"model": "fast-resnet", "fast_resnet_stem": "whitening"}, "widths\\[0\\] must be 8"),
    ({"validation": 5000}, "validation must be between 0 and 1499"),
    ({"validation": -1}, "validation must be between 0 and 1499"),
    ({"validation": 0, "patience": 2}, "patience stops on validation accuracy, but validation is 0"),
    ({"augmentation": [{"name": "flip"}]}, "unknown name 'flip'"),
    ({"batchnorm_momentum": 0.0}, "batchnorm_momentum must be above 0"),
    ({"batchnorm_momentum": 1.5}, r"batchnorm_momentum must be in \[0.0, 1.0\]"),
    ({"batchnorm_recalibration": -5}, "batchnorm_recalibration must be a whole number of training images, 0 \\(off\\) or more"),
    ({"schedule": "linear"}, "schedule must be one of 'cosine', 'triangle', got 'linear'"),
    ({"batchnorm_weights": "fixed"}, "batchnorm_weights must be one of 'learned', 'frozen'"),
    ({"momentum": 1.0}, r"momentum must be in \[0.0, 1.0\)"),
    ({"batchnorm_bias_lr_scale": -1.0}, "batchnorm_bias_lr_scale must be >= 0"),
    ({"optimizer": "adam", "batchnorm_bias_lr_scale": 64.0}, "batchnorm_bias_lr_scale needs the sgd optimizer"),
    ({"test_limit": 0}, "test_limit must be a positive whole number of images"),
    ({"train_limit": 10.5}, "train_limit must be a positive whole number"),
])
def test_bad_configs_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        train_image_classifier(ImageTrainingConfig(**{**TINY, **changes}))


def test_the_cli_trains_from_a_config_file_with_options_overriding_it(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**SMALLER, "epochs": 5, "progress": True}))
    output = tmp_path / "run"
    command = [sys.executable, "-m", "smartmod.cli", "train", "images", "--config", str(config), "--epochs", "1", "--output", str(output), "--no-progress"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["epochs_run"] == 1 and summary["dataset"] == "mnist"
    assert json.loads((output / "results.json").read_text())["config"]["epochs"] == 1
    bad = subprocess.run([*command[:5], "--config", str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_a_run_directory_is_never_overwritten_and_resumes_only_with_its_own_settings(tmp_path):
    config = ImageTrainingConfig(**{**SMALLER, "epochs": 1})
    train_image_classifier(config, output=tmp_path)
    with pytest.raises(ValueError, match="holds a run already"):
        train_image_classifier(config, output=tmp_path)
    with pytest.raises(ValueError, match=r"started with other settings \(lr=0.005\)"):
        train_image_classifier(ImageTrainingConfig(**{**SMALLER, "epochs": 1, "lr": 0.1}), output=tmp_path, resume=True)
    with pytest.raises(ValueError, match="nothing to resume"):
        train_image_classifier(config, output=tmp_path / "empty", resume=True)
    command = [sys.executable, "-m", "smartmod.cli", "train", "images", "--output", str(tmp_path), "--resume", "--no-progress"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)  # --resume alone: the saved settings
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["dataset"] == "mnist"


def test_channel_statistics_hold_over_tens_of_millions_of_values():
    """46 million values a channel, as CIFAR-10's training images: a float32 mean over the image
    axes stalls there (it gave 0.364 for every channel); the integers' own sums are the reference."""
    from smartmod.vision.training import channel_statistics

    rng = numpy.random.default_rng(0)
    images = numpy.empty((45_000, 32, 32, 2), dtype=numpy.uint8)
    images[..., 0] = 200
    images[..., 1] = rng.integers(0, 256, size=images.shape[:3], dtype=numpy.uint8)
    mean, std = channel_statistics(images)
    values = images[..., 1].astype(numpy.int64)
    count = values.size
    expected_mean = values.sum() / count / 255
    expected_std = numpy.sqrt((values ** 2).sum() / count / 255 ** 2 - expected_mean ** 2)
    numpy.testing.assert_allclose(mean, [200 / 255, expected_mean], rtol=1e-6)
    numpy.testing.assert_allclose(std, [1e-6, expected_std + 1e-6], rtol=1e-5, atol=1e-6)
    assert mean.dtype == std.dtype == numpy.float32


def test_channel_statistics_of_a_small_batch_match_numpy_in_float64():
    from smartmod.vision.training import channel_statistics

    images = numpy.random.default_rng(1).integers(0, 256, size=(5, 3, 4, 3), dtype=numpy.uint8)
    scaled = images.astype(numpy.float64) / 255
    mean, std = channel_statistics(images, chunk=2)
    numpy.testing.assert_allclose(mean, scaled.mean(axis=(0, 1, 2)), rtol=1e-6)
    numpy.testing.assert_allclose(std, scaled.std(axis=(0, 1, 2)) + 1e-6, rtol=1e-5)
