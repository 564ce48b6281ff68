"""The course's five lab assignments, and the graders available for them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from graders.core.assignment import AssignmentSpec


@dataclass(frozen=True)
class CourseAssignment:
    key: str
    number: int
    title: str
    points: int
    week: int
    rules: str


COURSE: tuple[CourseAssignment, ...] = (
    CourseAssignment("a1", 1, "Linear systems with and without numpy", 10, 3,
                     "pure.py: standard library only; vectorized.py: numpy, no ML framework"),
    CourseAssignment("a2", 2, "Softmax perceptron on MNIST", 15, 4,
                     "numpy only, no machine-learning framework"),
    CourseAssignment("a3", 3, "MLP with backpropagation on MNIST", 30, 7,
                     "numpy only, no machine-learning framework"),
    CourseAssignment("a4", 4, "A PyTorch pipeline on MNIST", 15, 10,
                     "PyTorch (torchvision allowed)"),
    CourseAssignment("a5", 5, "A deep RL agent that lands LunarLander", 30, 13,
                     "PyTorch + gymnasium, no reinforcement-learning library"),
)  # fmt: skip

KEYS = tuple(a.key for a in COURSE)


class UnknownAssignment(KeyError):
    pass


def course_assignment(key: str) -> CourseAssignment:
    for assignment in COURSE:
        if assignment.key == key:
            return assignment
    raise UnknownAssignment(key)


def grader_spec(key: str) -> AssignmentSpec | None:
    """The grader's specification of assignment ``key``, or None when none is available yet."""
    course_assignment(key)
    try:
        module = importlib.import_module(f"graders.{key}")
    except ModuleNotFoundError as exc:
        if exc.name in (f"graders.{key}",):
            return None
        raise
    return module.ASSIGNMENT
