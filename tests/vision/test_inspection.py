"""smartmod inspect-image: a trained classifier's prediction for an image file and the pictures of why."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy
import pytest
from PIL import Image

from smartmod.vision.inspection import inspect_image
from smartmod.vision.training import ImageTrainingConfig, train_image_classifier
from tests.conftest import require_data


@pytest.fixture(scope="module")
def digit_model(tmp_path_factory):
    require_data("images/mnist/mnist.npz")
    output = tmp_path_factory.mktemp("mnist")
    config = ImageTrainingConfig(dataset="mnist", widths=[4, 8], epochs=1, batch_size=40, train_limit=500, validation=100, test_limit=100,
                                 optimizer="adam", lr=5e-3, augmentation=[], progress=False)
    train_image_classifier(config, output=output)
    return output / "model"


@pytest.fixture
def digit_file(tmp_path):
    pixels = numpy.zeros((40, 40, 3), numpy.uint8)
    pixels[8:32, 18:22] = 255  # a thick "1", larger than 28×28 and in colour: resized and turned grey
    path = tmp_path / "digit.png"
    Image.fromarray(pixels).save(path)
    return path


def test_inspect_image_predicts_and_writes_every_picture(digit_model, digit_file, tmp_path):
    result = inspect_image(digit_model, digit_file, tmp_path / "out")
    probabilities = result["probabilities"]
    assert list(probabilities) == [str(digit) for digit in range(10)]
    assert abs(sum(probabilities.values()) - 1) < 1e-5
    assert result["prediction"] == result["explained_class"] == max(probabilities, key=probabilities.get)
    for name in ("gradcam", "saliency", "filters", "feature_maps"):
        with Image.open(result["files"][name]) as picture:
            assert picture.format == "PNG" and min(picture.size) >= 28, name


def test_the_cli_explains_a_chosen_class_and_rejects_one_the_model_lacks(digit_model, digit_file, tmp_path):
    command = [sys.executable, "-m", "smartmod.cli", "inspect-image", str(digit_model), str(digit_file), "--output", str(tmp_path)]
    finished = subprocess.run([*command, "--target-class", "3"], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["explained_class"] == "3"
    refused = subprocess.run([*command, "--target-class", "10"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "class 10 does not exist" in refused.stderr


def test_a_file_that_is_no_image_is_a_clear_error(digit_model, tmp_path):
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png is not an image file"):
        inspect_image(digit_model, bogus, tmp_path / "out")
