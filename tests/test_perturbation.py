"""The seeded perturbation of the public test images: look-ups fail, honest models don't."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
from helpers import REFERENCE, SHARED_DATA

from graders.batch.run import BatchOptions, evaluation_set_note
from graders.core.options import GradeOptions
from graders.data.mnist import load_mnist, to_features
from graders.data.perturb import PUBLIC_SEED, perturb, seed_from


def test_every_image_changes_by_one_grey_level_on_a_few_pixels():
    images, _ = load_mnist("test", SHARED_DATA, download=False)
    changed = perturb(images, PUBLIC_SEED)
    difference = changed.astype(np.int16) - images.astype(np.int16)
    assert changed.dtype == np.uint8 and changed.shape == images.shape
    per_image = np.count_nonzero(difference.reshape(len(images), -1), axis=1)
    assert per_image.min() == per_image.max() == 4
    assert np.abs(difference).max() == 1
    assert np.array_equal(changed, perturb(images, PUBLIC_SEED))  # same seed, same images
    assert not np.array_equal(changed, perturb(images, PUBLIC_SEED + 1))


def test_a_table_of_the_public_test_images_finds_none_and_honest_accuracy_stays():
    images, labels = load_mnist("train", SHARED_DATA, download=False)
    test_images, test_labels = load_mnist("test", SHARED_DATA, download=False)
    changed = perturb(test_images, PUBLIC_SEED)
    table = {hashlib.sha256(image.tobytes()).digest(): label
             for image, label in zip(test_images, test_labels, strict=True)}  # fmt: skip
    assert sum(hashlib.sha256(image.tobytes()).digest() in table for image in changed) == 0
    sys.path.insert(0, str(REFERENCE))
    try:
        from a2 import perceptron
    finally:
        sys.path.remove(str(REFERENCE))
    W, b = perceptron.train(to_features(images), labels, seed=0)
    public = np.mean(perceptron.predict(to_features(test_images), W, b) == test_labels)
    scored = np.mean(perceptron.predict(to_features(changed), W, b) == test_labels)
    assert abs(public - scored) <= 0.001


def test_the_seed_is_secret_only_when_the_instructor_gives_one(tmp_path):
    assert seed_from({}) == (PUBLIC_SEED, False)
    assert seed_from({"mnist": {"perturbation_seed": 42}}) == (42, True)
    options = BatchOptions(("a2",), tmp_path, tmp_path / "out")
    assert "students can memorise it" in evaluation_set_note(options, {})
    assert "secret" in evaluation_set_note(options, {"mnist": {"perturbation_seed": 42}})
    held_out = BatchOptions(
        ("a3",), tmp_path, tmp_path / "out", grading=GradeOptions(eval_set=(Path("i"), Path("l")))
    )
    assert "held-out" in evaluation_set_note(held_out, {})
    assert evaluation_set_note(BatchOptions(("a1",), tmp_path, tmp_path / "out"), {}) == ""
