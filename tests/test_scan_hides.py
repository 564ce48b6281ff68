"""Imports hidden from a plain AST walk: code in strings (``exec("import torch")``), IPython's
own syntax in a notebook cell (``;exec import torch`` runs ``exec("import torch")``), and code
nested so deeply that the parser gives up. Assignment 2 (numpy allowed, torch forbidden).

The cells are rewritten as IPython rewrites them: by IPython itself when it is installed (the
test extra has it, through ipykernel), else by nngrade's reimplementation; every notebook
test runs both ways, and the reimplementation is held to IPython's output.
"""

from __future__ import annotations

import ast
import random
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import REFERENCE, SHARED_DATA

from graders import notebook_templates
from graders.a2 import ASSIGNMENT as A2
from graders.core import notebooks
from graders.core.notebooks import ipython_syntax
from graders.core.notebooks import relocate_location as locate
from graders.core.options import GradeOptions
from graders.core.results import Status
from graders.core.runner import grade
from graders.core.static_scan import scan
from graders.failures import does_not_parse

RULE = "no-ml-frameworks"


@pytest.fixture(params=["ipython", "reimplementation"])
def rewriter(request, monkeypatch) -> str:
    """Rewrite cells with IPython (when installed) or with nngrade's reimplementation."""
    if request.param == "ipython":
        pytest.importorskip("IPython", reason="IPython is in the test extra")
        assert ipython_syntax._ipython_manager() is not None
    else:
        # ipython_transform looks it up in ipython_syntax when it runs: patch it there
        monkeypatch.setattr(ipython_syntax, "_ipython_manager", lambda: None)
    return request.param


def scan_notebook(tmp_path: Path, *sources: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Scan an a2 notebook whose code cells are ``sources`` (cells 1, 2, ... fewer than 10):
    the violations as (rule, "a2/perceptron.ipynb, cell C, line L imports M") in the order
    of the cells, and the notices."""
    built = notebooks.build(list(enumerate(sources, start=1)), "a2/perceptron.ipynb")
    module = tmp_path / "a2" / "perceptron.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(built.text)
    violations, unparsable = scan(tmp_path, A2, frozenset({"a2"}), {module: built.scan_text})
    modules = {built.module: built}
    notebooks.relocate_violations(violations, lambda place: locate(place, modules))
    found = [(v.rule, f"{v.file} imports {v.module}") for v in violations]
    return sorted(found), [
        does_not_parse(locate(e.location, modules), e.detail).reason for e in unparsable
    ]


def scan_module(tmp_path: Path, text: str) -> tuple[list[tuple[str, int, str]], list[str]]:
    """Scan ``a2/perceptron.py`` holding ``text``: (rule, line, module) of each violation,
    by line."""
    module = tmp_path / "a2" / "perceptron.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(text)
    violations, unparsable = scan(tmp_path, A2, frozenset({"a2"}))
    return sorted((v.rule, v.line, v.module) for v in violations), [e.reason for e in unparsable]


# -- notebooks: what IPython runs is scanned ----------------------------------------------


@pytest.mark.parametrize(
    ("cell", "line", "module"),
    [
        ('x = 1\nexec("import torch")', 2, "torch"),
        (";exec import torch", 1, "torch"),  # IPython runs exec("import torch")
        ("/__import__ 'torch'", 1, "torch"),  # __import__('torch')
        ("%time import torch", 1, "torch"),
        ("%timeit -n 1 -r 1 import torch", 1, "torch"),
        ("x = %time import torch", 1, "torch"),
        ("%time ;exec import torch", 1, "torch"),  # %time rewrites its code too
        ("%%capture\n\n;exec import torch", 3, "torch"),  # a cell magic's body is a cell
        ("%%timeit -n 1 import torch\npass", 1, "torch"),  # %%timeit's setup code
        ("def f():\n    %time import torch\n    return 1", 2, "torch"),
        ("for i in range(3):\n    ;exec import sklearn", 2, "sklearn"),
        ('get_ipython().run_cell("import torch")', 1, "torch"),
        ('get_ipython().run_cell_magic("time", "", ";exec import torch")', 1, "torch"),
        (">>> import torch\n>>> x = 1", 1, "torch"),  # a pasted session: prompts dropped
        ('exec("""\n>>> import torch\n""")', 1, "torch"),  # ... even inside a string
        ("\n\n    import torch\n    !ls", 3, "torch"),  # an indented cell is dedented
        ("exec(\"exec('import torch')\")", 1, "torch"),  # code in a string in a string
    ],
)
def test_code_ipython_runs_is_scanned_at_its_cell_and_line(tmp_path, rewriter, cell, line, module):
    found, _ = scan_notebook(tmp_path, "import numpy as np", cell)
    assert found == [(RULE, f"a2/perceptron.ipynb, cell 2, line {line} imports {module}")]


def test_a_cell_with_ipython_syntax_keeps_its_definitions(tmp_path, rewriter):
    """Only the lines IPython made are left out of the module; the scan reads them as run."""
    cells = ["import numpy as np", "%matplotlib inline\n;exec import torch\n\ndef f(x):\n"
             "    !echo training\n    return np.asarray(x)\n\nSIZES = (784, 10)"]  # fmt: skip
    built = notebooks.build(list(enumerate(cells, start=1)), "a2/perceptron.ipynb")
    module = ast.parse(built.text)
    assert [type(n).__name__ for n in module.body] == ["Import", "FunctionDef", "Assign"]
    assert "get_ipython" not in built.text and "exec" not in built.text
    assert {(p.cell, p.line) for p in built.left_out} == {(2, 1), (2, 2), (2, 5)}
    [notice] = built.notices()
    assert "cell 2 (line 1: %matplotlib inline, line 2: ;exec import torch, 1 more)" in notice
    found, _ = scan_notebook(tmp_path, *cells)
    assert found == [(RULE, "a2/perceptron.ipynb, cell 2, line 2 imports torch")]


def test_a_cell_that_does_not_parse_after_the_rewrite_is_reported(tmp_path, rewriter):
    cells = ["import numpy as np", ";exec import torch\ndef broken(:\n    pass", "!ls\n" * 600]
    built = notebooks.build(list(enumerate(cells, start=1)), "a2/perceptron.ipynb")
    assert [(p.cell, p.line, p.text) for p in built.left_out if p.cell > 1] == [
        (2, 2, "does not parse (invalid syntax)"),
        (3, 1, "does not parse (invalid syntax)"),  # IPython gives up after 500 rewrites
    ]
    found, _ = scan_notebook(tmp_path, *cells)
    assert found == []  # neither cell runs in a kernel


def test_only_literal_strings_are_read(tmp_path, rewriter):
    """A name built at run time cannot be known statically: the worker's runtime import
    blocker and its filesystem allowlist stop those (tests/test_hostile.py)."""
    cells = ['name = "torch"\n__import__(name)\nexec("import " + name)\n__import__("to" + "rch")',
             'PATTERN = re.compile("import torch")\nget_ipython().run_line_magic("pip", "install torch")']  # fmt: skip
    found, unparsable = scan_notebook(tmp_path, *cells)
    assert found == [] and unparsable == []


# -- modules: the same calls, the same rule ------------------------------------------------


def test_dynamic_imports_in_a_module_break_the_rule(tmp_path):
    text = (
        "import importlib\n"
        "import numpy as np\n"
        "__import__('torch')\n"
        "importlib.import_module('sklearn')\n"
        "exec(compile('import jax', 'x', 'exec'))\n"
        "eval(\"__import__('tensorflow')\")\n"
        "builtins.exec(b'import keras')\n"
        "exec(f'import torch.nn')\n"
        "importlib.import_module('.helpers', 'a2')\n"
        "importlib.import_module('sk' + 'learn')\n"  # built at run time: the runtime blocker's
    )
    found, unparsable = scan_module(tmp_path, text)
    assert found == [
        (RULE, 3, "torch"), (RULE, 4, "sklearn"), (RULE, 5, "jax"), (RULE, 6, "tensorflow"),
        (RULE, 7, "keras"), (RULE, 8, "torch.nn"),
    ]  # fmt: skip
    assert unparsable == []


def test_an_exec_string_in_a_helper_module_is_followed(tmp_path):
    """``exec("from . import helper")`` imports a submission module: it is scanned too."""
    (tmp_path / "a2").mkdir()
    (tmp_path / "a2" / "__init__.py").write_text("")
    (tmp_path / "a2" / "helper.py").write_text("\n\nimport torch\n")
    found, _ = scan_module(tmp_path, 'exec("from . import helper")\n')
    assert found == [(RULE, 3, "torch")]


# -- code nested too deeply: no crash, and it counts as hiding an import ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(" * 200_000 + ")" * 200_000, "SyntaxError"),  # too many nested parentheses
        ("x = " + "-" * 100_000 + "1", "could not be scanned: nested too deeply"),
        ("x = " + "not " * 100_000 + "1", "could not be scanned: nested too deeply"),
        ("x = " + " + ".join(["1"] * 50_000), "could not be scanned: nested too deeply"),
    ],
    ids=["parentheses", "minus", "not", "sum"],
)
def test_deep_nesting_in_a_module_does_not_crash_the_scan(tmp_path, text, expected):
    found, unparsable = scan_module(tmp_path, "import numpy as np\n" + text + "\n")
    [problem] = unparsable
    assert expected in problem, problem
    if expected == "SyntaxError":  # Python cannot run it either: nothing is hidden
        assert found == []
    else:
        reason = "an unknown module (this code could not be scanned: nested too deeply)"
        assert found == [(RULE, 0, reason)]
        assert "counts as breaking the import rules" in problem


def test_deep_nesting_in_strings_and_cells_is_counted_where_it_is(tmp_path, rewriter):
    deep = "-" * 100_000 + "1"
    nested = "import torch"
    for _ in range(12):  # exec(exec(... 12 strings deep
        nested = f"exec({nested!r})"
    chain = "x = a" + ".b" * 2_000 + "()"  # deeper than Python's recursion limit
    cells = ["import numpy as np", f"exec({deep!r})", deep, nested, chain, "%time " + deep]
    found, unparsable = scan_notebook(tmp_path, *cells)
    hidden = "imports an unknown module (this code could not be scanned: "
    assert found == [
        (RULE, f"a2/perceptron.ipynb, cell 2, line 1 {hidden}nested too deeply)"),
        (RULE, f"a2/perceptron.ipynb, cell 3, line 1 {hidden}nested too deeply)"),
        (RULE, f"a2/perceptron.ipynb, cell 4, line 1 {hidden}code in strings nested too deeply)"),
        (RULE, f"a2/perceptron.ipynb, cell 6, line 1 {hidden}nested too deeply)"),
    ]
    assert len(unparsable) == 4 and all("could not be scanned" in u for u in unparsable)


# -- the reimplementation is IPython's rewrite ---------------------------------------------

CELLS = [
    "%time import torch", ";exec import torch", ",f a b", "/f a b", "x = !ls", "x = %time 1",
    "torch?", "a.b??", "?x", "!!ls -la", "%magic?", "a = b?", "x ?", "  ?", "??",
    "\n\n  %time \\\n  import torch\nimport os", "%%time\nimport torch", "%%writefile a.py\nx\n",
    "def g():\n    '''100\n% of it\n'''\n    !ls\n    return 1", 's = """\n!ls\n"""\n%pwd',
    "!echo it's\nx = 1\n%time y", "if x:\n    !ls\nelse:\n    %time 1", "a, b = !ls",
    "x[1] = !!ls", "x == !ls", "x != %a", "x = % time", "x = %1", 'x = %f"a"', "a; b = %time c",
    "x = %time 1; y = 2", "f(a=%time)", "lambda a=%x: 1", "x = 1 # ?", 'x = "?"', "x=1;!ls",
    "print(x)?\n!ls", "/ \n;exec import torch", ">>> import torch\n... x = 1",
    "In [1]: import torch\n   ...: x = 1", '>>> def f():\n...     """>>> no"""\n...     !ls',
    "x = (1,\n     %time)\n!ls", "x = 'abc\\\ndef'\n!ls", "print('a\\\nb')\n%time 1",
    "    x = %time 1\n    y = 2", "\t!ls", "x = 1 \\\n + 2\n!ls", "# comment\n%time 1",
]  # fmt: skip
FRAGMENTS = [
    "!ls", "%time import torch", ";exec import torch", ",f a b", "/f a b", "x = !ls",
    "x = %time 1", "torch?", "a.b??", "x = 1", "def f():", "    return 1", "    !ls",
    "    %time x", "s = '''", "'''", 'x = "it\'s"', "y = (1,", "  2)", "z = [", "]", "x = 1 \\",
    "  + 2", "%time \\", "# c ?", "print(x)?", "?", "??", "if x:", "  pass", "", "   ", "x = 'a",
    'q = """', "%%time", ">>> import os", "... x = 1", "f'{x!r}'", "x == !y", "a; b = %time c",
    "lambda a=%x: 1", "%%%x", "!!x", "x = !", "x = %", "\\", "u'''", "#!shebang", "\tx = 1",
    "    ;exec import torch", "class A:", "    def g(self):", "        !ls", "(", ")",
]  # fmt: skip


def _both(cell: str):
    """(IPython's transform_cell, the reimplementation's (text, origin, made), IPython's
    traced steps' (text, origin, made)); None where one gives up."""
    from IPython.core.inputtransformer2 import TransformerManager

    lines = ipython_syntax._with_ends(cell if cell.endswith("\n") else cell + "\n")
    results = []
    for rewrite in (
        lambda: TransformerManager().transform_cell(cell),
        lambda: ipython_syntax._reimplemented(list(lines)),
        lambda: ipython_syntax._traced_ipython(TransformerManager(), list(lines)),
    ):
        try:
            results.append(rewrite())
        except Exception:
            results.append(None)
    return results


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


@pytest.mark.parametrize("cell", CELLS)
def test_the_reimplementation_rewrites_cells_as_ipython_does(cell):
    pytest.importorskip("IPython", reason="IPython is in the test extra")
    expected, ours, traced = _both(cell)
    if expected is not None and _parses(expected):
        assert ours is not None and "".join(ours[0]) == expected
    if ours is not None and traced is not None and ours[0] == traced[0]:
        assert ours[1:] == traced[1:]  # the same line map
    assert traced is None or "".join(traced[0]) == expected


def test_random_cells_run_the_same_code_both_ways():
    """Whenever what IPython makes of a cell is Python, the reimplementation makes the same
    (where IPython's result is no Python either, neither cell runs)."""
    pytest.importorskip("IPython", reason="IPython is in the test extra")
    chance = random.Random(20240611)
    differ = []
    for _ in range(1500):
        cell = "\n".join(chance.choice(FRAGMENTS) for _ in range(chance.randint(1, 6)))
        expected, ours, _ = _both(cell)
        runs = expected is not None and _parses(expected)
        if runs and (ours is None or "".join(ours[0]) != expected):
            differ.append(cell)
    assert differ == []


def test_without_ipython_the_reimplementation_rewrites_cells(monkeypatch):
    """IPython is no dependency of nngrade: importing the scan does not import it, and
    without it the reimplementation does the rewrite."""
    code = "import sys, graders.core.static_scan; print('IPython' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.stdout.strip() == "False", imported.stderr
    for name in ("IPython", "IPython.core", "IPython.core.inputtransformer2"):
        monkeypatch.setitem(sys.modules, name, None)  # import IPython... fails
    ipython_syntax._ipython_manager.cache_clear()
    try:
        assert ipython_syntax._ipython_manager() is None
        assert notebooks.ipython_text(";exec import torch") == 'exec("import torch")\n'
    finally:
        ipython_syntax._ipython_manager.cache_clear()


def test_the_reimplementation_is_linear_in_the_cell():
    """IPython re-reads a cell after each rewrite; a long cell is rewritten in one pass."""
    cell = "x = f(a, b) + 1  # c\n" * 20_000 + "!ls\n" * 300
    transformed = notebooks.ipython_transform(cell, notebooks.Work(0))  # no IPython time
    assert len(transformed.lines) == 20_300 and transformed.made == frozenset(range(20_001, 20_301))
    assert transformed.place(20_300) == 20_300


# -- grading end to end -----------------------------------------------------------------------


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_exec_in_a_notebook_zeroes_the_rule_criteria_with_its_cell_and_line(tmp_path):
    submission = tmp_path / "nb"
    notebook_templates.convert_folder(REFERENCE, submission)
    shutil.rmtree(submission / "a1")
    path = submission / "a2" / "perceptron.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell('SEED = 0\nexec("import torch")'))
    nbformat.write(notebook, path)
    options = GradeOptions(data_dir=SHARED_DATA, download=False, only=("softmax_one_hot",))
    result = grade(A2, submission, options)
    where = "a2/perceptron.ipynb, cell 4, line 2"
    assert [(v.rule, v.file, v.module) for v in result.violations] == [(RULE, where, "torch")]
    for criterion in result.criteria:  # the rule covers every criterion of a2
        assert criterion.points == 0 and criterion.status == Status.VIOLATION
        assert criterion.reason.startswith(f"rule broken: {where} imports torch (static scan)")
