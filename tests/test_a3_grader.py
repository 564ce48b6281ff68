"""Assignment 3 grader on real MNIST: full marks for the reference with each option, none
for the stub, and each seeded bug loses exactly the points of the criteria it breaks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    A3_SMALLER_NETWORK,
    SHARED_DATA,
    build_submission,
    points_by_criterion,
    replace_once,
)

from graders.a3 import ASSIGNMENT as A3
from graders.core.options import GradeOptions
from graders.core.results import AssignmentResult, Status
from graders.core.runner import grade

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data"
)

FULL = {
    "forward": 1, "backprop.small": 8, "backprop.real": 7, "batched.mean_of_samples": 2,
    "batched.no_sample_loop": 2, "accuracy": 5, "option": 5,
}  # fmt: skip


def grade_a3(submission, spec=A3, **options):
    return grade(spec, submission, GradeOptions(data_dir=SHARED_DATA, download=False, **options))


def a3_submission(tmp_path, *edits):
    def apply(text: str) -> str:
        for edit in edits:
            text = edit(text)
        return text

    return build_submission(tmp_path, assignment="a3", edits={"a3/mlp.py": apply})


def edited_a3(tmp_path, *edits):
    """The reference with ``edits``, on the smaller network (the tests of a seeded bug or
    of a loop judge the edit; the reference as it is gets full marks at 98% above)."""
    return a3_submission(tmp_path, A3_SMALLER_NETWORK, *edits)


def option(name: str):
    return replace_once('OPTION = "dropout"', f'OPTION = "{name}"')


@pytest.mark.parametrize("chosen", ["dropout", "l2", "scheduler"])
def test_reference_gets_full_marks_with_every_option(chosen, tmp_path, graded_course):
    if chosen == "dropout":  # the reference as it is
        result = graded_course("a3", "reference")
    else:
        result = grade_a3(a3_submission(tmp_path, option(chosen)))
    assert points_by_criterion(result) == FULL, [
        c.reason for c in result.criteria if c.status != Status.PASSED
    ]
    accuracy = next(c for c in result.criteria if c.id == "accuracy")
    assert "test accuracy 98." in accuracy.reason


def test_stub_says_what_is_not_implemented(graded_course):
    for criterion in graded_course("a3", "student_template").criteria:
        assert "is not implemented yet" in criterion.reason, criterion


SEEDED_BUGS = {
    # Every dW transposed: each weight tensor fails, the biases pass; training crashes.
    "transposed weight gradients": (
        [replace_once('grads[f"dW{i}"] = cache["inputs"][i - 1].T @ delta',
                      'grads[f"dW{i}"] = (cache["inputs"][i - 1].T @ delta).T')],
        {"backprop.small": 4, "backprop.real": 3.5, "batched.mean_of_samples": 0, "accuracy": 0, "option": 3.33},
    ),
    # Gradients N times too large: every finite-difference check fails, and so does the
    # batch-versus-mean check; training with a 128x step does not reach 90%.
    "missing 1/N": (
        [replace_once("delta = (P - Y) / len(P)", "delta = P - Y")],
        {"backprop.small": 0, "backprop.real": 0, "batched.mean_of_samples": 0, "accuracy": 0},
    ),
    # A predict that ignores the network: its own check (in forward) fails; the accuracy is
    # the trained parameters' (the grader's forward), so it keeps its points.
    "predict ignores the parameters": (
        [replace_once("    P, _ = forward(params, X, train=False)\n    return np.argmax(P, axis=1)",
                      "    return np.zeros(len(X), dtype=np.int64)\n    return np.argmax(None, axis=1)")],
        {"forward": 0},
    ),
    # Random masks at evaluation: forward no longer matches and eval is not deterministic;
    # backward is exact for the (masked) forward it was given, so backprop keeps its points;
    # one batch and its single samples draw different masks.
    "dropout active at evaluation": (
        [replace_once('dropout = train and OPTION == "dropout"', 'dropout = OPTION == "dropout"')],
        {"forward": 0, "batched.mean_of_samples": 0, "option": 3.33},
    ),
    "accidental import torch": (
        [replace_once("import numpy as np\n", "import numpy as np\n\ntry:\n    import torch  # noqa: F401\nexcept ImportError:\n    pass\n")],
        {key: 0 for key in FULL},
    ),
    # With a visible lambda (1e-3), every bias gradient is off by lambda * b.
    "L2 on the biases too": (
        [option("l2"), replace_once("L2_LAMBDA = 1e-4", "L2_LAMBDA = 1e-3"), replace_once('            grads[f"dW{i}"] += L2_LAMBDA * params[f"W{i}"]\n',
                                    '            grads[f"dW{i}"] += L2_LAMBDA * params[f"W{i}"]\n'
                                    '            grads[f"db{i}"] = grads[f"db{i}"] + L2_LAMBDA * params[f"b{i}"]\n')],
        {"backprop.small": 4, "backprop.real": 3.5, "option": 2.5},
    ),
    # A backprop bug under the L2 option costs backprop (layer 1's tensors) and, as
    # training follows the wrong gradient, accuracy; what L2 adds is still right.
    "missing activation derivative (with L2)": (
        [option("l2"), replace_once("L2_LAMBDA = 1e-4", "L2_LAMBDA = 1e-3"),
         replace_once('            delta = delta * _activation_slope(cache["activations"][i - 2])\n', "")],
        {"backprop.small": 3.2, "backprop.real": 3.5, "accuracy": 0},
    ),
    # A leaky ReLU under ACTIVATION = "relu" with an exactly matching backward: only the
    # forward criterion judges the forward; backprop matches the student's own forward.
    "leaky relu forward with a consistent backward": (
        [replace_once("        return np.maximum(z, 0)\n", "        return np.where(z > 0, z, 0.01 * z)\n"),
         replace_once("        return (a > 0).astype(a.dtype)\n", "        return np.where(a > 0, 1.0, 0.01).astype(a.dtype)\n")],
        {"forward": 0},
    ),
    "scheduler reduces one step late": (
        [option("scheduler"), replace_once("if self.steps_without_improvement == self.patience:",
                                           "if self.steps_without_improvement > self.patience:")],
        {"option": 2.5},
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def graded_bug(tmp_path_factory) -> Callable[[str], AssignmentResult]:
    """``graded_bug(name)``: that seeded bug graded once, for every test that reads it."""
    results: dict[str, AssignmentResult] = {}

    def graded(name: str) -> AssignmentResult:
        if name not in results:
            edits, _ = SEEDED_BUGS[name]
            results[name] = grade_a3(edited_a3(tmp_path_factory.mktemp("a3-bug"), *edits))
        return results[name]

    return graded


@pytest.mark.parametrize("name", list(SEEDED_BUGS))
def test_seeded_bug_loses_exactly_its_criteria(name, graded_bug):
    _, broken = SEEDED_BUGS[name]
    result = graded_bug(name)
    assert points_by_criterion(result) == {**FULL, **broken}, {
        c.id: c.reason for c in result.criteria
    }
    for criterion in result.criteria:
        assert (criterion.status == Status.PASSED) == (criterion.id not in broken), criterion
        if criterion.id in broken:
            assert criterion.reason


def test_backprop_reason_names_each_tensor(graded_bug):
    result = graded_bug("L2 on the biases too")
    reason = next(c.reason for c in result.criteria if c.id == "backprop.small")
    assert "5-4-3: dW1 correct, db1 wrong" in reason and "dW2 correct, db2 wrong" in reason


def test_a_python_loop_over_samples_is_detected(tmp_path):
    loop = replace_once(
        '        grads[f"db{i}"] = delta.sum(axis=0)\n',
        '        grads[f"db{i}"] = sum(delta[n] for n in range(len(delta)))\n',
    )
    result = grade_a3(edited_a3(tmp_path, loop))
    assert points_by_criterion(result) == {**FULL, "batched.no_sample_loop": 0}
    reason = next(c.reason for c in result.criteria if c.id == "batched.no_sample_loop")
    assert reason.startswith("forward/backward loops over samples in Python")


def test_a_python_loop_over_samples_in_train_is_detected_and_named(tmp_path):
    loop = replace_once(
        "            P, cache = forward(params, X[batch], train=True, rng=rng)\n",
        "            P, cache = forward(params, X[batch], train=True, rng=rng)\n"
        "            for i in range(len(batch)):  # the running loss, sample by sample\n"
        "                _sample_loss = -np.log(P[i, y[batch[i]]] + 1e-12)\n",
    )
    result = grade_a3(edited_a3(tmp_path, loop))
    assert points_by_criterion(result) == {**FULL, "batched.no_sample_loop": 0}
    reason = next(c.reason for c in result.criteria if c.id == "batched.no_sample_loop")
    assert reason.startswith("train loops over samples in Python at a3/mlp.py:"), reason


def test_a_train_that_ignores_batch_size_is_told_so_not_of_a_loop(tmp_path):
    """A default argument instead of BATCH_SIZE: more batches in the large short run, which
    the reason explains by the constant (as in assignment 2), not by a loop over samples."""
    default = replace_once(
        "    seed: int = 0,\n) -> tuple[Params",
        "    seed: int = 0,\n    batch_size: int = 128,\n) -> tuple[Params",
    )
    ignore = replace_once(
        "range(0, len(X), BATCH_SIZE):\n            batch = order[start : start + BATCH_SIZE]",
        "range(0, len(X), batch_size):\n            batch = order[start : start + batch_size]",
    )
    result = grade_a3(a3_submission(tmp_path, default, ignore), only=("batched.no_sample_loop",))
    vectorized = next(c for c in result.criteria if c.id == "batched.no_sample_loop")
    assert vectorized.points == 0
    assert vectorized.reason.startswith(
        "train ignores BATCH_SIZE (it ran the same number of lines of your code with "
        "BATCH_SIZE 10 and 20): "
    ), vectorized.reason
    assert "loops over samples" not in vectorized.reason


def test_training_over_the_budget_gets_no_accuracy_and_no_history(tmp_path):
    spec = dataclasses.replace(A3, budgets={**A3.budgets, "train": 2.0})
    result = grade_a3(a3_submission(tmp_path, option("scheduler")), spec)
    assert points_by_criterion(result) == {**FULL, "accuracy": 0, "option": 2.5}
    reason = next(c.reason for c in result.criteria if c.id == "accuracy")
    assert reason == "train used more than 4 CPU seconds, its budget (it was stopped)"


def test_a_correct_training_keeps_its_budget_beside_busy_cores(tmp_path):
    """A correct solution in another style (its own loops over layers and epochs) trains in
    about 9 CPU seconds alone; beside two CPU hogs, numpy's second BLAS thread used to make
    that 260 s of spinning while it waited. Under a budget of 15 s (30 CPU s on the promised
    cores) it keeps every point beside the hogs, and the record says what it used."""
    from helpers import busy_cores

    style = (Path(__file__).with_name("similarity_solutions") / "a3_loops.py").read_text()
    spec = dataclasses.replace(A3, budgets={**A3.budgets, "train": 15.0})
    submission = a3_submission(tmp_path, lambda _text: style)
    with busy_cores(2):
        busy = grade_a3(submission, spec)
    assert points_by_criterion(busy) == FULL, busy.criteria
    assert 0 < busy.budget_cpu_s["numpy"] < 30


def test_malformed_history_is_explained(tmp_path):
    def rename_key(text: str) -> str:
        assert '"val_accuracy":' in text
        return text.replace('"val_accuracy":', '"validation_accuracy":')

    result = grade_a3(edited_a3(tmp_path, rename_key))
    reason = next(c.reason for c in result.criteria if c.id == "accuracy")
    assert "expected exactly the keys ['lr', 'train_loss', 'val_accuracy']" in reason
