"""Assignment 1 (10 points, week 3): linear systems with and without numpy."""

from graders.kit import (
    NO_ML_FRAMEWORKS,
    NUMPY_THREADS,
    STDLIB_ONLY,
    AssignmentSpec,
    Limits,
    RulePolicy,
    SandboxSpec,
)

ASSIGNMENT = AssignmentSpec(
    key="a1",
    title="Linear systems with and without numpy",
    points=10,
    week=3,
    required_files=("a1/pure.py", "a1/vectorized.py"),
    sandboxes=(
        # numpy's first: its criteria run first (run_first), and its worker starts ahead.
        SandboxSpec("vectorized", (NO_ML_FRAMEWORKS,), libraries=("numpy",)),
        SandboxSpec("pure", (STDLIB_ONLY, NO_ML_FRAMEWORKS), libraries=()),
    ),
    policies=(
        RulePolicy(STDLIB_ONLY, files=("a1/pure.py",), criteria=("pure.*", "agreement")),
        RulePolicy(NO_ML_FRAMEWORKS, files=("a1/*.py", "a1/**/*.py")),
    ),
    # At its peak a grading of the reference holds 85 MiB, grader and workers
    # together (bench/grader_memory.py); --jobs auto counts 256 MiB per job.
    job_memory_bytes=2**28,
    grader_module="graders.a1.grader",
    secret_inputs=True,
    # numpy's criteria, then the agreement (numpy's answers, then pure Python's), then pure
    # Python's on the worker the agreement left running: two workers start instead of three.
    run_first=("vectorized.load_system", "vectorized.basic_ops", "vectorized.solvers", "agreement"),
    limits=Limits(
        memory_bytes=2 * 2**30, cpu_seconds=120, call_timeout_s=20, threads=NUMPY_THREADS
    ),
    submission_timeout_s=300,
    rules="pure.py: Python standard library only; vectorized.py: numpy, "
    "no machine-learning framework",
)
