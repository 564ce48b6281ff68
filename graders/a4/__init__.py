"""Assignment 4 (15 points, week 10): a PyTorch pipeline on MNIST."""

from graders.core.assignment import AssignmentSpec, SandboxSpec
from graders.sandbox.client import Limits

ASSIGNMENT = AssignmentSpec(
    key="a4",
    number=4,
    title="A PyTorch pipeline on MNIST",
    points=15,
    week=10,
    summary="Dataset, CNN, training loop, evaluation and checkpoints in PyTorch; a CNN "
    "that reaches 98% test accuracy within 5 minutes on 2 CPU cores.",
    required_files=("a4/pipeline.py",),
    sandboxes=(SandboxSpec("torch", (), libraries=("torch", "torchvision")),),
    policies=(),
    grader_module="graders.a4.grader",
    worker_modules=("graders.a4.probes", "graders.a4.models"),
    # Importing torch alone reserves about 3.5 GiB of address space.
    limits=Limits(memory_bytes=12 * 2**30, cpu_seconds=1500, call_timeout_s=60),
    submission_timeout_s=900,
    rules_text="PyTorch (torchvision allowed)",
    uses_mnist=True,
    budgets={"train": 300.0},
    requires=("torch",),
    extra="torch",
)
