"""Class-grading throughput: submissions per hour per core for each assignment, how grading
scales from 1 to 2 jobs on this machine, and what ``--jobs auto`` chooses.

Each class is N copies of the reference solution (the slowest kind of submission: every
criterion runs to the end), graded with `nngrade grade` from scratch (--force).

Run: python bench/class_throughput.py [--sizes a1=8 a2=4 a3=4 a4=2 a5=2] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

from graders import catalog  # noqa: E402
from graders.batch.auto_jobs import choose_jobs, usable_cores  # noqa: E402
from graders.batch.run import BatchOptions, grade_class  # noqa: E402
from graders.core.options import GradeOptions  # noqa: E402

DEFAULT_SIZES = {"a1": 8, "a2": 4, "a3": 4, "a4": 2, "a5": 2}


def build_class(root: Path, assignment: str, size: int) -> Path:
    for i in range(size):
        shutil.copytree(REPO / "reference" / assignment, root / f"student-{i:03d}" / assignment)
    return root


def measure(assignment: str, size: int, jobs: int, data_dir: Path) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as scratch:
        submissions = build_class(Path(scratch) / "class", assignment, size)
        started = time.perf_counter()
        report = grade_class(
            BatchOptions(
                (assignment,),
                submissions,
                Path(scratch) / "out",
                jobs=jobs,
                grading=GradeOptions(data_dir=data_dir, download=False),
                force=True,
                progress=False,
            )  # fmt: skip
        )
        seconds = time.perf_counter() - started
        with (Path(scratch) / "out" / "gradebook.csv").open(newline="") as stream:
            points = [row[assignment] for row in csv.DictReader(stream)]
        assert report.graded == size, f"only {report.graded} of {size} were graded"
        return seconds, points


def table_row(
    assignment: str,
    size: int,
    timings: dict[int, float],
    points: dict[int, list[str]],
    cores: int,
    auto: int,
) -> str:
    """Per-core throughput with the jobs ``--jobs auto`` chooses, the speed-up of 2 jobs
    over 1, and whether the points are the same with every number of jobs."""
    per_hour = size / (timings[auto] / 3600)
    same = all(p == points[1] for p in points.values())
    return (
        f"| {assignment} | {size} | {timings[1] / size:.1f} s | {timings[1]:.0f} s | "
        f"{timings[2]:.0f} s | {timings[1] / timings[2]:.2f}x | {auto} | {per_hour:.0f} | "
        f"{per_hour / cores:.0f} | "
        f"{'identical' if same else 'DIFFERENT'}: {', '.join(sorted(set(points[1])))} |"
    )


def report(rows: list[str], cores: int) -> None:
    body = (
        f"`nngrade grade` on classes of reference solutions (every criterion runs to the end), "
        f"local engine, {cores} cores, bubblewrap when available, with `--jobs 1`, `--jobs 2` "
        "and what `--jobs auto` chooses here (cores / the assignment's `cores_per_job`, within "
        "the available memory / its `job_memory_bytes`). Worker threads are the assignment's "
        "whatever the jobs (one for a1-a3 and a5, two for a4's torch), so the choice is the "
        "number of jobs; throughput is with auto's choice. Time budgets are CPU seconds, so the "
        "points must not depend on the number of jobs: the last column compares them.\n\n"
        "| assignment | submissions | seconds per submission (1 job) | wall, 1 job "
        "| wall, 2 jobs | scaling 1 -> 2 jobs | auto chooses | submissions per hour (auto) "
        "| per hour per core | points, every number of jobs |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("bench/class_throughput.py", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", default=[f"{k}={v}" for k, v in DEFAULT_SIZES.items()]
    )
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    cores = usable_cores()
    rows = []
    for item in args.sizes:
        assignment, size = item.split("=")
        timings, points = {}, {}
        auto = choose_jobs([catalog.spec(assignment)]).jobs
        for jobs in sorted({1, 2, auto}):
            seconds, points[jobs] = measure(assignment, int(size), jobs, args.data_dir)
            timings[jobs] = seconds
            print(
                f"{assignment}: {size} submissions, {jobs} job(s): {seconds:.1f} s {points[jobs]}"
            )
        rows.append(table_row(assignment, int(size), timings, points, cores, auto))
    report(rows, cores)


if __name__ == "__main__":
    main()
