"""Assignment 4 grader with PyTorch on real MNIST: full marks for the reference, none for
the stub, and each seeded bug loses exactly the points of the criteria it breaks."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import (
    SHARED_DATA,
    build_submission,
    points_by_criterion,
    replace_once,
)

from graders.a4 import ASSIGNMENT as A4
from graders.core.checkpoint_scan import CheckpointProblem, check_state_dict_checkpoint
from graders.core.options import GradeOptions
from graders.core.results import Status
from graders.core.runner import grade

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra"),
    pytest.mark.skipif(
        not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data"
    ),
]

FULL = {"dataset": 2, "model": 2, "training_loop": 2, "evaluate": 1, "checkpoint": 2, "accuracy": 6}


def grade_a4(submission, spec=A4, **options):
    return grade(spec, submission, GradeOptions(data_dir=SHARED_DATA, download=False, **options))


def test_reference_trains_well_inside_the_budget(graded_course):
    result = graded_course("a4", "reference")
    assert points_by_criterion(result) == FULL, [c.reason for c in result.criteria]
    accuracy = next(c for c in result.criteria if c.id == "accuracy")
    assert "test accuracy 99." in accuracy.reason


def test_stub_says_what_is_not_implemented(graded_course):
    for criterion in graded_course("a4", "student_template").criteria:
        assert "is not implemented yet" in criterion.reason, criterion


SEEDED_BUGS = {
    "evaluate left in train mode": (
        replace_once("    model.eval()\n", "    model.train()\n"),
        {"evaluate": 0},
        "evaluate ran the model in training mode",
    ),
    "no zero_grad": (
        replace_once("        optimizer.zero_grad()\n", ""),
        {"training_loop": 0, "accuracy": 0},
        "vs the reference loop",
    ),
    "checkpoint drops the optimizer": (
        replace_once('        "optimizer": optimizer.state_dict(),\n', ""),
        {"checkpoint": 1},
        "load_checkpoint(path, model, optimizer) raised KeyError",
    ),
    "softmax before CrossEntropyLoss": (
        replace_once("        nn.Linear(128, NUM_CLASSES),", "        nn.Linear(128, NUM_CLASSES),\n        nn.Softmax(dim=1),"),
        # Training through a softmax still works here; the contract (logits) does not.
        {"model": 0},
        "the model outputs probabilities",
    ),
    "model over the parameter cap": (
        replace_once("nn.Linear(32 * 7 * 7, 128),\n        nn.ReLU(),\n        nn.Linear(128, NUM_CLASSES),",
                     "nn.Linear(32 * 7 * 7, 700),\n        nn.ReLU(),\n        nn.Linear(700, NUM_CLASSES),"),
        {"model": 0, "accuracy": 0},
        "1,000,000",
    ),
}  # fmt: skip


#: Everything but the full training run (about two minutes): what a seeded bug that does
#: not break the accuracy is graded on (the accuracy's both directions are the reference,
#: the stub and the bugs below that break it).
WITHOUT_TRAINING = tuple(c for c in FULL if c != "accuracy")


@pytest.mark.parametrize("name", list(SEEDED_BUGS))
def test_seeded_bug_loses_exactly_its_criteria(name, tmp_path):
    edit, broken, reason = SEEDED_BUGS[name]
    graded = tuple(FULL) if "accuracy" in broken else WITHOUT_TRAINING
    result = grade_a4(
        build_submission(tmp_path, assignment="a4", edits={"a4/pipeline.py": edit}), only=graded
    )
    expected = {**FULL, **broken} if "accuracy" in broken else {**FULL, "accuracy": 0, **broken}
    assert points_by_criterion(result) == expected, {c.id: c.reason for c in result.criteria}
    for criterion in [c for c in result.criteria if c.id in graded]:
        assert (criterion.status == Status.PASSED) == (criterion.id not in broken), criterion
    first = next(c for c in result.criteria if c.id == next(iter(broken)))
    assert reason in first.reason


def test_checkpoint_scan_accepts_state_dicts_and_names_pickled_objects(tmp_path):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    good, bad = tmp_path / "good.pt", tmp_path / "bad.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1}, good)
    torch.save({"model": model}, bad)
    check_state_dict_checkpoint(good.read_bytes())
    with pytest.raises(CheckpointProblem, match="torch.nn.modules.container.Sequential"):
        check_state_dict_checkpoint(bad.read_bytes())
    with pytest.raises(CheckpointProblem, match="not a zip archive"):
        check_state_dict_checkpoint(b"\x80\x04K\x01.")
