"""Notebook submissions: real ``.ipynb`` files written with nbformat, graded like modules.

Reference notebooks are made by the template script from ``reference/``; a seeded bug or a
hostile change is made in the ``.py`` and the notebook twin converted from it, so both are
graded on the same code. Only a1 (about a second) and a2 (about half a minute) are graded
here; for a3, a4 and a5 the module built from the notebook is shown to be the reference
module itself (same AST), so their grade is the same by construction.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import shutil
import sys
import time
import types
from pathlib import Path

import nbformat
import pytest
from a1_cases import FULL as FULL_A1
from a1_cases import PURE_RULE_LOSS
from helpers import (
    FAST_A1,
    REFERENCE,
    REPO,
    SHARED_DATA,
    build_submission,
    inject_at_start,
    points_by_criterion,
    replace_once,
)

from graders import cli, notebook_templates
from graders.batch.run import BatchOptions, grade_class
from graders.core import notebooks
from graders.core.options import GradeOptions
from graders.core.results import AssignmentResult, CriterionResult, Status
from graders.core.runner import grade
from graders.notebook import Report
from graders.notebook import check as notebook_check
from graders.render.live_notebook import NotebookProgress


def as_notebooks(folder: Path, target: Path) -> Path:
    """The submission ``folder`` with every assignment module converted to a notebook."""
    notebook_templates.convert_folder(folder, target)
    return target


def add_cells(path: Path, *sources: str, before_last: bool = True) -> list[int]:
    """Append code cells (before the check cell); their cell numbers, counted from 1."""
    notebook = nbformat.read(path, as_version=4)
    at = len(notebook.cells) - 1 if before_last else len(notebook.cells)
    for offset, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"added-{offset}"
        notebook.cells.insert(at + offset, cell)
    nbformat.write(notebook, path)
    return [at + offset + 1 for offset in range(len(sources))]


def cell_and_line(path: Path, text: str) -> tuple[int, int]:
    """Where ``text`` is in the notebook: (cell number among all cells, line in the cell)."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        for line_number, line in enumerate(cell.source.split("\n"), start=1):
            if text in line:
                return number, line_number
    raise AssertionError(f"{text!r} is in no cell")


def grade_a1(submission: Path):
    return grade(FAST_A1, submission)


# -- building the module ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["a1", "a2", "a3", "a4", "a5"])
def test_reference_notebooks_build_exactly_the_reference_modules(key, tmp_path):
    """The grade of a notebook is the grade of the module built from it; for every
    assignment that module is the reference module (same AST, nothing left out), so the
    converted references get the references' full marks (graded below for a1 and a2)."""
    as_notebooks(REFERENCE, tmp_path)
    for module in sorted((REFERENCE / key).glob("*.py")):
        if module.name == "__init__.py":
            continue
        relative = f"{key}/{module.stem}.ipynb"
        built = notebooks.convert(tmp_path / relative, relative)
        assert built.error == "" and built.left_out == [] and built.notices() == []
        assert ast.dump(ast.parse(built.text)) == ast.dump(ast.parse(module.read_text()))


def test_what_a_module_keeps_and_leaves_out():
    cells = [
        (1, '"""Docstring."""\nimport math'),
        (3, "%matplotlib inline\n!pip install torch\nimport numpy as np"),
        (4, "EPOCHS = 10\nLR: float = 0.1\nSIZES = (784, 128, 10)\nX = -1\nA, B = 1, 2"),
        (5, "_TERM = __import__('re').compile('x')\nPAT = re.compile('[a-z]+')"),
        (6, "W = np.zeros(3)\nparams = train(X, B)\nLR2 = (time.sleep(600), 0.1)[1]"),
        (7, "SQUARES = [i * i for i in range(10)]\nrelu = lambda x: np.maximum(x, 0)"),
        (8, "try:\n    import torch\nexcept ImportError:\n    torch = None"),
        (
            9,
            "import matplotlib.pyplot as plt\nfor epoch in range(3):\n    plt.plot(epoch)\n"
            "x = 1; print(x)",
        ),
        (10, "from google.colab import drive\nif __name__ == '__main__':\n    drive.mount('/c')"),
        (
            11,
            "from __future__ import annotations\n\n@decorator(3)\ndef f(a=1):\n"
            "    return math.floor(a)",
        ),
        (12, "%%time\nimport sklearn\ntrain()"),
        (13, "def broken(:\n    pass"),
        (14, "from graders import notebook\nnotebook.check('a2')"),
        (15, 'def g():\n    """100\n% of it\n"""\n    !ls\n    return 1'),
        (16, "%timeit -n 3 import jax"),
    ]
    built = notebooks.build(cells, "a2/perceptron.ipynb")
    module = ast.parse(built.text)
    kept = [ast.unparse(node).split("\n")[0] for node in module.body]
    assert kept == [
        "'Docstring.'", "from __future__ import annotations", "import math",
        "import numpy as np", "EPOCHS = 10", "LR: float = 0.1", "SIZES = (784, 128, 10)",
        "X = -1", "A, B = (1, 2)", "PAT = re.compile('[a-z]+')",
        "relu = lambda x: np.maximum(x, 0)", "try:", "x = 1", "@decorator(3)", "def g():",
    ]  # fmt: skip
    left = {(p.cell, p.line) for p in built.left_out}
    # Imports that only left-out cells use (matplotlib, google.colab) are left out too.
    assert {(3, 1), (3, 2), (5, 1), (6, 1), (6, 2), (6, 3), (7, 1), (9, 1), (9, 2), (9, 4),
            (10, 1), (10, 2), (12, 1), (13, 1), (15, 5), (16, 1)} == left  # fmt: skip
    assert "matplotlib" in built.scan_text and "matplotlib" not in built.text
    assert "% of it" in built.text and "!ls" not in built.text  # a docstring line stays
    # Every kept line says where it came from: the future import was moved to the top.
    future = built.text.split("\n").index("from __future__ import annotations") + 1
    assert built.place(future) == notebooks.Place(11, 1)
    # The scan reads the left-out code too, the %%time body included; not the check cell.
    scanned = ast.dump(ast.parse(built.scan_text))
    assert "sklearn" in scanned and "jax" in scanned and "'graders'" not in scanned
    [notice] = built.notices()
    assert notice.startswith("a2/perceptron.ipynb: left out of the graded module")
    assert "cell 3 (line 1: %matplotlib inline, line 2: !pip install torch)" in notice
    assert "cell 6 (line 1: W = np.zeros(3), line 2: params = train(X, B), 1 more)" in notice
    assert "cell 13 (line 1: does not parse (invalid syntax))" in notice
    assert notice.endswith("; and cells 15, 16")  # 8 cells in full, then only their numbers


def test_a_constant_computed_from_left_out_code_is_left_out_too():
    cells = [
        (1, "import numpy as np\nimport torch"),
        (2, "data = np.load('mnist.npz')\nX_train = data['x_train']\nN = X_train.shape[0] // 2"),
        (3, "def f():\n    return X_train\nX_train = 3\nM = X_train + 1"),
        (4, "DEVICE = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
            "RNG = np.random.default_rng(0)\nW0 = np.array([[1.0, 2.0]])\nZ = np.zeros(3)"),
    ]  # fmt: skip
    built = notebooks.build(cells, "a2/perceptron.ipynb")
    assert [(p.cell, p.line) for p in built.left_out] == [(2, 1), (2, 2), (2, 3), (4, 4)]
    assert "M = X_train + 1" in built.text and "RNG = np.random.default_rng(0)" in built.text


def test_code_too_deep_to_judge_is_left_out_not_a_grader_crash():
    deep = "X = " + " + ".join(["1"] * 50_000)
    nested = "Y = " + "(" * 500 + "1" + ")" * 500
    cells = [(1, "import math"), (2, deep), (3, nested), (4, "def f():\n    return math.pi")]
    built = notebooks.build(cells, "a1/pure.ipynb")
    assert [ast.unparse(node) for node in ast.parse(built.text).body][0] == "import math"
    assert [p.cell for p in built.left_out] == [2, 3]
    assert "does not parse" in built.left_out[1].text


def test_locations_are_mapped_to_cells_and_lines():
    built = notebooks.build(
        [(2, "import math"), (4, "\n\ndef f():\n    return 1 / 0")], "a1/pure.ipynb"
    )
    line = built.text.split("\n").index("    return 1 / 0") + 1
    modules = {built.module: built}
    for text, expected in [
        (f"ZeroDivisionError (at a1/pure.py:{line} in f)",
         "ZeroDivisionError (at a1/pure.ipynb, cell 4, line 4 in f)"),
        (f"invalid syntax (pure.py, line {line})", "invalid syntax (pure.ipynb, cell 4, line 4)"),
        (f'File "/tmp/x/a1/pure.py", line {line}, in f', 'File "a1/pure.ipynb, cell 4, line 4, in f'),
        ("could not import a1/pure.py: ...", "could not import a1/pure.ipynb: ..."),
        ("a1/vectorized.py:3 and a1/purer.py:2", "a1/vectorized.py:3 and a1/purer.py:2"),
    ]:  # fmt: skip
        assert notebooks.relocate_text(text, modules) == expected


def test_a_failures_location_is_mapped_by_lookup_not_by_its_text():
    """A failure's place is moved to the notebook's cell and line by looking up its file and
    line before its reason is put in words; a file that is not a notebook's module keeps its
    place, and a student's message that looks like a place is left as the student wrote it."""
    import functools

    from graders.failures import FailureKind, Location, location_from_where
    from graders.sandbox.call_errors import raised_failure as _raised_failure
    from graders.sandbox.reply import StudentRaised

    built = notebooks.build(
        [(2, "import math"), (4, "\n\ndef f():\n    return 1 / 0")], "a1/pure.ipynb"
    )
    line = built.text.split("\n").index("    return 1 / 0") + 1
    modules = {built.module: built}
    where = location_from_where(f"a1/pure.py:{line} in f")
    assert where == Location("a1/pure.py", line, scope="f")
    assert notebooks.relocate_location(where, modules) == Location("a1/pure.ipynb", 4, 4, "f")
    other = Location("a1/vectorized.py", 3)
    assert notebooks.relocate_location(other, modules) == other
    locate = functools.partial(notebooks.relocate_location, modules=modules)
    raised = StudentRaised(
        "ZeroDivisionError", "not at a1/pure.py:7", f"a1/pure.py:{line} in f", "call", "a1.pure:f"
    )
    failure = _raised_failure("f", raised, locate)
    assert failure.location == Location("a1/pure.ipynb", 4, 4, "f")
    assert failure.kind == FailureKind.RAISED
    assert failure.reason == (
        "f raised ZeroDivisionError: not at a1/pure.py:7 (at a1/pure.ipynb, cell 4, line 4 in f)"
    )
    raised.stage = "import"
    failure = _raised_failure("f", raised, locate)
    assert failure.kind == FailureKind.COULD_NOT_IMPORT and failure.subject == "a1/pure.ipynb"
    assert failure.reason.startswith("could not import a1/pure.ipynb: ZeroDivisionError")


# -- grading: full marks, seeded bugs, top-level code ------------------------------------


def test_reference_notebooks_of_a1_get_full_marks(tmp_path):
    result = grade_a1(as_notebooks(REFERENCE, tmp_path))
    assert points_by_criterion(result) == FULL_A1
    assert result.notices == [] and result.violations == []


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_reference_notebook_of_a2_gets_full_marks(tmp_path):
    from graders.a2 import ASSIGNMENT as A2

    submission = tmp_path / "nb"
    notebook_templates.convert_folder(REFERENCE, submission)
    shutil.rmtree(submission / "a1")
    result = grade(A2, submission, GradeOptions(data_dir=SHARED_DATA, download=False))
    assert result.points == A2.points == 15, [(c.id, c.reason) for c in result.criteria]
    assert result.notices == [] and result.violations == []


def test_seeded_bug_loses_the_same_points_as_its_module_twin(tmp_path):
    edits = {
        "a1/pure.py": lambda text: inject_at_start("trace", "raise RuntimeError('boom')")(
            replace_once("(-1) ** (row + col)", "(-1) ** row")(text)
        )
    }
    module_way = build_submission(tmp_path / "py", edits=edits)
    notebook_way = as_notebooks(module_way, tmp_path / "nb")
    as_module, as_notebook = grade_a1(module_way), grade_a1(notebook_way)
    assert points_by_criterion(as_notebook) == points_by_criterion(as_module)
    assert points_by_criterion(as_module) != FULL_A1
    cell, line = cell_and_line(notebook_way / "a1/pure.ipynb", "raise RuntimeError('boom')")
    reason = {c.id: c.reason for c in as_notebook.criteria}["pure.basic_ops"]
    assert f"a1/pure.ipynb, cell {cell}, line {line} in trace" in reason, reason
    assert ".py" not in reason


def test_what_student_code_printed_points_into_the_notebook_too(tmp_path):
    """--verbose shows the student's own output; a traceback in it names cells, not the
    generated module's lines."""
    edits = {"a1/pure.py": inject_at_start("trace", "import traceback; traceback.print_stack()")}
    notebook_way = as_notebooks(build_submission(tmp_path / "py", edits=edits), tmp_path / "nb")
    result = grade(FAST_A1, notebook_way, GradeOptions(verbose=True, only=("pure.basic_ops",)))
    printed = result.output_tail["pure"]
    cell, line = cell_and_line(notebook_way / "a1/pure.ipynb", "traceback.print_stack()")
    assert f"pure.ipynb, cell {cell}, line {line}" in printed, printed
    assert "pure.py" not in printed


def test_top_level_training_code_is_left_out_and_listed(tmp_path):
    submission = as_notebooks(REFERENCE, tmp_path)
    path = submission / "a1/pure.ipynb"
    added = add_cells(
        path,
        "%matplotlib inline\n!pip install numpy",
        "import time\n\ntime.sleep(600)",
        "for size in range(100):\n    print(determinant([[1.0, 2.0], [3.0, 4.0]]))",
        "DELAY = __import__('time').sleep(600)\nA, B = load_system('missing.txt')",
        "if __name__ == '__main__':\n    while True:\n        pass",
    )
    started = time.monotonic()
    result = grade_a1(submission)
    assert time.monotonic() - started < 60  # no sleep(600), no endless loop ran
    assert points_by_criterion(result) == FULL_A1
    [notice] = [n for n in result.notices if "left out" in n]
    for cell in added:
        assert f"cell {cell} (line " in notice, notice
    assert f"cell {added[1]} (line 1: import time, line 3: time.sleep(600))" in notice


# -- hostile notebooks -----------------------------------------------------------------


def test_forbidden_import_in_a_left_out_cell_breaks_the_rule_like_in_the_module(tmp_path):
    hidden = "\n\nif __name__ == '__main__':\n    import numpy as np\n    print(np.eye(3))\n"
    module_way = build_submission(tmp_path / "py", edits={"a1/pure.py": lambda t: t + hidden})
    notebook_way = as_notebooks(module_way, tmp_path / "nb")
    as_module, as_notebook = grade_a1(module_way), grade_a1(notebook_way)
    assert points_by_criterion(as_notebook) == points_by_criterion(as_module)
    assert points_by_criterion(as_notebook) == {**FULL_A1, **PURE_RULE_LOSS}
    cell, line = cell_and_line(notebook_way / "a1/pure.ipynb", "import numpy as np")
    [violation] = as_notebook.violations
    assert violation.file == f"a1/pure.ipynb, cell {cell}, line {line}"
    assert violation.module == "numpy" and violation.detected_by == "static scan"
    zeroed = [c for c in as_notebook.criteria if c.id in PURE_RULE_LOSS]
    assert all(c.status == Status.VIOLATION for c in zeroed)
    assert f"a1/pure.ipynb, cell {cell}, line {line} imports numpy" in zeroed[0].reason


@pytest.mark.parametrize(
    "content, says",
    [("this is not JSON {", "not a Jupyter notebook (NotJSONError"),
     ('{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a Jupyter notebook"),
     ('{"cells": [{"source": "x"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
      "not a Jupyter notebook")],
    ids=["not-json", "cells-not-a-list", "cell-without-type"],
)  # fmt: skip
def test_an_unreadable_notebook_is_one_clear_reason(content, says, tmp_path):
    submission = build_submission(tmp_path)
    (submission / "a1/pure.py").unlink()
    (submission / "a1/pure.ipynb").write_text(content)
    result = grade_a1(submission)
    points = points_by_criterion(result)
    assert {k: v for k, v in points.items() if k.startswith("vectorized")} == {
        k: v for k, v in FULL_A1.items() if k.startswith("vectorized")
    }
    assert all(points[c] == 0 for c in PURE_RULE_LOSS)
    reason = {c.id: c.reason for c in result.criteria}["pure.basic_ops"]
    assert reason.startswith("could not import a1/pure.ipynb: ImportError: a1/pure.ipynb cannot")
    assert says in reason and "Traceback" not in reason and result.internal_errors == []
    assert any(n.startswith("a1/pure.ipynb cannot be read as a notebook") for n in result.notices)


def test_a_notebook_named_like_a_configuration_file_is_ignored(tmp_path):
    from graders.core.submission import stage

    submission = build_submission(tmp_path / "s")
    for name in ("conftest", "sitecustomize"):
        nbformat.write(nbformat.v4.new_notebook(), submission / "a1" / f"{name}.ipynb")
    staged = stage(submission, FAST_A1)
    try:
        assert not (staged.root / "a1/conftest.py").exists()
        assert not (staged.root / "a1/sitecustomize.py").exists()
        assert (
            "ignored a1/conftest.ipynb: the grader never uses configuration from a "
            "submission" in staged.notices
        )
    finally:
        staged.cleanup()


def test_a_module_and_its_notebook_together_are_a_clear_error(tmp_path):
    submission = as_notebooks(REFERENCE, tmp_path / "s")
    shutil.copy(REFERENCE / "a1/pure.py", submission / "a1/pure.py")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        status = cli.main(["check", "a1", "--submission", str(submission)])
    assert status == 2
    assert "both a1/pure.py and a1/pure.ipynb are in the submission" in errors.getvalue()
    assert "delete a1/pure.py to have the notebook graded" in errors.getvalue()


# -- batch and the notebook front end ----------------------------------------------------


def test_batch_grading_accepts_a_notebook_submission(tmp_path):
    submissions = tmp_path / "submissions"
    as_notebooks(REFERENCE, submissions / "nora")
    shutil.rmtree(submissions / "nora" / "a2")  # only a1 matters here
    options = BatchOptions(("a1",), submissions, tmp_path / "out", jobs=1, progress=False)
    assert grade_class(options).graded == 1
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text()
    [row] = [line for line in gradebook.splitlines() if line.startswith("nora,")]
    assert ",10," in row, gradebook
    # Re-running the cells (outputs, execution counts) is no change; editing code is.
    path = submissions / "nora" / "a1" / "pure.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = 7
            cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    nbformat.write(notebook, path)
    assert grade_class(options).skipped == 1
    add_cells(path, "def helper():\n    return 1")
    assert grade_class(options).graded == 1


def test_ci_accepts_notebooks_unchanged(tmp_path):
    """Gradescope (bare files uploaded) and the GitHub workflow's `check --all --format github`."""
    from graders.integrations import gradescope

    notebooks_folder = as_notebooks(REFERENCE, tmp_path / "converted") / "a1"
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    for name in ("pure.ipynb", "vectorized.ipynb"):  # uploaded without the a1/ folder
        shutil.copy(notebooks_folder / name, root / "submission" / name)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert gradescope.run("a1", root, None, None) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 10 and len(results["tests"]) == 8, results
    repository = tmp_path / "repository"
    shutil.copytree(notebooks_folder, repository / "a1")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = cli.main(["check", "--all", "--format", "github", "--submission", str(repository)])
    assert status == 4  # a1 graded; a2-a5 are not in the repository (named in the report)
    assert output.getvalue().rstrip().splitlines()[-1] == "Points 10/10"


def test_the_report_is_an_escaped_html_table_and_plain_text():
    criterion = CriterionResult("pure.basic_ops", "basic <ops>", 1.5, 1.5, Status.PASSED,
                                reason="got <script>")  # fmt: skip
    result = AssignmentResult("a1", "Linear systems", 10, criteria=[criterion])
    report = Report("a1", "pure.ipynb", result)
    page = report._repr_html_()
    assert "<table" in page and "basic &lt;ops&gt;" in page and "got &lt;script&gt;" in page
    assert "a1: Linear systems — 1.5/10" in page and "Ctrl+S" in page
    assert report.points == 1.5 and report.max_points == 10
    assert "[1.5/10 points]" in repr(report) and "pure.ipynb" in repr(report)


def test_check_says_clearly_what_is_wrong_without_a_traceback(tmp_path):
    missing = notebook_check("a1", path=tmp_path / "nope.ipynb")
    assert not missing.graded and "does not exist" in missing.error
    assert "could not grade a1" in missing._repr_html_()
    assert "unknown assignment" in notebook_check("a9", path=tmp_path).error


def test_in_a_kernel_the_cell_shows_criteria_as_they_finish(tmp_path, monkeypatch):
    """notebook.check shows one display that it updates while grading (IPython's display
    with an id, as Jupyter and Colab have it): the criteria finished so far and the one
    running; at the end one line is left above the report."""
    shown: list = []

    class Handle:
        def update(self, snapshot) -> None:
            shown.append(snapshot)

    def display(snapshot, display_id=False):
        assert display_id is True
        shown.append(snapshot)
        return Handle()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    ipython.display = types.ModuleType("IPython.display")
    ipython.display.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython.display)
    monkeypatch.setattr(NotebookProgress, "UPDATE_EVERY_S", 0.0)  # each event and each look
    notebook = as_notebooks(REFERENCE, tmp_path / "converted") / "a1" / "pure.ipynb"
    report = notebook_check("a1", path=notebook)
    assert report.graded and report.points == 10, report.error
    rows = [len(snapshot.rows) for snapshot in shown]
    assert rows[0] == 0 and rows[-2] == 8 and rows[-1] == 0  # the last: one line
    # each criterion as it finished, however close together (a1's all finish within a look)
    assert rows[:-1] == sorted(rows[:-1]) and set(rows) == set(range(9))
    during = next(snapshot for snapshot in shown if snapshot.rows)
    # The first to finish is the first to run: numpy's (a1's run_first), not the report's first.
    assert "<table" in during._repr_html_() and "vectorized.load_system" in during._repr_html_()
    assert "a1: 10/10 points, 8 criteria graded" in repr(shown[-1])


def test_outside_a_kernel_check_shows_nothing_while_it_grades(monkeypatch):
    assert NotebookProgress.in_kernel() is None  # plain Python (IPython installed or not)
    monkeypatch.setitem(sys.modules, "IPython", None)  # IPython not installed at all
    assert NotebookProgress.in_kernel() is None


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_in_colab_the_open_notebook_is_asked_from_the_page(tmp_path, monkeypatch):
    """Colab keeps the notebook in the browser (and Drive): check asks the page for it, as
    Colab's own download does, and says that it graded what the page holds."""
    contents = json.loads((REPO / "student_template/notebooks/a2/perceptron.ipynb").read_text())
    contents["metadata"]["colab"] = {"name": "Copy of perceptron.ipynb"}
    asked = []

    def blocking_request(kind, timeout_sec):
        asked.append(kind)
        return {"ipynb": contents}

    message = types.ModuleType("google.colab._message")
    message.blocking_request = blocking_request
    colab = types.ModuleType("google.colab")
    colab._message = message
    google = types.ModuleType("google")
    google.colab = colab
    for name, module in (("google", google), ("google.colab", colab),
                         ("google.colab._message", message)):  # fmt: skip
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.chdir(tmp_path)
    report = notebook_check("a2", data_dir=SHARED_DATA)
    assert asked == ["get_ipynb"] and report.graded, report.error
    assert report.points == 0 and report.max_points == 15
    assert report.notebook.endswith("Copy of perceptron.ipynb")
    assert "as Colab holds it now" in report._repr_html_()


def test_in_colab_what_the_notebook_saved_is_graded_with_it(tmp_path):
    """An a5 agent trained in Colab is saved in /content, the kernel's folder, not next to
    the notebook (which lives in the page): it goes into the graded folder too."""
    from graders.notebook import build_submission

    content = tmp_path / "content"
    (content / "sample_data").mkdir(parents=True)
    (content / "agent.pt").write_bytes(b"weights")
    (content / "sample_data" / "mnist_test.csv").write_text("0")
    notebook = tmp_path / "page" / "agent.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    graded = build_submission(notebook, "a5", tmp_path / "graded", beside=content)
    assert sorted(p.name for p in (graded / "a5").iterdir()) == ["agent.ipynb", "agent.pt"]


def test_the_notebook_is_found_as_jupyter_vs_code_or_its_folder_say(tmp_path, monkeypatch):
    from graders.notebook import NotebookNotFound, _module_name, find_notebook

    folder = tmp_path / "a2"
    folder.mkdir()
    path = folder / "perceptron.ipynb"
    path.write_text("{}")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert find_notebook("a2") == folder / "perceptron.ipynb"  # by its name, in the folder
    other = tmp_path / "Copy of perceptron.ipynb"
    other.write_text("{}")
    assert find_notebook("a2", {"__vsc_ipynb_file__": str(other)}) == other
    monkeypatch.setenv("JPY_SESSION_NAME", str(other))
    assert find_notebook("a2") == other
    assert _module_name(other, "a2") == "perceptron"  # a renamed copy of the one module
    with pytest.raises(NotebookNotFound, match="name it pure.ipynb or vectorized.ipynb"):
        _module_name(other, "a1")
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(NotebookNotFound, match='path="pure.ipynb"'):
        find_notebook("a1")


def test_the_template_notebooks_are_up_to_date():
    """The committed student_template/notebooks are what the script makes of the modules."""
    assert notebook_templates.main(["--check"]) == 0, "run: python -m graders.notebook_templates"


def test_a_template_notebook_runs_in_a_real_kernel_and_shows_the_points(tmp_path):
    """The a1 template notebook, executed by Jupyter's own machinery (nbclient, ipykernel):
    its last cell grades the saved notebook, found through JPY_SESSION_NAME as Jupyter
    Server sets it, and displays the points as HTML."""
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    folder = tmp_path / "work" / "a1"
    shutil.copytree(REPO / "student_template/notebooks/a1", folder)
    path = folder / "pure.ipynb"
    kernels = tmp_path / "kernels" / "nngrade-test"
    kernels.mkdir(parents=True)
    python_path = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "nngrade test", "language": "python",
        "env": {"JPY_SESSION_NAME": str(path), "PYTHONPATH": ":".join(python_path)},
    }))  # fmt: skip
    manager = KernelManager(
        kernel_name="nngrade-test",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]),
    )
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, km=manager, timeout=300, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    outputs = notebook.cells[-1].outputs
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "— 0/10</h2>" in html, outputs
    assert "<table" in html and "not implemented yet" in html
    # the display that showed the criteria while they ran, left as one line
    assert "nngrade: a1: 0/10 points, 8 criteria graded in" in html
