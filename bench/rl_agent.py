"""Assignment 5: the reference agent's training, its score, the calibration of the learning
criterion, and the time nngrade takes to grade the assignment.

Run, from the repository root (each step rewrites its own section of bench/RESULTS.md):

    python bench/rl_agent.py train --steps 300000 --seeds 0 1   # writes reference/a5/agent.pt
    python bench/rl_agent.py evaluate                             # the committed checkpoint
    python bench/rl_agent.py calibrate --seeds 0 1 2 3 4 5 6 7 8 9
    python bench/rl_agent.py grade

`train` trains one agent per seed with the reference's own train(), in parallel (one core
each), and keeps the one with the best mean on validation seeds that neither training nor
grading uses; `evaluate` scores it on the grader's 100 public evaluation seeds and on 100
further held-out seeds.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.a5 import episodes  # noqa: E402
from graders.a5 import grader as a5_grader  # noqa: E402

CHECKPOINT = REPO / "reference" / "a5" / "agent.pt"
VALIDATION_SEEDS = tuple(range(20_000, 20_100))  # choose between training runs
HELD_OUT_SEEDS = tuple(range(30_000, 30_100))  # never used for any choice


def reference_agent_module():
    sys.path.insert(0, str(REPO / "reference"))
    try:
        return importlib.import_module("a5.agent")
    finally:
        sys.path.remove(str(REPO / "reference"))


def greedy(agent) -> episodes.Policy:
    return lambda observations: np.array([agent.act(o) for o in observations], dtype=np.int64)


def _train_one(job: tuple[int, int]) -> tuple[int, float, str]:
    import torch

    torch.set_num_threads(1)
    seed, steps = job
    started = time.perf_counter()
    agent = reference_agent_module().train(total_steps=steps, seed=seed)
    elapsed = time.perf_counter() - started
    path = CHECKPOINT.with_name(f"agent-seed{seed}.pt.tmp")
    agent.save(path)
    return seed, elapsed, str(path)


def train(args: argparse.Namespace) -> None:
    with multiprocessing.get_context("spawn").Pool(len(args.seeds)) as pool:
        runs = pool.map(_train_one, [(seed, args.steps) for seed in args.seeds])
    keep_best(runs, args.steps)


def keep_best(runs: list[tuple[int, float, str]], steps: int) -> None:
    """Commit the run (seed, seconds, checkpoint) with the best validation mean."""
    module = reference_agent_module()
    rows, best = [], None
    for seed, elapsed, path in runs:
        score = episodes.play(greedy(module.Agent.load(path)), VALIDATION_SEEDS)
        rows.append(f"| {seed} | {steps:,} | {elapsed / 60:.1f} min | {score.summary()} |")
        if best is None or score.mean > best[0]:
            best = (score.mean, seed, path)
    Path(best[2]).replace(CHECKPOINT)
    for _, _, path in runs:
        Path(path).unlink(missing_ok=True)
    body = (
        f"The reference's own `train()` (Double DQN, see `reference/a5/agent.py`), one run per "
        f"seed in parallel, one core each; the run with the best greedy mean on validation "
        f"seeds {VALIDATION_SEEDS[0]}..{VALIDATION_SEEDS[-1]} is committed as "
        f"`reference/a5/agent.pt` (seed {best[1]}, {CHECKPOINT.stat().st_size / 1024:.0f} KiB).\n\n"
        "| seed | environment steps | wall time | validation (100 episodes) |\n|---|---|---|---|\n"
        + "\n".join(rows)
    )
    write_section("bench/rl_agent.py train", body)
    print(body)


def evaluate(args: argparse.Namespace) -> None:
    agent = reference_agent_module().Agent.load(CHECKPOINT)
    rows = []
    for name, seeds in (
        ("the grader's public evaluation seeds 0..99", a5_grader.PUBLIC_EVALUATION_SEEDS),
        (f"held-out seeds {HELD_OUT_SEEDS[0]}..{HELD_OUT_SEEDS[-1]}", HELD_OUT_SEEDS),
    ):
        started = time.perf_counter()
        score = episodes.play(greedy(agent), seeds)
        elapsed = time.perf_counter() - started
        rows.append(
            f"| {name} | {score.mean:.1f} | {score.std:.1f} | {score.returns.min():.1f} | "
            f"{score.solved_share:.0%} | {elapsed:.1f} s |"
        )
    body = (
        "The committed `reference/a5/agent.pt`, greedy, one episode per seed, played in-process.\n\n"
        "| seeds | mean | std | worst | episodes >= 200 | time |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
    )
    write_section("bench/rl_agent.py evaluate", body)
    print(body)


def _learning_trial(seed: int) -> tuple[int, float, float, float]:
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    agent = reference_agent_module().train(total_steps=a5_grader.LEARNING_STEPS, seed=seed)
    elapsed = time.perf_counter() - started
    seeds = a5_grader.PUBLIC_LEARNING_SEEDS
    trained = episodes.play(greedy(agent), seeds).mean
    random = episodes.play(episodes.random_policy(seed), seeds).mean
    return seed, elapsed, trained, random


def calibrate(args: argparse.Namespace) -> None:
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        trials = pool.map(_learning_trial, args.seeds)
    margin = a5_grader.LEARNING_MARGIN
    passed = [t for t in trials if t[2] >= t[3] + margin]
    rows = [
        f"| {seed} | {elapsed:.0f} s | {trained:.1f} | {random:.1f} | {trained - random:+.1f} | "
        f"{'pass' if trained >= random + margin else 'FAIL'} |"
        for seed, elapsed, trained, random in trials
    ]
    body = (
        f"The learning criterion on the reference: `train(total_steps={a5_grader.LEARNING_STEPS:,}, "
        f"seed=s)`, then {a5_grader.LEARNING_EPISODES} greedy episodes on the public learning "
        f"seeds against a random policy on the same episodes; it passes when the trained mean "
        f"beats the random mean by {margin:.0f}. One core per run.\n\n"
        f"**Pass rate: {len(passed)}/{len(trials)}**; smallest improvement "
        f"{min(t[2] - t[3] for t in trials):+.1f}, median training time "
        f"{statistics.median(t[1] for t in trials):.0f} s (budget "
        f"{a5_grader_budget('learn'):.0f} s).\n\n"
        "| training seed | training time | trained mean | random mean | improvement | result |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("bench/rl_agent.py calibrate", body)
    print(body)


def a5_grader_budget(name: str) -> float:
    from graders.a5 import ASSIGNMENT

    return ASSIGNMENT.budgets[name]


def grade_time(args: argparse.Namespace) -> None:
    from graders.a5 import ASSIGNMENT
    from graders.core.options import GradeOptions
    from graders.core.runner import grade

    rows = []
    for name in ("reference", "student_template"):
        started = time.perf_counter()
        result = grade(ASSIGNMENT, REPO / name, GradeOptions())
        elapsed = time.perf_counter() - started
        per = ", ".join(f"{c.id} {c.duration_s:.1f} s" for c in result.criteria)
        rows.append(
            f"| {name} | {elapsed:.1f} s | {result.points:g}/{result.max_points:g} | {per} |"
        )
    body = (
        "Grading assignment 5 end to end with nngrade (sandboxed worker, default confinement).\n\n"
        "| submission | total | points | per criterion |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("bench/rl_agent.py grade", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    train_parser = steps.add_parser("train")
    train_parser.add_argument("--steps", type=int, default=300_000)
    train_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    steps.add_parser("evaluate")
    calibrate_parser = steps.add_parser("calibrate")
    calibrate_parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    calibrate_parser.add_argument("--jobs", type=int, default=2)
    steps.add_parser("grade")
    args = parser.parse_args()
    {"train": train, "evaluate": evaluate, "calibrate": calibrate, "grade": grade_time}[args.step](
        args
    )


if __name__ == "__main__":
    main()
