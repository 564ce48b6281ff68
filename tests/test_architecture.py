"""The structure a maintainer relies on: imports that only point down the layers, one
declaration of each grading option and of each assignment's metadata, a catalog whose
points add up, and a sixth assignment that needs nothing but its own folders.

Run alone with ``python -m pytest tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import importlib
import json
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import REPO

from graders import catalog

PACKAGE = REPO / "graders"

#: The layers, top first: a module may import from its own layer's package or below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("graders.launch",),  # the nngrade command: a check served warm, or the command line
    ("graders.warm",),  # the warm grader, which runs the command line in its forks
    ("graders.cli", "graders.notebook", "graders.notebook_templates"),
    ("graders.starting",),  # nngrade init and statement
    ("graders.integrations", "graders.similarity"),
    ("graders.batch",),
    ("graders.render",),
    ("graders.course_files",),  # the templates and statements that come with nngrade
    ("graders.catalog",),
    ("graders.a*",),  # the assignment packages (graders.a1 ... graders.aN)
    ("graders.kit",),
    ("graders.core",),
    ("graders.data",),
    ("graders.sandbox",),
    ("graders.failures",),  # what went wrong, as values: used from the sandbox up
    ("graders.sandbox.inside",),  # the worker's own package, staged alone
    ("graders",),  # the package root: the version only
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def owner(module: str) -> tuple[int, str]:
    """(layer index, owning package) of a module: the most specific pattern that matches."""
    best: tuple[int, int, str] | None = None
    parts = module.split(".")
    for index, patterns in enumerate(LAYERS):
        for pattern in patterns:
            wanted = pattern.split(".")
            prefix = parts[: len(wanted)]
            matches = len(prefix) == len(wanted) and all(
                fnmatch.fnmatchcase(part, want) for part, want in zip(prefix, wanted, strict=True)
            )
            if matches and (best is None or len(wanted) > best[0]):
                best = (len(wanted), index, ".".join(prefix))
    assert best is not None, f"{module} is in no layer; add it to LAYERS"
    return best[1], best[2]


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """Every nngrade module ``path`` imports (anywhere in the file), with its line."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((candidate if candidate in MODULES else base, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] == "graders"]


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        owner(module)


def test_imports_point_down_only():
    upward = []
    for module, path in MODULES.items():
        layer, package = owner(module)
        for target, line in imported_modules(path):
            target_layer, target_package = owner(target)
            same_package = target_package == package
            if target_layer < layer or (target_layer == layer and not same_package):
                upward.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert upward == [], "imports that point up or sideways:\n" + "\n".join(upward)


def test_no_circular_imports():
    graph = {m: {t for t, _ in imported_modules(p) if t in MODULES and t != m}
             for m, p in MODULES.items()}  # fmt: skip
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("circular import: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


#: A module does one job: past this many lines it is doing several (the five assignment
#: graders, a list of criteria each, excepted).
MAX_MODULE_LINES = 500


def test_every_module_outside_the_assignment_graders_is_small():
    large = {
        name: lines
        for name, path in MODULES.items()
        if not fnmatch.fnmatchcase(name, "graders.a[0-9]*.grader")
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert large == {}, f"over {MAX_MODULE_LINES} lines: {large}"


def test_grading_reads_as_its_stages():
    """``runner.grade`` fits on a screen: it names its stages and passes their values on."""
    from graders.core import runner

    tree = ast.parse((PACKAGE / "core" / "runner.py").read_text())
    [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "grade"]
    assert function.end_lineno - function.lineno + 1 <= 40
    called = {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Name)}  # fmt: skip
    stages = {"prepare", "require_data", "scan_submission", "run_criteria", "assemble", "finalise"}
    assert stages <= called and all(callable(getattr(runner, name)) for name in stages)


def test_graders_use_the_kit_and_worker_code_only_the_worker_package():
    """A grader author imports from one place; code that runs inside the worker can only
    use what is staged there."""
    problems = []
    for spec in catalog.specs():
        own = f"graders.{spec.key}"
        for module, path in MODULES.items():
            if module != own and not module.startswith(own + "."):
                continue
            allowed = ("graders.sandbox.inside",) if module in spec.worker_modules else (
                "graders.kit",)  # fmt: skip
            for target, line in imported_modules(path):
                if target == own or target.startswith(own + "."):
                    continue
                if not any(target == a or target.startswith(a + ".") for a in allowed):
                    problems.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    inside = "graders.sandbox.inside"
    for module, path in MODULES.items():
        if module.startswith(inside):
            problems += [f"{path.relative_to(REPO)}:{line} imports {target}"
                         for target, line in imported_modules(path)
                         if not target.startswith(inside) and target != "graders"]  # fmt: skip
    assert problems == []


# -- one declaration of each option and each piece of metadata --------------------------------
def test_grading_options_are_declared_once():
    from graders.batch.job import Job
    from graders.batch.run import BatchOptions
    from graders.core.context import GradingContext
    from graders.core.options import GradeOptions

    options = {f.name for f in dataclasses.fields(GradeOptions)}
    for carrier in (BatchOptions, Job, GradingContext):
        fields = {f.name for f in dataclasses.fields(carrier)}
        assert fields & options == set(), carrier
        whole = [f for f in dataclasses.fields(carrier) if f.type in ("GradeOptions", GradeOptions)]
        assert len(whole) == 1, f"{carrier.__name__} must carry GradeOptions whole"


def test_the_command_line_fills_every_grading_option_by_name():
    """Each grading flag's destination is a GradeOptions field, so a new option is the
    dataclass and one parser line."""
    from graders.cli import build_parser
    from graders.core.options import GradeOptions

    options = {f.name for f in dataclasses.fields(GradeOptions)}
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("check", "grade"):
        dests = {a.dest for a in commands[name]._actions}
        assert {"confinement", "require", "insecure_sandbox", "seed", "data_dir", "download",
                "eval_set", "secrets_file"} <= dests & options  # fmt: skip
    args = commands["check"].parse_args(
        ["a2", "--no-download", "--secrets", "s.json", "--only", "x", "--seed", "7"]
    )
    parsed = GradeOptions.from_args(args)
    assert parsed == GradeOptions(download=False, secrets_file=Path("s.json"), only=("x",), seed=7)


def _string_literals(path: Path) -> set[str]:
    """The string constants of a module's code (docstrings are prose, not declarations)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    }  # fmt: skip


def test_assignment_metadata_lives_in_its_package_only():
    """Titles are written in graders/aN/__init__.py and nowhere else, and the lab
    totals are derived (no module but the catalog knows them)."""
    for module, path in MODULES.items():
        literals = _string_literals(path)
        for spec in catalog.specs():
            if module != f"graders.{spec.key}":
                assert spec.title not in literals, f"{path} repeats the title of {spec.key}"
        text = path.read_text(encoding="utf-8")
        assert "LAB_MAX_POINTS" not in text and "LAB_MINIMUM_POINTS" not in text, path


# -- the catalog -------------------------------------------------------------------------------
def test_the_catalog_adds_up_to_the_course():
    """Five assignments worth 10/15/30/15/30 = 100 points, 35 to pass (the course rules)."""
    assert catalog.assignment_keys() == ("a1", "a2", "a3", "a4", "a5")
    assert [s.points for s in catalog.specs()] == [10, 15, 30, 15, 30]
    assert catalog.lab_max_points() == 100 and catalog.pass_mark() == 35
    lab = catalog.lab_result([])
    assert lab.max_points == 100 and lab.minimum_points == 35


@pytest.mark.parametrize("key", catalog.assignment_keys())
def test_each_graders_criteria_add_up_to_its_points(key):
    spec = catalog.spec(key)
    grader = importlib.import_module(spec.grader_module)
    points = [
        mark.kwargs["points"]
        for name, item in vars(grader).items()
        if name.startswith("test") and callable(item)
        for mark in getattr(item, "pytestmark", [])
        if mark.name == "criterion"
    ]
    assert points and round(sum(points), 6) == spec.points


# -- a sixth assignment ------------------------------------------------------------------------
SIXTH_SPEC = '''
"""Assignment 6 (5 points, week 14): a dot product."""

from graders.kit import NO_ML_FRAMEWORKS, AssignmentSpec, Limits, RulePolicy, SandboxSpec

ASSIGNMENT = AssignmentSpec(
    key="a6",
    title="Dot products, a throw-away sixth assignment",
    points=5,
    week=14,
    required_files=("a6/dot.py",),
    sandboxes=(SandboxSpec("numpy", (NO_ML_FRAMEWORKS,), libraries=("numpy",)),),
    policies=(RulePolicy(NO_ML_FRAMEWORKS, files=("a6/*.py",)),),
    grader_module="graders.a6.grader",
    limits=Limits(memory_bytes=2 * 2**30, cpu_seconds=60, call_timeout_s=10),
    submission_timeout_s=120,
    rules="numpy only",
)
'''

SIXTH_GRADER = '''
"""Grader of the sixth assignment."""

from graders.kit import Credit, GradingContext, criterion, expect


@criterion(id="dot", points=3, title="dot of two vectors")
def test_dot(grading: GradingContext, rng) -> None:
    dot = grading.module("a6.dot", sandbox="numpy")
    a, b = rng.normal(size=4), rng.normal(size=4)
    expect.close(expect.number(dot.dot(a.tolist(), b.tolist()), "dot"), a @ b, "dot")


@criterion(id="norm", points=2, title="norm of a vector")
def test_norm(grading: GradingContext, credit: Credit) -> None:
    dot = grading.module("a6.dot", sandbox="numpy")
    expect.close(expect.number(dot.norm([3.0, 4.0]), "norm"), 5.0, "norm of [3, 4]")
'''

SIXTH_REFERENCE = """
import numpy as np


def dot(a, b):
    return float(np.dot(a, b))


def norm(a):
    return float(np.sqrt(dot(a, a)))
"""

SIXTH_STUB = """
def dot(a, b):
    raise NotImplementedError("dot is not implemented yet")


def norm(a):
    raise NotImplementedError("norm is not implemented yet")
"""


@pytest.fixture
def sixth_assignment(tmp_path, monkeypatch):
    """graders/a6/ in a temporary folder, found by the catalog like any assignment."""
    package = tmp_path / "graders" / "a6"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(SIXTH_SPEC))
    (package / "grader.py").write_text(textwrap.dedent(SIXTH_GRADER))
    for folder, text in (("reference", SIXTH_REFERENCE), ("student_template", SIXTH_STUB)):
        (tmp_path / folder / "a6").mkdir(parents=True)
        (tmp_path / folder / "a6" / "dot.py").write_text(textwrap.dedent(text))
    import graders

    monkeypatch.setattr(graders, "__path__", [*graders.__path__, str(tmp_path / "graders")])
    catalog.reload()
    yield tmp_path
    for name in [m for m in sys.modules if m == "graders.a6" or m.startswith("graders.a6.")]:
        del sys.modules[name]
    monkeypatch.undo()
    catalog.reload()


def test_a_sixth_assignment_needs_only_its_own_folders(sixth_assignment, capsys):
    """The README's recipe: graders/a6/ (spec and grader), reference/a6/, student_template/a6/;
    nngrade lists it, grades it, and adds its points to the lab."""
    from graders import cli

    assert catalog.assignment_keys()[-1] == "a6" and catalog.lab_max_points() == 105
    assert cli.main(["list"]) == 0
    assert "a6  Dot products, a throw-away sixth assignment" in capsys.readouterr().out

    for folder, points in (("reference", 5), ("student_template", 0)):
        status = cli.main(["check", "a6", "--submission", str(sixth_assignment / folder),
                           "--format", "json"])  # fmt: skip
        report = capsys.readouterr().out
        assert status == 0, report
        result = json.loads(report)
        assert (result["assignment"], result["points"], result["max_points"]) == ("a6", points, 5)
        assert [c["status"] for c in result["criteria"]] == ["passed" if points else "failed"] * 2


def test_tests_share_helpers_not_each_other():
    """Shared test code lives in helpers.py (and data modules such as a1_cases.py); fixtures
    in conftest.py, which pytest loads itself: no test imports conftest or another test."""
    found = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}:{node.lineno} imports {name}" for name in names
                      if name == "conftest" or name.startswith("test_")]  # fmt: skip
    assert found == []
