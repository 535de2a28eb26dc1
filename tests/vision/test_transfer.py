"""Transfer learning: class subsets, fine-tuning's weight copy, feature extraction."""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn.layers.conv import channels_first
from smartmod.vision.training import ImageTrainingConfig, build_image_model, copy_all_but_last_layer, select_classes, train_image_classifier
from smartmod.vision.transfer import extract_features, train_feature_classifier
from tests.conftest import require_data

SMALL = dict(dataset="mnist", model="small-cnn", widths=[4, 8], epochs=2, batch_size=40, validation=100, test_limit=None,
             optimizer="adam", lr=5e-3, warmup_epochs=0.1, augmentation=[], progress=False)


def test_select_classes_keeps_the_first_images_of_each_class_and_renumbers_them():
    labels = numpy.array([3, 1, 3, 2, 1, 3])
    images = numpy.arange(6)
    kept_images, kept_labels = select_classes(images, labels, [3, 1], per_class=2)
    assert kept_images.tolist() == [0, 1, 2, 4] and kept_labels.tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="classes must be distinct labels"):
        select_classes(images, labels, [3, 7])


def test_fine_tuning_copies_every_weight_but_the_classifier():
    config = ImageTrainingConfig(widths=[4, 8])
    source, target = build_image_model(config, (16, 16, 3), 10), build_image_model(config, (16, 16, 3), 5)
    before = target.state_dict()
    copy_all_but_last_layer(source, target)
    after, original = target.state_dict(), source.state_dict()
    last = f"{len(target) - 1}."
    for name in after:
        expected = before[name] if name.startswith(last) else original[name]
        numpy.testing.assert_array_equal(after[name], expected, err_msg=name)
    with pytest.raises(ValueError, match="does not match this config's network"):
        copy_all_but_last_layer(build_image_model(ImageTrainingConfig(widths=[4, 16]), (16, 16, 3), 10), target)


def test_the_feature_classifier_needs_validation_images(tmp_path):
    with pytest.raises(ValueError, match="hold out some training images"):
        train_feature_classifier(ImageTrainingConfig(**{**SMALL, "validation": 0}), pretrained=str(tmp_path / "never-read"))


def test_features_are_the_input_of_the_last_layer():
    network = build_image_model(ImageTrainingConfig(widths=[4, 8]), (16, 16, 3), 10)
    images = numpy.random.default_rng(0).normal(size=(3, 16, 16, 3)).astype(numpy.float32)
    features = extract_features(network, images)
    network.eval()
    numpy.testing.assert_allclose(network[-1].forward(features), network.forward(channels_first(images)), rtol=1e-5, atol=1e-6)


def test_features_pretrained_on_digits_0_to_4_classify_digits_5_to_9(tmp_path):
    require_data("images/mnist/mnist.npz")
    source = {**SMALL, "widths": [8, 16]}
    train_image_classifier(ImageTrainingConfig(**source, classes=[0, 1, 2, 3, 4], train_per_class=220), output=tmp_path)
    target = ImageTrainingConfig(**{**source, "epochs": 8, "lr": 0.05, "test_limit": 1000}, classes=[5, 6, 7, 8, 9], train_per_class=100)
    results = train_feature_classifier(target, str(tmp_path / "model"))
    assert results["features"] == 16 and len(results["epochs"]) == 8
    assert results["test_accuracy"] >= 0.4, results  # twice chance (0.2), from 16 features of a tiny network
