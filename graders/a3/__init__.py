"""Assignment 3 (30 points, week 7): an MLP with backpropagation on MNIST, numpy only."""

from graders.kit import (
    NO_ML_FRAMEWORKS,
    NUMPY_THREADS,
    AssignmentSpec,
    Limits,
    RulePolicy,
    SandboxSpec,
)

ASSIGNMENT = AssignmentSpec(
    key="a3",
    title="MLP with backpropagation on MNIST",
    points=30,
    week=7,
    required_files=("a3/mlp.py",),
    sandboxes=(SandboxSpec("numpy", (NO_ML_FRAMEWORKS,), libraries=("numpy",)),),
    policies=(RulePolicy(NO_ML_FRAMEWORKS, files=("a3/*.py", "a3/**/*.py")),),
    # Measured (bench/class_throughput.py): two a3 gradings at once on 2 cores took 0.89x
    # the speed of one after the other, so one grading keeps the machine busy.
    cores_per_job=2.0,
    # At its peak a grading of the reference holds 807 MiB, grader and workers
    # together (bench/grader_memory.py); --jobs auto counts 1.25 GiB per job.
    job_memory_bytes=5 * 2**28,
    grader_module="graders.a3.grader",
    secret_inputs=True,
    worker_modules=("graders.a3.probes",),
    limits=Limits(
        memory_bytes=6 * 2**30, cpu_seconds=1500, call_timeout_s=30, threads=NUMPY_THREADS
    ),
    submission_timeout_s=900,
    rules="numpy only, no machine-learning framework",
    uses_mnist=True,
    budgets={"train": 300.0, "epoch": 60.0},
)
