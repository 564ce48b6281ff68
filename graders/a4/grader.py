"""Grader of assignment 4: a PyTorch pipeline on MNIST (a4/pipeline.py).

The student's objects live only in the worker; probes run them on networks and data the
grader defines and send back arrays. Expected values are computed here, in the grader
process, with the same networks and weights. The test labels never enter the worker.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from graders.a4 import models
from graders.kit import (
    CheckpointProblem,
    Credit,
    CriterionFailed,
    GradingContext,
    Sandbox,
    StudentCodeError,
    check_state_dict_checkpoint,
    criterion,
    expect,
)

PROBES = "graders.a4.probes"
MAX_PARAMETERS = 1_000_000
ACCURACY_TIERS = [(0.98, 1.0), (0.975, 4 / 6), (0.97, 0.5), (0.95, 0.25)]


@pytest.fixture
def sandbox(grading: GradingContext) -> Sandbox:
    return grading.sandbox("torch")


@pytest.fixture
def sample(grading: GradingContext, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A handful of training images and labels for the contract checks: fixed by the
    criterion's seed, or drawn for the student from the course's secret seed."""
    images, labels = grading.mnist("train")
    chosen = rng.choice(len(labels), size=64, replace=False)
    return images[chosen], labels[chosen]


def _dict(answer: object, what: str) -> dict:
    if not isinstance(answer, dict):
        raise CriterionFailed(f"{what} gave {expect.describe(answer)}")
    return answer


def _require_small_module(found: dict, returned: str, has: str) -> None:
    """The probe saw an nn.Module within the parameter cap (model contract and training)."""
    if not found["is_module"]:
        raise CriterionFailed(f"{returned} a {found.get('type')}; expected a torch.nn.Module")
    if found["parameters"] > MAX_PARAMETERS:
        raise CriterionFailed(
            f"{has} {found['parameters']:,} parameters; the limit is {MAX_PARAMETERS:,}"
        )


@criterion("dataset", 2, "MNISTDataset: items, types, scaling and transform")
def test_dataset(sandbox: Sandbox, sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    indices = [0, 7, len(labels) - 1]
    found = _dict(
        sandbox.call(f"{PROBES}:dataset_items", (images, labels, indices), label="MNISTDataset"),
        "MNISTDataset",
    )
    if not found["is_dataset"]:
        raise CriterionFailed("MNISTDataset must subclass torch.utils.data.Dataset")
    if found["length"] != len(labels):
        raise CriterionFailed(f"len(MNISTDataset) is {found['length']} for {len(labels)} images")
    for index, item in zip(indices, found["items"], strict=True):
        if item["x_type"] != "Tensor" or item["x_dtype"] != "torch.float32":
            raise CriterionFailed(
                f"item {index}: x is a {item['x_type']} of dtype {item['x_dtype']!r}; expected a float32 tensor"
            )
        expected = images[index].astype(np.float32)[None] / 255.0
        x = expect.array(item["x"], (1, 28, 28), f"item {index}'s x", numpy_only=True)
        expect.close(x, expected, f"item {index}'s x (pixels divided by 255)", rtol=1e-6, atol=1e-6)
        if item["y_type"] != "int" or item["y"] != int(labels[index]):
            raise CriterionFailed(
                f"item {index}: y is a {item['y_type']} ({item['y']!r}); expected the int {int(labels[index])}"
            )
        shifted = expect.array(
            item["x_transformed"], (1, 28, 28), f"item {index} with a transform", numpy_only=True
        )
        expect.close(
            shifted,
            expected * 2 - 1,
            f"item {index} with the transform x * 2 - 1 (applied after scaling)",
            rtol=1e-6,
            atol=1e-6,
        )


@criterion("model", 2, "build_model: logits of shape (N, 10), at most 1,000,000 parameters")
def test_model(sandbox: Sandbox, sample: tuple[np.ndarray, np.ndarray]) -> None:
    batch = (sample[0][:8].astype(np.float32) / 255.0)[:, None]
    found = _dict(
        sandbox.call(f"{PROBES}:model_contract", (batch,), label="build_model"), "build_model"
    )
    _require_small_module(found, "build_model returned", "the model has")
    output = expect.array(
        found["output"], (8, 10), "the model's output for 8 images", numpy_only=True
    )
    if not np.all(np.isfinite(output)):
        raise CriterionFailed("the model's output contains NaN or inf")
    if np.all(output >= 0) and np.allclose(output.sum(axis=1), 1.0, atol=1e-4):
        raise CriterionFailed(
            "the model outputs probabilities (rows sum to 1); return logits: CrossEntropyLoss applies log-softmax itself"
        )


def _reference_epoch(
    state: dict, images: np.ndarray, labels: np.ndarray, batch_size: int, lr: float
) -> tuple[float, dict]:
    """The textbook loop, in the grader process, on the same network and weights."""
    model = models.build("loop", state)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = models.tensors(images, labels)
    total = 0.0
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    return total / len(x), models.state_of(model)


@criterion(
    "training_loop", 2, "train_one_epoch: the reference update, and overfitting a small batch"
)
def test_training_loop(
    sandbox: Sandbox, sample: tuple[np.ndarray, np.ndarray], credit: Credit, seed: int
) -> None:
    images, labels = sample
    state = models.state_of(models.build("loop", seed=seed))
    credit.parts(("one epoch equals the reference loop", "a small batch can be overfit"))
    with credit.check("one epoch equals the reference loop"):
        answer = sandbox.call(
            f"{PROBES}:one_epoch", (state, images, labels, 16, 0.05), label="train_one_epoch"
        )
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise CriterionFailed(f"train_one_epoch probe gave {expect.describe(answer)}")
        expected_loss, expected_state = _reference_epoch(state, images, labels, 16, 0.05)
        loss, got_state = answer
        for name, value in expected_state.items():
            got = expect.array(
                got_state.get(name),
                value.shape,
                f"parameter {name} after one epoch",
                numpy_only=True,
            )
            expect.close(
                got,
                value,
                f"parameter {name} after one epoch of 4 batches (SGD, momentum 0.9) vs the reference loop (zero_grad, cross-entropy on logits, backward, step)",
                rtol=1e-4,
                atol=1e-5,
            )
        expect.close(
            expect.number(loss, "train_one_epoch"),
            expected_loss,
            "train_one_epoch's returned mean loss per sample",
            rtol=1e-4,
        )
    with credit.check("a small batch can be overfit"):
        losses = sandbox.call(
            f"{PROBES}:overfit", (state, images[:32], labels[:32], 8, 40), label="train_one_epoch"
        )
        if not isinstance(losses, list) or len(losses) != 40:
            raise CriterionFailed(f"overfitting probe gave {expect.describe(losses)}")
        if not (losses[-1] < 0.05 and losses[-1] < losses[0] / 10):
            raise CriterionFailed(
                f"40 epochs on 32 images with Adam should drive the loss to ~0; it went from {losses[0]:.3f} to {losses[-1]:.3f}"
            )


@criterion("evaluate", 1, "evaluate: eval mode, no gradients, mean loss and accuracy")
def test_evaluate(sandbox: Sandbox, sample: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    images, labels = sample
    state = models.state_of(models.build("dropout", seed=seed))
    found = _dict(
        sandbox.call(f"{PROBES}:evaluate", (state, images, labels, 16), label="evaluate"),
        "evaluate",
    )
    model = models.build("dropout", state).eval()
    x, y = models.tensors(images, labels)
    with torch.no_grad():
        logits = model(x)
    expected_loss = float(torch.nn.functional.cross_entropy(logits, y))
    expected_accuracy = float((logits.argmax(dim=1) == y).float().mean())
    if any(found["training_mode"]):
        raise CriterionFailed(
            "evaluate ran the model in training mode (dropout active); call model.eval() first"
        )
    if any(found["grad_enabled"]) or found["grads_left"]:
        raise CriterionFailed("evaluate tracked gradients; wrap it in torch.no_grad()")
    expect.close(
        expect.number(found["loss"], "evaluate's loss"),
        expected_loss,
        "evaluate's mean loss per sample",
        rtol=1e-4,
    )
    expect.close(
        expect.number(found["accuracy"], "evaluate's accuracy"),
        expected_accuracy,
        "evaluate's accuracy (a fraction in [0, 1])",
        rtol=1e-6,
    )


@criterion("checkpoint", 2, "save_checkpoint / load_checkpoint: weights only, full resume")
def test_checkpoint(
    sandbox: Sandbox, sample: tuple[np.ndarray, np.ndarray], credit: Credit, seed: int
) -> None:
    images, labels = sample
    state = models.state_of(models.build("loop", seed=seed))
    found = _dict(
        sandbox.call(
            f"{PROBES}:checkpoint_round_trip",
            (state, images[:32], labels[:32], 7),
            label="save_checkpoint",
        ),
        "the checkpoint round trip",
    )
    credit.parts(("loads with weights_only=True", "restores model and optimizer"))
    with credit.check("loads with weights_only=True"):
        if not isinstance(found.get("file"), bytes):
            raise CriterionFailed("save_checkpoint wrote no file")
        try:
            check_state_dict_checkpoint(found["file"])
        except CheckpointProblem as problem:
            raise CriterionFailed(
                f"the checkpoint does not load with weights_only=True: {problem}"
            ) from None
    with credit.check("restores model and optimizer"):
        if "load_error" in found:
            raise CriterionFailed(
                f"load_checkpoint(path, model, optimizer) raised {found['load_error']}"
            )
        if "model_only_error" in found:
            raise CriterionFailed(
                f"load_checkpoint(path, model) without an optimizer raised {found['model_only_error']}"
            )
        if found["epoch"] != 7:
            raise CriterionFailed(
                f"load_checkpoint returned {found['epoch']!r}; expected the saved epoch 7"
            )
        for name, value in found["saved_model"].items():
            expect.close(
                found["loaded_model"].get(name),
                value,
                f"model parameter {name} after load_checkpoint",
            )
            expect.close(
                found["model_only"].get(name),
                value,
                f"model parameter {name} after load_checkpoint without an optimizer",
            )
        saved, loaded = found["saved_optimizer"], found["loaded_optimizer"]
        if not saved or set(loaded) != set(saved):
            raise CriterionFailed(
                "load_checkpoint did not restore the optimizer state (Adam's moments): resuming would restart them from zero"
            )
        for index, moments in saved.items():
            for key, value in moments.items():
                expect.close(
                    loaded[index].get(key),
                    value,
                    f"optimizer state {key} of parameter {index} after load_checkpoint",
                )


@criterion("accuracy", 6, "train within 5 minutes: test accuracy")
def test_accuracy(sandbox: Sandbox, grading: GradingContext, credit: Credit, seed: int) -> None:
    images, labels = grading.mnist("train")
    test_images, test_labels = grading.mnist("test")
    # A model over the cap cannot earn these points: say so before minutes of training.
    batch = (images[:8].astype(np.float32) / 255.0)[:, None]
    try:
        built = sandbox.call(f"{PROBES}:model_contract", (batch,), label="build_model")
    except StudentCodeError:
        built = None  # judged by the model criterion; train may still train
    if isinstance(built, dict) and built.get("is_module"):
        _require_small_module(
            built, "build_model returned", "build_model's model (not trained) has"
        )
    budget = grading.assignment.budgets["train"]
    found = _dict(
        sandbox.call(
            f"{PROBES}:train_and_predict",
            (images, labels, test_images, seed),
            budget_s=budget,
            label="train",
        ),
        "train",
    )
    _require_small_module(found, "train returned", "the trained model has")
    predicted = expect.array(
        found["predictions"], test_labels.shape, "the trained model's predictions", numpy_only=True
    )
    accuracy = float(np.mean(predicted == test_labels))
    credit.tiered(accuracy, ACCURACY_TIERS, f"test accuracy {accuracy:.2%} (full credit from 98%)")
