"""Assignment 2 (15 points, week 4): a softmax perceptron on MNIST, numpy only."""

from graders.kit import (
    NO_ML_FRAMEWORKS,
    NUMPY_THREADS,
    AssignmentSpec,
    Limits,
    RulePolicy,
    SandboxSpec,
)

ASSIGNMENT = AssignmentSpec(
    key="a2",
    title="Softmax perceptron on MNIST",
    points=15,
    week=4,
    required_files=("a2/perceptron.py",),
    sandboxes=(SandboxSpec("numpy", (NO_ML_FRAMEWORKS,), libraries=("numpy",)),),
    policies=(RulePolicy(NO_ML_FRAMEWORKS, files=("a2/*.py", "a2/**/*.py")),),
    # At its peak a grading of the reference holds 828 MiB, grader and workers
    # together (bench/grader_memory.py); --jobs auto counts 1.25 GiB per job.
    job_memory_bytes=5 * 2**28,
    grader_module="graders.a2.grader",
    secret_inputs=True,
    limits=Limits(
        memory_bytes=6 * 2**30, cpu_seconds=900, call_timeout_s=30, threads=NUMPY_THREADS
    ),
    submission_timeout_s=600,
    rules="numpy only, no machine-learning framework",
    uses_mnist=True,
    budgets={"train": 120.0},
)
