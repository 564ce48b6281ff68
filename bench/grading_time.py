"""How long grading one submission of assignment 1 takes, per confinement layer.

Run: python bench/grading_time.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

from graders.a1 import ASSIGNMENT  # noqa: E402
from graders.core.options import GradeOptions  # noqa: E402
from graders.core.runner import grade  # noqa: E402
from graders.sandbox import confinement  # noqa: E402


def measure(submission: Path, layer: str, repeat: int) -> tuple[float, float, float]:
    times, points = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = grade(ASSIGNMENT, submission, GradeOptions(confinement=layer))
        times.append(time.perf_counter() - started)
        points = result.points
    return statistics.median(times), min(times), points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = ["| submission | confinement | median s | best s | points |", "|---|---|---|---|---|"]
    for layer in [k for k in confinement.KINDS if confinement.available(k)]:
        for name in ("reference", "student_template"):
            median, best, points = measure(REPO / name, layer, args.repeat)
            row = f"| {name} | {layer} | {median:.2f} | {best:.2f} | {points:g}/10 |"
            print(row)
            rows.append(row)
    body = (
        f"Grading assignment 1 end to end (staging, static scan, workers, all criteria), "
        f"median of {args.repeat} runs.\n\n" + "\n".join(rows) + "\n\n"
        "Under `none` the grader reads the worker's mapped libraries after every call (no "
        "allowlist keeps forbidden ones out there); the strong layers look once, at the end."
    )
    write_section("bench/grading_time.py", body)


if __name__ == "__main__":
    main()
