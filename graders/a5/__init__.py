"""Assignment 5 (30 points, week 13): a deep RL agent that lands LunarLander."""

from graders.kit import NO_RL_LIBRARIES, AssignmentSpec, Limits, RulePolicy, SandboxSpec

ASSIGNMENT = AssignmentSpec(
    key="a5",
    title="A deep RL agent that lands LunarLander",
    points=30,
    week=13,
    required_files=("a5/agent.py", "a5/agent.pt"),
    sandboxes=(SandboxSpec("rl", (NO_RL_LIBRARIES,), libraries=("torch", "gymnasium[box2d]")),),
    policies=(RulePolicy(NO_RL_LIBRARIES, files=("a5/*.py", "a5/**/*.py")),),
    # At its peak a grading of the reference holds 816 MiB, grader and workers
    # together (bench/grader_memory.py); --jobs auto counts 1.25 GiB per job.
    job_memory_bytes=5 * 2**28,
    grader_module="graders.a5.grader",
    worker_modules=("graders.a5.probes",),
    # Importing torch alone reserves about 3.5 GiB of address space.
    # One torch thread: a DQN's layers are too small to split, and a second thread costs a
    # wake-up on every operation (the reference's training: 0.8x the wall time and CPU
    # seconds with one thread; bench/threads.py). Budgets still count 2 cores.
    limits=Limits(memory_bytes=12 * 2**30, cpu_seconds=2400, call_timeout_s=60, threads=1),
    submission_timeout_s=1200,
    rules="PyTorch + gymnasium, no reinforcement-learning library",
    # "learn": the wall-clock limit of the short retraining run; "evaluate": the limit of
    # the 100 evaluation episodes of the shipped agent (it only chooses actions).
    budgets={"learn": 300.0, "evaluate": 300.0},
    requires=("torch", "gymnasium", "Box2D"),
    extra="rl",
)
