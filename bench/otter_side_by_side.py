"""nngrade and Otter-Grader side by side on assignment 1, over a bare-numpy floor.

The same questions with the same points, three ways: ``nngrade check a1`` on the reference
solution; ``otter run`` (Otter-Grader, no Docker) with an autograder written here, one
exception-based Otter test file per nngrade criterion, holding the same inputs, checks,
tolerances and points; and the floor, one plain Python process that imports numpy and the
reference modules and asks the same questions with the same comparisons, with no sandbox
and no pytest. The checks are bench/a1_questions.py, pasted into every Otter test file and
into the floor script. Both graders must give full points before anything is timed; then
the three run in turn (the order rotating) for ``--rounds`` rounds, and the medians of wall
and CPU time (the command and its waited-for children) and their ratios are printed and
written to bench/RESULTS.md. Otter is installed, once, in a virtual environment under
``--work``; where it does not install, the report says so and times the other two.

    python bench/otter_side_by_side.py [--rounds 8] [--work /var/tmp/nngrade-otter]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import results_file  # noqa: E402
from a1_questions import AGREEMENT_FUNCTIONS, OPERATIONS  # noqa: E402
from results_file import write_section  # noqa: E402

QUESTIONS = REPO / "bench" / "a1_questions.py"
REFERENCE = REPO / "reference"
GOAL = 0.2  # nngrade check a1 at most 0.2x Otter's time
OTTER_PACKAGES = ("otter-grader[grading]", "numpy")  # [grading]: ipykernel, for otter run


@dataclass
class Tool:
    """One grader's command, and its times."""

    name: str
    command: list[str]
    cwd: Path
    #: Given the output of one run; exits unless that run gave full points.
    check: Callable[[str], None]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    #: Set in its environment besides :func:`clean_env`'s.
    env: dict[str, str] = field(default_factory=dict)
    #: False where the work is done outside the command's children (a warm grader's fork).
    cpu_counted: bool = True


def criteria() -> dict[str, list[tuple[str, str]]]:
    """nngrade's a1 criteria, each as the test cases of its Otter question: (name, the
    statement it runs). basic_ops is worth equal parts, one per operation, in both graders
    (nngrade's ``credit.parts``, Otter's even split of a question's points among its cases);
    every other criterion is all or nothing, one case."""

    def operations(module: str, numpy_only: bool) -> list[tuple[str, str]]:
        call = f"check_operation({module}, {{!r}}, INPUTS, numpy_only={numpy_only})"
        return [(name, call.format(name)) for name in OPERATIONS]

    def solver(module: str, name: str, numpy_only: bool) -> str:
        return f"check_solver({module}, {name!r}, INPUTS, numpy_only={numpy_only})"

    return {
        "pure.load_system": [("parser", "check_parser(pure, INPUTS, numpy_only=False)")],
        "pure.basic_ops": operations("pure", False),
        "pure.solve_cramer": [("solve_cramer", solver("pure", "solve_cramer", False))],
        "pure.solve_inverse": [("solve_inverse", solver("pure", "solve_inverse", False))],
        "vectorized.load_system": [("parser", "check_parser(vectorized, INPUTS, numpy_only=True)")],
        "vectorized.basic_ops": operations("vectorized", True),
        "vectorized.solvers": [
            (
                "solvers",
                f"{solver('vectorized', 'solve_cramer', True)}\n"
                f"    {solver('vectorized', 'solve_inverse', True)}",
            )
        ],
        "agreement": [("agreement", "check_agreement(pure, vectorized, INPUTS)")],
    }


# -- what the grader asks ---------------------------------------------------------------------
def grader_inputs() -> dict[str, Any]:
    """The public inputs of graders/a1, and the agreement property's systems (with each
    system's text as the grader writes it), as plain literals."""
    from graders.a1 import grader
    from graders.a1.inputs import PUBLIC

    systems = [([list(row) for row in A], list(B)) for A, B in PUBLIC.systems]

    def text(A: list[list[int]], B: list[int]) -> str:
        rows = zip(A, B, strict=True)
        return "\n".join(grader.equation_text(row, rhs) for row, rhs in rows) + "\n"

    def floats(rows: Any) -> list:
        return [[float(v) for v in row] for row in rows]

    return {
        "parse_cases": [(c.name, c.text, floats(c.A), [float(v) for v in c.B])
                        for c in PUBLIC.parse_cases],
        "malformed_cases": [(c.name, c.text, c.line) for c in PUBLIC.malformed_cases],
        "wrong_count_cases": [tuple(case) for case in PUBLIC.wrong_count_cases],
        "matrices": [floats(m) for m in PUBLIC.matrices],
        "vectors": [[float(v) for v in vector] for vector in PUBLIC.vectors],
        "singular": [floats(m) for m in PUBLIC.singular],
        "systems": [(list(map(list, A)), list(B), text(A, B)) for A, B in systems],
    }  # fmt: skip


def question_parts(inputs: dict[str, Any]) -> dict[str, int]:
    """Calls into student code in one check, by kind: per module, every parse, malformed and
    wrong-count file, 5 operations and 2 solvers on every matrix (and the solvers on every
    singular one); then every agreement function on every system, in both modules."""
    parser = sum(len(inputs[k]) for k in ("parse_cases", "malformed_cases", "wrong_count_cases"))
    matrices, singular = len(inputs["matrices"]), len(inputs["singular"])
    return {
        "load_system": 2 * parser,
        "operations": 2 * len(OPERATIONS) * matrices,
        "solvers": 2 * 2 * (matrices + singular),
        "agreement": 2 * len(AGREEMENT_FUNCTIONS) * len(inputs["systems"]),
    }


def question_count(inputs: dict[str, Any]) -> int:
    return sum(question_parts(inputs).values())


# -- the commands -----------------------------------------------------------------------------
#: Where the .pyc files of all three go (``--work``/pycache; set by main).
PYCACHE = Path("/var/tmp/nngrade-otter/pycache")


def clean_env() -> dict[str, str]:
    """This machine's environment as a user's: .pyc files written (this machine exports
    PYTHONDONTWRITEBYTECODE), no PYTHONPATH (each command finds its own modules). The .pyc
    files go under :data:`PYCACHE` (PYTHONPYCACHEPREFIX), for all three alike: none is
    written into the checkout (the tests copy the reference's folder as a submission)."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


#: The command a student types, from this interpreter's environment.
NNGRADE = Path(sys.executable).with_name("nngrade")


def nngrade_command(output_format: str = "table") -> list[str]:
    command = [str(NNGRADE), "check", "a1", "--submission", str(REFERENCE)]
    return command if output_format == "table" else [*command, "--format", output_format]


def nngrade_points() -> dict[str, float]:
    """Each criterion's points, from nngrade's own report (``--format json``)."""
    done = subprocess.run(
        nngrade_command("json"), cwd=REPO, env=clean_env(), capture_output=True, text=True
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"nngrade check a1 --format json failed ({done.returncode}):\n{done.stderr}")
    points = {c["id"]: float(c["max_points"]) for c in report["criteria"]}
    known = criteria()
    if set(points) != set(known):
        sys.exit(f"nngrade's a1 criteria are {sorted(points)}; this bench knows {sorted(known)}")
    unearned = {c["id"]: c["points"] for c in report["criteria"] if c["points"] != c["max_points"]}
    if unearned:
        sys.exit(f"nngrade does not give the reference full points: {unearned}")
    return {name: points[name] for name in known}


def run(command: list[str], cwd: Path, log: Path) -> subprocess.CompletedProcess[str]:
    with log.open("w") as out:
        done = subprocess.run(command, cwd=cwd, env=clean_env(), stdout=out, stderr=out, text=True)
    return subprocess.CompletedProcess(command, done.returncode, log.read_text(), "")


def install_otter(work: Path) -> tuple[Path | None, str]:
    """Otter's command in a virtual environment under ``work`` (made once): (path, version),
    or (None, why it is not there)."""
    venv = work / "venv"
    otter, python, marker = venv / "bin" / "otter", venv / "bin" / "python", venv / "installed"
    if not (marker.exists() and otter.exists()):
        work.mkdir(parents=True, exist_ok=True)
        log = work / "pip.log"
        steps = (
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check",
             *OTTER_PACKAGES],
        )  # fmt: skip
        for step in steps:
            print("$", shlex.join(step), flush=True)
            done = run(step, work, log)
            if done.returncode != 0:
                lines = [ln for ln in done.stdout.splitlines() if ln.strip()] or ["no output"]
                return None, f"`{shlex.join(step)}` failed: {lines[-1].strip()} (see {log})"
        marker.write_text(" ".join(OTTER_PACKAGES) + "\n")
    versions = "import otter, numpy; print(f'{otter.__version__} (numpy {numpy.__version__})')"
    done = run([str(python), "-c", versions], work, work / "version.log")
    if done.returncode != 0:
        last = (done.stdout.strip().splitlines() or ["no output"])[-1]
        return None, f"otter does not import in {venv}: {last}"
    return otter, done.stdout.strip()


# -- the Otter autograder and the floor -----------------------------------------------------
def questions_source() -> str:
    return QUESTIONS.read_text()


def otter_test_file(criterion: str, points: float, inputs: dict[str, Any]) -> str:
    """One Otter question in its exception-based test file format (``OK_FORMAT = False``)."""
    cases = "\n\n".join(
        f"@test_case(name={f'{criterion}: {name}'!r})\n"
        f"def case_{index}(pure, vectorized):\n    {statement}\n"
        for index, (name, statement) in enumerate(criteria()[criterion])
    )
    return (
        f"# Generated by bench/otter_side_by_side.py: nngrade's criterion {criterion}.\n"
        "from otter.test_files import test_case\n\n"
        f"OK_FORMAT = False\nname = {criterion!r}\npoints = {points!r}\n"
        f"INPUTS = {inputs!r}\n\n{questions_source()}\n\n{cases}"
    )


def write_otter_autograder(
    work: Path, otter: Path, inputs: dict[str, Any], points: dict[str, float]
) -> tuple[Path, Path]:
    """The autograder zip (``otter generate`` from a tests folder) and the submission zip
    (a script that imports the reference's two modules, and the modules)."""
    folder = work / "otter"
    tests = folder / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    for old in tests.glob("*.py"):
        old.unlink()
    for criterion, value in points.items():
        source = otter_test_file(criterion, value, inputs)
        (tests / f"{criterion.replace('.', '_')}.py").write_text(source)
    autograder = folder / "autograder.zip"
    generate = [str(otter), "generate", "-t", "tests", "-o", autograder.name, "--no-config",
                "--no-requirements", "--no-environment"]  # fmt: skip
    done = run(generate, folder, folder / "generate.log")
    if done.returncode != 0 or not autograder.exists():
        sys.exit(f"`{shlex.join(generate)}` failed:\n{done.stdout}")
    submission = folder / "submission.zip"
    with zipfile.ZipFile(submission, "w") as archive:
        archive.writestr("submission.py", "from a1 import pure, vectorized\n")
        for module in ("__init__.py", "pure.py", "vectorized.py"):
            archive.write(REFERENCE / "a1" / module, f"a1/{module}")
    (folder / "results").mkdir(exist_ok=True)
    return autograder, submission


def otter_tool(work: Path, otter: Path, inputs: dict[str, Any], points: dict[str, float]) -> Tool:
    autograder, submission = write_otter_autograder(work, otter, inputs, points)
    command = [str(otter), "run", "--no-logo", "-a", autograder.name, "-o", "results",
               submission.name]  # fmt: skip
    check = otter_full_points(autograder.parent / "results" / "results.json", points)
    return Tool("otter", command, autograder.parent, check)


def write_floor(work: Path, inputs: dict[str, Any], points: dict[str, float]) -> Path:
    """The floor: the same questions and checks in one plain script, scored the same way."""
    functions, table = [], []
    for criterion, cases in criteria().items():
        names = []
        for name, statement in cases:
            names.append(f"case_{len(functions)}")
            functions.append(f"def {names[-1]}():  # {criterion}: {name}\n    {statement}\n")
        table.append(f"    {criterion!r}: [{', '.join(names)}],")
    source = (
        '"""Generated by bench/otter_side_by_side.py: the questions of nngrade check a1, asked\n'
        'directly (argument: the folder holding a1/)."""\n\n'
        "import sys\n\nsys.path.insert(0, sys.argv[1])\n"
        "from a1 import pure as pure_module  # noqa: E402\n"
        "from a1 import vectorized as vectorized_module  # noqa: E402\n\n"
        f"INPUTS = {inputs!r}\nPOINTS = {points!r}\n\n{questions_source()}\n\n"
        "pure, vectorized = Counted(pure_module), Counted(vectorized_module)\n\n\n"
        + "\n\n".join(functions)
        + "\n\nCASES = {\n" + "\n".join(table) + "\n}\n"
        + FLOOR_MAIN
    )  # fmt: skip
    path = work / "floor.py"
    path.write_text(source)
    return path


FLOOR_MAIN = """
score = 0.0
for criterion, cases in CASES.items():
    passed = 0
    for case in cases:
        try:
            case()
            passed += 1
        except Exception as error:
            print(f"{criterion}: {error!r}")
    score += POINTS[criterion] * passed / len(cases)
print(f"Questions {pure.calls + vectorized.calls}")
print(f"Points {score:g}/{sum(POINTS.values()):g}")
"""


# -- scores ------------------------------------------------------------------------------------
def table_points(output: str) -> tuple[float, float]:
    """``Points X/Y``, the last line of nngrade's table and of the floor."""
    found = re.findall(r"^Points ([\d.]+)/([\d.]+)\s*$", output, re.MULTILINE)
    if not found:
        raise ValueError(f"no 'Points X/Y' line in:\n{output[-2000:]}")
    return float(found[-1][0]), float(found[-1][1])


def otter_points(results: Path) -> dict[str, float]:
    """Each question's score in Otter's results.json."""
    tests = json.loads(results.read_text())["tests"]
    return {test["name"]: float(test["score"]) for test in tests if "max_score" in test}


def floor_full_points(total: float, questions: int) -> Callable[[str], None]:
    points = full_points("the floor", total)

    def check(output: str) -> None:
        points(output)
        asked = re.search(r"^Questions (\d+)$", output, re.MULTILINE)
        if asked is None or int(asked.group(1)) != questions:
            raise SystemExit(f"the floor did not ask {questions} questions:\n{output[-3000:]}")

    return check


def full_points(tool: str, total: float) -> Callable[[str], None]:
    def check(output: str) -> None:
        got, out_of = table_points(output)
        if abs(got - total) > 1e-9 or abs(out_of - total) > 1e-9:
            raise SystemExit(f"{tool} gave {got:g}/{out_of:g}, not {total:g}:\n{output[-3000:]}")

    return check


def otter_full_points(results: Path, points: dict[str, float]) -> Callable[[str], None]:
    def check(output: str) -> None:
        got = otter_points(results)
        wrong = {k: v for k, v in got.items() if abs(v - points.get(k, -1)) > 1e-9}
        if wrong or set(got) != set(points):
            raise SystemExit(f"Otter gave {got}, not {points}:\n{output[-3000:]}")
        results.unlink()

    return check


# -- timing ------------------------------------------------------------------------------------
def timed(tool: Tool, log: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the command and its waited-for children,
    from wait4) and output of one run."""
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            tool.command, cwd=tool.cwd, env={**clean_env(), **tool.env}, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text()
    if process.returncode != 0:
        raise SystemExit(f"{tool.name} exited with {process.returncode}:\n{output[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, output


def measure(tools: list[Tool], rounds: int, work: Path) -> None:
    """One untimed warm-up run of each (it must give full points), then ``rounds`` rounds,
    each tool once a round, the order rotating; every run's points are checked too."""
    for tool in tools:
        print(f"warm-up: {tool.name}", flush=True)
        tool.check(timed(tool, work / f"{tool.name}.log")[2])
    for index in range(rounds):
        order = tools[index % len(tools) :] + tools[: index % len(tools)]
        for tool in order:
            wall, cpu, output = timed(tool, work / f"{tool.name}.log")
            tool.check(output)
            tool.wall.append(wall)
            tool.cpu.append(cpu)
        line = ", ".join(f"{t.name} {t.wall[-1]:.2f} s wall, {t.cpu[-1]:.2f} s CPU" for t in tools)
        print(f"round {index + 1}/{rounds}: {line}", flush=True)


# -- the report --------------------------------------------------------------------------------
def report(
    tools: list[Tool], machine: str, inputs: dict[str, Any], total: float, rounds: int, skipped: str
) -> str:
    by_name = {tool.name: tool for tool in tools}
    floor = by_name["floor"]
    wall = {t.name: statistics.median(t.wall) for t in tools}
    cpu = {t.name: statistics.median(t.cpu) for t in tools}
    rows = [
        "| grader | wall s, median (min–max) | CPU s, median | wall / floor | CPU / floor |",
        "|---|---|---|---|---|",
    ]
    for t in tools:
        cpu_cells = (
            f"{cpu[t.name]:.2f} | {wall[t.name] / wall[floor.name]:.1f}x | "
            f"{cpu[t.name] / cpu[floor.name]:.1f}x"
            if t.cpu_counted
            else f"not seen ({cpu[t.name]:.2f} in the command) | "
            f"{wall[t.name] / wall[floor.name]:.1f}x | –"
        )
        rows.append(
            f"| {t.name} | {wall[t.name]:.2f} ({min(t.wall):.2f}–{max(t.wall):.2f}) | {cpu_cells} |"
        )
    questions, systems = question_count(inputs), len(inputs["systems"])
    parts = ", ".join(f"{kind} {count}" for kind, count in question_parts(inputs).items())
    commands = "\n".join(
        f"{t.name}: (cd {t.cwd}; "
        + "".join(f"{name}={shlex.quote(value)} " for name, value in t.env.items())
        + f"{shlex.join(t.command)})"
        for t in tools
    )
    if "otter" in by_name:
        wall_ratio = wall["nngrade"] / wall["otter"]
        cold_ratio = wall["nngrade cold"] / wall["otter"]
        cold_cpu_ratio = cpu["nngrade cold"] / cpu["otter"]
        verdict = "met" if wall_ratio <= GOAL else "not met"
        versus = (
            f"**nngrade / Otter: {wall_ratio:.2f}x wall** (a check served by the warm grader, "
            "as every check after a student's first is); cold (`NNGRADE_WARM=0`, or the "
            f"first check): {cold_ratio:.2f}x wall, {cold_cpu_ratio:.2f}x CPU. "
            f"Goal: nngrade check a1 at most {GOAL}x Otter's time (wall): {verdict}. "
            "The warm grader's CPU is not counted in the check's (it is not the check's "
            "child); its own start is paid once, beside the first check."
        )
    else:
        versus = (
            f"**Otter was skipped: {skipped}.** Goal: nngrade check a1 at most {GOAL}x Otter's "
            "time (wall): not measured."
        )
    return "\n\n".join(
        [
            f"The same {questions} calls into the reference solution of assignment 1 "
            f"(`reference/a1/`; {parts}, both modules together), the same comparisons (numpy's "
            "answers, `np.allclose` with rtol 1e-6 and atol 1e-9, the types and shapes nngrade "
            "demands, a ValueError naming the line for a malformed file) and the same "
            f"{total:g} points over the same {len(criteria())} criteria, three ways: "
            "`nngrade check a1` (its table report; sandboxed workers; the command a student "
            "types, whose checks after the first are served by a warm grader, and the same "
            "with `NNGRADE_WARM=0`, cold); `otter run` (Otter-Grader, "
            "no Docker) with an autograder made by `otter generate` from exception-based test "
            "files, one per criterion, grading a zip of a script that imports the two modules; "
            "and a floor, one plain Python process that imports numpy and the two modules and "
            f"asks the same questions (no sandbox, no pytest, no kernel). Every run gave "
            f"{total:g}/{total:g} (checked). {rounds} rounds after one untimed warm-up each, the "
            "order rotating; PYTHONDONTWRITEBYTECODE unset (.pyc files kept under "
            "PYTHONPYCACHEPREFIX, for all three); CPU is user + sys of the command and "
            "its waited-for children.",
            machine,
            f"```\n{commands}\n```",
            "\n".join(rows),
            versus,
            f"The agreement's {systems} systems are nngrade's stored ones "
            "(`graders/a1/agreement_systems.json`), read by all three. Not the same in the two "
            "graders: nngrade stages the submission and runs each module in its own sandboxed "
            "worker (confined, limited, watched), where Otter executes the script in one "
            "Jupyter kernel with no sandbox; nngrade's report is a table, Otter's a "
            "results.json and a summary.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/nngrade-otter"))
    args = parser.parse_args()
    work = args.work.resolve()
    global PYCACHE
    PYCACHE = work / "pycache"
    work.mkdir(parents=True, exist_ok=True)

    import numpy

    inputs = grader_inputs()
    points = nngrade_points()
    questions = question_count(inputs)
    total = sum(points.values())
    print(f"{questions} questions; points {points}", flush=True)

    otter, otter_version = install_otter(work)
    tools = [
        Tool("nngrade", nngrade_command(), REPO, full_points("nngrade", total), cpu_counted=False),
        Tool("nngrade cold", nngrade_command(), REPO, full_points("nngrade cold", total),
             env={"NNGRADE_WARM": "0"}),
    ]  # fmt: skip
    skipped = ""
    if otter is None:
        skipped = otter_version
        print(f"Otter skipped: {skipped}", flush=True)
    else:
        tools.append(otter_tool(work, otter, inputs, points))
    floor = write_floor(work, inputs, points)
    command = [sys.executable, str(floor), str(REFERENCE)]
    tools.append(Tool("floor", command, work, floor_full_points(total, questions)))

    measure(tools, args.rounds, work)
    machine = (
        f"Machine: {results_file.machine()}, numpy {numpy.__version__}; "
        + (f"otter-grader {otter_version} (its own venv, {work / 'venv'})" if otter else
           "otter-grader not installed")
    )  # fmt: skip
    body = report(tools, machine, inputs, total, args.rounds, skipped)
    print(body)
    write_section("bench/otter_side_by_side.py", body)


if __name__ == "__main__":
    main()
