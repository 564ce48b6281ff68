"""Assignment 4 (15 points, week 10): a PyTorch pipeline on MNIST."""

from graders.kit import AssignmentSpec, Limits, SandboxSpec

ASSIGNMENT = AssignmentSpec(
    key="a4",
    title="A PyTorch pipeline on MNIST",
    points=15,
    week=10,
    required_files=("a4/pipeline.py",),
    sandboxes=(SandboxSpec("torch", (), libraries=("torch", "torchvision")),),
    policies=(),
    # At its peak a grading of the reference holds 1649 MiB, grader and workers
    # together (bench/grader_memory.py); --jobs auto counts 2.5 GiB per job.
    job_memory_bytes=5 * 2**29,
    grader_module="graders.a4.grader",
    secret_inputs=True,
    worker_modules=("graders.a4.probes", "graders.a4.models"),
    # Importing torch alone reserves about 3.5 GiB of address space.
    limits=Limits(memory_bytes=12 * 2**30, cpu_seconds=1500, call_timeout_s=60),
    submission_timeout_s=900,
    rules="PyTorch (torchvision allowed)",
    uses_mnist=True,
    budgets={"train": 300.0},
    requires=("torch",),
    extra="torch",
)
