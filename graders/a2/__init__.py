"""Assignment 2 (15 points, week 4): a softmax perceptron on MNIST, numpy only."""

from graders.core.assignment import AssignmentSpec, RulePolicy, SandboxSpec
from graders.sandbox.client import Limits
from graders.sandbox.inside.rules import NO_ML_FRAMEWORKS

ASSIGNMENT = AssignmentSpec(
    key="a2",
    number=2,
    title="Softmax perceptron on MNIST",
    points=15,
    week=4,
    summary="Softmax, cross-entropy, gradients and mini-batch training of a one-layer "
    "classifier on MNIST, plus the metrics of lecture 1.",
    required_files=("a2/perceptron.py",),
    sandboxes=(SandboxSpec("numpy", (NO_ML_FRAMEWORKS,), libraries=("numpy",)),),
    policies=(RulePolicy(NO_ML_FRAMEWORKS, files=("a2/*.py", "a2/**/*.py")),),
    grader_module="graders.a2.grader",
    limits=Limits(memory_bytes=6 * 2**30, cpu_seconds=900, call_timeout_s=30),
    submission_timeout_s=600,
    rules_text="numpy only, no machine-learning framework",
    uses_mnist=True,
    budgets={"train": 120.0},
)
