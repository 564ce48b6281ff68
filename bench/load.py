"""Load: the same submissions must get the same points alone, with `--jobs 2`, and beside
2 and 4 CPU hogs.

Time budgets are CPU seconds (README, "Time budgets are CPU time"), so how busy the
machine is must never change a grade. This grades the five references and the correct
variants and seeded bugs of the project's tests (built with the tests' own builders) under
four conditions, through the command line as instructors and students run it:

- alone: `nngrade check ASSIGNMENT --format json`, one submission at a time;
- --jobs 2: `nngrade grade ASSIGNMENT CLASS --jobs 2` over a class of those submissions,
  points read from `students/<student>.json`;
- 2 hogs, 4 hogs: as alone, while 2 or 4 processes (`while True: pass`) keep the cores busy.

It prints a table of points per condition, compares every criterion's points, and a table
of the CPU seconds the budgeted calls (training) used per condition; it exits 1 when a row
differs between conditions or from the points the tests expect, or when a training used
more than 1.3x its CPU seconds alone beside hogs.

Run: python bench/load.py [--quick] [--assignments a1,a2] [--conditions alone,hogs2]
                          [--data-dir ../shared/data] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from helpers import build_submission  # noqa: E402
from results_file import write_section  # noqa: E402

NNGRADE = [sys.executable, "-m", "graders.cli"]
CONDITIONS = {"alone": "alone", "jobs2": "--jobs 2", "hogs2": "2 hogs", "hogs4": "4 hogs"}
ASSIGNMENTS = ("a1", "a2", "a3", "a4", "a5")
QUICK = ("a1", "a2")
#: Far above any assignment's own wall-clock limit (a5: 1200 s): only a hung grader hits it.
COMMAND_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Case:
    """One submission: how to write it, and the points the tests expect for it."""

    assignment: str
    name: str
    build: Callable[[Path], object]  # writes target/<assignment>/...
    expected: dict[str, float | set[float]]

    @property
    def slug(self) -> str:
        """A student folder name that the batch grader keeps as the student's name."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.assignment} {self.name}".lower()).strip("-")


@dataclass(frozen=True)
class Score:
    """Points of one grading; equal when every criterion got the same points."""

    points: float | None  # None: not graded at all
    max_points: float
    criteria: tuple[tuple[str, float], ...]
    problem: str = ""
    reasons: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    confinement: str = field(default="", compare=False)
    seconds: float = field(default=0.0, compare=False)  # wall time of this one grading
    #: CPU seconds of the calls with a grading budget (training); None: none was made.
    cpu_s: float | None = field(default=None, compare=False)

    def cell(self) -> str:
        if self.points is None:
            return "not graded"
        return f"{self.points:g}/{self.max_points:g} ({self.seconds:.0f} s)"


# -- the submissions: the tests' own builders -----------------------------------------------


def reference(key: str, full: dict[str, float]) -> Case:
    return Case(key, "reference", lambda target: build_submission(target, assignment=key), full)


def notebook(key: str, full: dict[str, float]) -> Case:
    """The reference handed in as notebooks (tests/test_notebooks.py: full marks)."""
    from test_notebooks import as_notebooks

    def build(target: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="nngrade-load-") as scratch:
            as_notebooks(build_submission(Path(scratch), assignment=key), target)

    return Case(key, "reference as notebooks", build, full)


def a1_cases() -> list[Case]:
    from a1_cases import FULL, SEEDED_BUGS

    seeded = [
        "cofactor sign ignores the column (pure determinant)",
        "parser drops a missing variable (pure)",
    ]
    return [reference("a1", FULL), notebook("a1", FULL)] + [
        Case(
            "a1",
            f"seeded: {name}",
            lambda target, edits=SEEDED_BUGS[name][0]: build_submission(target, edits=edits),
            {**FULL, **SEEDED_BUGS[name][1]},
        )
        for name in seeded
    ]


def a2_cases() -> list[Case]:
    """Bugs whose points depend on training: an accuracy tier and the sample-loop probe."""
    from test_a2_grader import FULL, SEEDED_BUGS

    seeded = ["weight gradient missing 1/N", "train loops over the samples"]
    return [reference("a2", FULL), notebook("a2", FULL)] + [
        Case(
            "a2",
            f"seeded: {name}",
            lambda target, edit=SEEDED_BUGS[name][0]: build_submission(
                target, assignment="a2", edits={"a2/perceptron.py": edit}
            ),
            {**FULL, **SEEDED_BUGS[name][1]},
        )
        for name in seeded
    ]


#: Correct a3 solutions written in other styles (the similarity tests' independent ones):
#: their training's CPU seconds must not grow with the machine's load either.
STYLES = REPO / "tests" / "similarity_solutions"


def a3_cases() -> list[Case]:
    """The L2 option and other styles (full marks), and bugs that still train to the end."""
    from test_a3_grader import FULL, SEEDED_BUGS, a3_submission, option

    seeded = ["missing 1/N", "scheduler reduces one step late"]
    styles = [
        Case(
            "a3",
            f"correct: {path.stem.removeprefix('a3_')} style",
            lambda t, path=path: a3_submission(t, lambda _text: path.read_text()),
            FULL,
        )
        for path in sorted(STYLES.glob("a3_*.py"))
    ]
    return [
        reference("a3", FULL),
        Case("a3", 'correct: OPTION = "l2"', lambda t: a3_submission(t, option("l2")), FULL),
        *styles,
    ] + [
        Case(
            "a3",
            f"seeded: {name}",
            lambda target, edits=SEEDED_BUGS[name][0]: a3_submission(target, *edits),
            {**FULL, **SEEDED_BUGS[name][1]},
        )
        for name in seeded
    ]


def a4_cases() -> list[Case]:
    from test_a4_grader import FULL

    return [reference("a4", FULL)]


def a5_cases() -> list[Case]:
    """Only the reference: its learning criterion retrains an agent for about a minute."""
    from test_a5_grader import FULL

    return [reference("a5", FULL)]


BUILDERS = {"a1": a1_cases, "a2": a2_cases, "a3": a3_cases, "a4": a4_cases, "a5": a5_cases}


def build_cases(root: Path, assignments: list[str]) -> list[Case]:
    """Write every case as root/<assignment>/<slug>/: a student folder of that class."""
    cases = [case for key in assignments for case in BUILDERS[key]()]
    for case in cases:
        case.build(root / case.assignment / case.slug)
    return cases


# -- grading ----------------------------------------------------------------------------


def score_from_result(result: dict, seconds: float) -> Score:
    """A Score from nngrade's JSON result (`check --format json`, or a student record)."""
    return Score(
        points=float(result["points"]),
        max_points=float(result["max_points"]),
        criteria=tuple((c["id"], float(c["points"])) for c in result["criteria"]),
        reasons={c["id"]: c["reason"] for c in result["criteria"]},
        confinement=result.get("confinement", ""),
        seconds=seconds,
        cpu_s=sum(result["budget_cpu_s"].values()) if result.get("budget_cpu_s") else None,
    )


def not_graded(problem: str) -> Score:
    return Score(None, 0.0, (), problem=" ".join(problem.split())[-300:])


def check(case: Case, root: Path, data_dir: Path) -> Score:
    """`nngrade check` on one submission, as a student or CI runs it."""
    report = root / "reports" / f"{case.slug}-{time.monotonic_ns()}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    command = NNGRADE + [
        "check", case.assignment, "--submission", str(root / case.assignment / case.slug),
        "--format", "json", "--output", str(report), "--data-dir", str(data_dir), "--no-download",
    ]  # fmt: skip
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return not_graded(f"nngrade check gave no result within {COMMAND_TIMEOUT_S} s")
    if done.returncode != 0 or not report.is_file():
        return not_graded(f"exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return score_from_result(json.loads(report.read_text()), time.perf_counter() - started)


def grade_class(key: str, cases: list[Case], root: Path, data_dir: Path, jobs: int) -> dict:
    """`nngrade grade` over the class of one assignment; each case's Score by slug."""
    out = root / f"out-{key}-jobs{jobs}-{time.monotonic_ns()}"
    command = NNGRADE + [
        "grade", key, str(root / key), "--out", str(out), "--jobs", str(jobs), "--force",
        "--no-progress", "--data-dir", str(data_dir), "--no-download",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
        )
        failure = "" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()}"
    except subprocess.TimeoutExpired:
        failure = f"nngrade grade gave no result within {COMMAND_TIMEOUT_S} s"
    return {case.slug: student_score(out, case, failure) for case in cases}


def student_score(out: Path, case: Case, failure: str) -> Score:
    """One student's Score from the batch's students/<student>.json."""
    record = out / "students" / f"{case.slug}.json"
    if not record.is_file():
        return not_graded(failure or f"no {record.name} in the batch output")
    outcome = json.loads(record.read_text())["outcomes"].get(case.assignment)
    if outcome is None:
        return not_graded(f"{record.name} has no outcome for {case.assignment}")
    if outcome["status"] != "ok" or outcome.get("result") is None:
        return not_graded(f"{outcome['status']}: {outcome.get('error', '')}")
    return score_from_result(outcome["result"], float(outcome.get("seconds") or 0.0))


def die_with_parent() -> None:
    """A hog spins forever: it must die with this script even if that is SIGKILLed."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """`count` busy-looping processes for the duration; always killed, even on errors."""
    hogs: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            hogs.append(
                subprocess.Popen(
                    [sys.executable, "-c", "while True: pass"],
                    preexec_fn=die_with_parent if sys.platform == "linux" else None,
                )
            )
        yield
        stopped = [hog.pid for hog in hogs if hog.poll() is not None]
        if stopped:
            print(f"warning: hogs {stopped} stopped early; the load was lighter than stated")
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def run_condition(condition: str, cases: list[Case], root: Path, data_dir: Path) -> dict:
    """Every case's Score under one condition, by slug."""
    if condition == "jobs2":
        scores = {}
        for key in dict.fromkeys(case.assignment for case in cases):
            chosen = [case for case in cases if case.assignment == key]
            started = time.perf_counter()
            scores |= grade_class(key, chosen, root, data_dir, jobs=2)
            seconds = time.perf_counter() - started
            print(f"  [{CONDITIONS[condition]}] {key}: {len(chosen)} graded in {seconds:.0f} s")
        return scores
    hogs = {"alone": 0, "hogs2": 2, "hogs4": 4}[condition]
    scores = {}
    with cpu_hogs(hogs):
        for case in cases:
            scores[case.slug] = check(case, root, data_dir)
            print(
                f"  [{CONDITIONS[condition]}] {case.assignment} {case.name}: "
                f"{scores[case.slug].cell()}"
            )
    return scores


# -- the report -------------------------------------------------------------------------


def differences(label: str, base: Score, other: Score) -> list[str]:
    """What `other` (condition `label`) got differently from `base`, criterion by criterion."""
    if other.points is None or base.points is None:
        side = other if other.points is None else base
        return [f"{label}: not graded ({side.problem})"]
    got, before = dict(other.criteria), dict(base.criteria)
    lines = []
    for criterion in dict.fromkeys([*before, *got]):
        if before.get(criterion) != got.get(criterion):
            reason = other.reasons.get(criterion) or base.reasons.get(criterion, "")
            lines.append(
                f"{label}: {criterion} {before.get(criterion, '-')} -> {got.get(criterion, '-')}"
                + (f" ({reason})" if reason else "")
            )
    return lines


def resolved_expectation(case: Case, score: Score) -> dict[str, float]:
    """The tests' expectation, where a criterion may take one of several points (a tier
    boundary that depends on the CPU) taken as the graded points when they are allowed."""
    graded = dict(score.criteria)
    return {
        criterion: graded[criterion]
        if isinstance(allowed, set) and graded.get(criterion) in allowed
        else (min(allowed) if isinstance(allowed, set) else allowed)
        for criterion, allowed in case.expected.items()
    }


def compare(case: Case, scores: dict[str, Score]) -> tuple[bool, bool, list[str]]:
    """(identical across conditions, as the tests expect, the differences)."""
    first, base = next(iter(scores.items()))
    lines: list[str] = []
    for condition, score in list(scores.items())[1:]:
        lines += differences(f"{CONDITIONS[condition]} vs {CONDITIONS[first]}", base, score)
    identical = not lines
    expected = resolved_expectation(case, base)
    tests = Score(sum(expected.values()), 0.0, tuple(expected.items()))
    wrong = [
        line
        for condition, score in scores.items()
        for line in differences(f"{CONDITIONS[condition]} vs the tests", tests, score)
    ]
    return identical, not wrong, lines + wrong


def table(cases: list[Case], results: dict[str, dict], walls: dict[str, float]) -> tuple[str, bool]:
    """The Markdown table and its verdict lines; True when every row is as it must be."""
    header = ["submission", "tests expect", *(CONDITIONS[c] for c in results), "per criterion"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    details, all_good = [], True
    for case in cases:
        scores = {condition: results[condition][case.slug] for condition in results}
        identical, expected, lines = compare(case, scores)
        all_good &= identical and expected
        maximum = next((s.max_points for s in scores.values() if s.points is not None), 0.0)
        verdict = ("identical" if identical else "DIFFERENT") + (
            "" if expected else ", not what the tests expect"
        )
        expected_points = sum(resolved_expectation(case, next(iter(scores.values()))).values())
        cells = [f"{case.assignment} {case.name}", f"{expected_points:g}/{maximum:g}"]
        rows.append(
            "| " + " | ".join([*cells, *(s.cell() for s in scores.values()), verdict]) + " |"
        )
        details += [f"- {case.assignment} {case.name}: {line}" for line in lines]
    rows.append("| wall time | | " + " | ".join(f"{walls[c]:.0f} s" for c in results) + " | |")
    summary = (
        "**Every row identical, and as the tests expect.**"
        if all_good
        else "**Rows differ:**\n\n" + "\n".join(details)
    )
    return "\n".join(rows) + "\n\n" + summary, all_good


#: How much more CPU a grading budget may count beside CPU hogs than alone (issue: 1.3x).
MAX_LOAD_RATIO = 1.3


def cpu_table(cases: list[Case], results: dict[str, dict]) -> tuple[str, bool]:
    """CPU seconds of the budgeted calls (training) per condition, and their ratio to alone;
    True when no ratio is over :data:`MAX_LOAD_RATIO`."""
    budgeted = [
        case for case in cases if any(results[c][case.slug].cpu_s is not None for c in results)
    ]
    if "alone" not in results or not budgeted:
        return "", True
    others = [c for c in results if c != "alone"]
    header = ["submission", "alone", *(CONDITIONS[c] for c in others), "verdict"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    all_good = True
    for case in budgeted:
        alone = results["alone"][case.slug].cpu_s
        cells, over = [f"{alone:.1f} s" if alone else "-"], []
        for condition in others:
            cpu = results[condition][case.slug].cpu_s
            if cpu is None or not alone:
                cells.append("-")
                continue
            ratio = cpu / alone
            cells.append(f"{cpu:.1f} s ({ratio:.2f}x)")
            if ratio > MAX_LOAD_RATIO:
                over.append(CONDITIONS[condition])
        judged = case.name.startswith(("reference", "correct"))
        all_good &= not (over and judged)
        verdict = f"over {MAX_LOAD_RATIO}x: {', '.join(over)}" if over else "within"
        if not judged:
            verdict += " (seeded bug: shown, not judged)"
        rows.append(f"| {case.assignment} {case.name} | " + " | ".join([*cells, verdict]) + " |")
    intro = (
        "\n\nCPU seconds the kernel counted for the calls with a grading budget (training; "
        "`budget_cpu_s` in the JSON record), and their ratio to alone. Budgets count these "
        f"seconds, so beside hogs the references' and correct solutions' must stay within "
        f"{MAX_LOAD_RATIO}x of alone (`--jobs 2` shares the cores with a second grading, not "
        "with a hog). Seeded bugs are shown too; a training of 2-3 CPU seconds varies by a "
        "second or so beside hogs (shared caches and memory bandwidth), which no budget of "
        "minutes feels.\n\n"
    )
    return intro + "\n".join(rows), all_good


def report(
    cases: list[Case], results: dict[str, dict], walls: dict[str, float]
) -> tuple[str, bool]:
    """The section for RESULTS.md: what was run, the tables and the verdicts."""
    body, good = table(cases, results, walls)
    cpu, cpu_good = cpu_table(cases, results)
    body, good = body + cpu, good and cpu_good
    kinds = {s.confinement for r in results.values() for s in r.values() if s.confinement}
    assignments = ", ".join(dict.fromkeys(case.assignment for case in cases))
    intro = (
        f"Points of the same submissions ({assignments}) graded under load, through the "
        f"command line, on {os.cpu_count()} cores, confinement {', '.join(sorted(kinds)) or '?'}. "
        "`alone`: `nngrade check`, one submission at a time; `--jobs 2`: `nngrade grade "
        "--jobs 2` over a class of them; `2 hogs`, `4 hogs`: as alone, beside that many "
        "`while True: pass` processes. Time budgets count CPU seconds, so every row must be "
        "identical, criterion by criterion, and equal to the points the tests expect "
        "(`tests/a1_cases.py`, `tests/test_a2_grader.py`, ...: the references, correct "
        "variants and seeded bugs built by the tests' own builders). Each cell is the points "
        "and the wall time of that grading (`--jobs 2`: the batch record's seconds); the last "
        "row is the wall time of the whole condition.\n\n"
    )
    return intro + body, good


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS), help="e.g. a1,a2")
    parser.add_argument(
        "--conditions", default=",".join(CONDITIONS), help=f"any of {','.join(CONDITIONS)}"
    )
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    assignments = [a for a in args.assignments.split(",") if a and (not args.quick or a in QUICK)]
    conditions = [c for c in args.conditions.split(",") if c]
    unknown = [a for a in assignments if a not in ASSIGNMENTS] + [
        c for c in conditions if c not in CONDITIONS
    ]
    if unknown or not assignments or not conditions:
        parser.error(f"unknown or empty selection: {unknown or 'nothing chosen'}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the hogs' finally runs

    with tempfile.TemporaryDirectory(prefix="nngrade-load-") as scratch:
        root = Path(scratch)
        cases = build_cases(root, assignments)
        chosen = ", ".join(CONDITIONS[c] for c in conditions)
        print(f"{len(cases)} submissions of {', '.join(assignments)}; conditions: {chosen}")
        results, walls = {}, {}
        for condition in conditions:
            started = time.perf_counter()
            results[condition] = run_condition(condition, cases, root, args.data_dir.resolve())
            walls[condition] = time.perf_counter() - started
            print(f"{CONDITIONS[condition]}: {walls[condition]:.0f} s")
    body, good = report(cases, results, walls)
    print("\n" + body)
    if not args.no_write:
        write_section("bench/load.py", body)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
