"""What one question to student code costs: a round trip per call (``Sandbox.call``) against
one batch (``Sandbox.map``), on a1's real questions (the agreement's 320 per module: eight
functions of the 40 public systems), under each strong confinement layer; and what a
worker's start and stop cost, which every sandbox's turn pays once.

    python bench/call_cost.py [--rounds 5] [--no-write] [--before CHECKOUT]

``--before CHECKOUT`` adds a column: the same questions one by one with the graders of
another checkout (a worktree of the commit before batches, whose arrays crossed as .npy
files), measured in a process of its own. Each figure is the median over ``--rounds`` of the wall time of all the questions, divided
by their number; the reference solution answers them (its own work is a small part).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
#: ``--graders CHECKOUT``: measure with that checkout's graders, print JSON (for --before).
GRADERS = sys.argv[sys.argv.index("--graders") + 1] if "--graders" in sys.argv else None
sys.path.insert(0, GRADERS or str(REPO))

import numpy as np  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.a1 import ASSIGNMENT  # noqa: E402
from graders.a1.grader import _system_text  # noqa: E402
from graders.core.context import GradingContext  # noqa: E402
from graders.core.submission import stage  # noqa: E402
from graders.sandbox import confinement  # noqa: E402
from graders.sandbox.sandbox import Sandbox  # noqa: E402

AGREEMENT_FUNCTIONS = (
    "load_system", "determinant", "trace", "norm", "transpose", "multiply", "solve_cramer",
    "solve_inverse",
)  # fmt: skip
#: The 40 public systems as they are now stored (an older checkout drew the same kind).
SYSTEMS = [
    (entry["A"], entry["B"])
    for entry in json.loads((REPO / "graders" / "a1" / "agreement_systems.json").read_text())
]


class Call(NamedTuple):
    target: str
    args: tuple


def questions(sandbox: Sandbox, module: str, as_arrays: bool) -> list[Call]:
    """The agreement's questions to ``module``, as the grader asks them."""
    calls = []
    for index, (A, B) in enumerate(SYSTEMS):
        floats_A = [[float(v) for v in row] for row in A]
        floats_B = [float(v) for v in B]
        matrix, vector = (
            (np.array(floats_A), np.array(floats_B)) if as_arrays else (floats_A, floats_B)
        )
        path = sandbox.put_file(f"inputs/random_{index}.txt", _system_text(list(A), list(B)))
        arguments = {
            "load_system": (path,), "determinant": (matrix,), "trace": (matrix,),
            "norm": (vector,), "transpose": (matrix,), "multiply": (matrix, vector),
            "solve_cramer": (matrix, vector), "solve_inverse": (matrix, vector),
        }  # fmt: skip
        calls += [Call(f"{module}:{name}", arguments[name]) for name in AGREEMENT_FUNCTIONS]
    return calls


def per_question(sandbox: Sandbox, calls: list[Call], rounds: int) -> tuple[float, float]:
    """Median seconds per question: one call at a time, then in one batch (NaN where the
    graders measured have no batches)."""
    for call in calls[:8]:  # the worker is started and the module imported
        sandbox.call(call.target, call.args)
    one_by_one, batched = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for call in calls:
            sandbox.call(call.target, call.args)
        one_by_one.append((time.perf_counter() - started) / len(calls))
        if hasattr(sandbox, "map"):
            from graders.sandbox.sandbox import Call as Question

            batch = [Question(call.target, call.args) for call in calls]
            started = time.perf_counter()
            answers = sandbox.map(batch)
            batched.append((time.perf_counter() - started) / len(calls))
            assert all(answer.ok for answer in answers)
    return statistics.median(one_by_one), statistics.median(batched or [math.nan])


def start_and_stop(sandbox: Sandbox, call: Call, rounds: int) -> tuple[float, float]:
    """Median seconds of a worker's start (to its first answer's readiness) and stop."""
    starts, stops = [], []
    for _ in range(rounds * 2):
        started = time.perf_counter()
        sandbox.suspend()
        stops.append(time.perf_counter() - started)
        started = time.perf_counter()
        sandbox._ensure_worker()
        starts.append(time.perf_counter() - started)
        sandbox.call(call.target, call.args)
    return statistics.median(starts), statistics.median(stops)


def measure(layer: str, rounds: int) -> list[tuple[str, str, float, float, float, float]]:
    staged = stage(REPO / "reference", ASSIGNMENT)
    context = GradingContext(ASSIGNMENT, staged, confinement.select(layer))
    rows = []
    try:
        for name, as_arrays in (("pure", False), ("vectorized", True)):
            sandbox = context.sandbox(name)
            calls = questions(sandbox, f"a1.{name}", as_arrays)
            single, batched = per_question(sandbox, calls, rounds)
            start, stop = start_and_stop(sandbox, calls[1], rounds)
            rows.append((layer, name, single, batched, start, stop))
            print(
                f"{layer:10} {name:10} {single * 1e3:.3f} ms/question one by one, "
                f"{batched * 1e3:.3f} batched; worker start {start * 1e3:.0f} ms, "
                f"stop {stop * 1e3:.0f} ms",
                flush=True,
            )
    finally:
        context.close()
        staged.cleanup()
    return rows


def before(checkout: str, rounds: int) -> dict[tuple[str, str], tuple[float, float, float]]:
    """Seconds per question one by one, of a worker's start and of its stop, with
    ``checkout``'s graders, by (layer, module)."""
    done = subprocess.run(
        [sys.executable, __file__, "--graders", checkout, "--rounds", str(rounds)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    return {(layer, name): (single, start, stop) for layer, name, single, _, start, stop in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--before", help="another checkout: its graders one by one")
    parser.add_argument("--graders", help=argparse.SUPPRESS)
    args = parser.parse_args()
    layers = [k for k in ("landlock", "bubblewrap") if confinement.available(k)]
    rows = [row for layer in layers for row in measure(layer, args.rounds)]
    if args.graders:
        print(json.dumps(rows))
        return
    earlier = before(args.before, args.rounds) if args.before else {}
    questions_per_module = len(SYSTEMS) * len(AGREEMENT_FUNCTIONS)
    body = (
        f"a1's agreement questions ({questions_per_module} per module), answered by the "
        f"reference; median of {args.rounds} rounds. `one by one`: a round trip per question "
        "(`Sandbox.call`); `batched`: one request for all of them, each answered as it ends "
        "(`Sandbox.map`, what the a1 grader now uses); `before`: one by one with the graders "
        "before batches (arrays as .npy files), measured in the same run. A worker's start (to "
        "its readiness) and stop are paid once per sandbox turn.\n\n"
        "| layer | module | before (ms/question) | one by one (ms/question) "
        "| batched (ms/question) | batched / before | worker start, before -> now (ms) "
        "| worker stop, before -> now (ms) |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {layer} | {name} | {was[0] * 1e3:.3f} | {single * 1e3:.3f} "
            f"| {batched * 1e3:.3f} | {batched / was[0]:.2f}x "
            f"| {was[1] * 1e3:.0f} -> {start * 1e3:.0f} | {was[2] * 1e3:.0f} -> {stop * 1e3:.0f} |"
            for layer, name, single, batched, start, stop in rows
            for was in [earlier.get((layer, name), (math.nan,) * 3)]
        )
    )
    print(body)
    if not args.no_write:
        write_section("bench/call_cost.py", body)


if __name__ == "__main__":
    main()
