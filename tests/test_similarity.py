"""``nngrade similarity``: disguised copies rank above independent work, the template never
counts, notebooks count with their left-out cells, and the report is safe to open.

Run alone with ``python -m pytest tests/test_similarity.py`` (a few seconds).
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import similarity_class as sc
from helpers import TEMPLATE

from graders import cli
from graders.similarity.normalise import normalise, parse_leniently

#: Students and the solution they derive from; a pair is a copy when these match.
FAMILY = {
    "reference": "reference",
    "reference-disguised": "reference",
    "lists": "lists",
    "lists-renamed": "lists",
    "lists-loops-reordered": "lists",
    "objects": "objects",
    "@SUM(1)+2": "objects",  # a hostile name, and a hostile file name inside
    "loops": "loops",
    "loops-as-for": "loops",
    "stepwise": "stepwise",
    "nb-stepwise": "stepwise",  # a notebook
    "nb-compact": "compact",  # a notebook sharing only its experiment with nb-stepwise
}
HOSTILE_FILE = "a3/<img src=x onerror=alert(1)>.py"
HOSTILE_COMMENT = "# </pre><script>alert(1)</script>"


def _hostile_copy(text: str) -> str:
    """A renamed copy with a comment inside its longest function (shown in the fragment)."""
    lines = sc.rename(text, seed=9).splitlines()
    inside = next(i for i, line in enumerate(lines) if line.startswith("def backward")) + 3
    indent = re.match(r"\s*", lines[inside])[0]
    return "\n".join([*lines[:inside], indent + HOSTILE_COMMENT, *lines[inside:]]) + "\n"


def build_class(root: Path) -> None:
    solution = sc.solution
    every = ("rename", "reorder", "comments", "loops")
    write = sc.write_student
    write(root, "reference", {"a3/mlp.py": solution("reference")})
    write(root, "reference-disguised", {"a3/mlp.py": sc.disguise(solution("reference"), every, 1)})
    write(root, "lists", {"a3/mlp.py": solution("lists")})
    write(root, "lists-renamed", {"a3/mlp.py": sc.rename(solution("lists"), 2)})
    lists_copy = sc.disguise(solution("lists"), ("loops", "reorder", "comments"), 3)
    write(root, "lists-loops-reordered", {"a3/mlp.py": lists_copy})
    write(root, "objects", {"a3/mlp.py": solution("objects")})
    hostile = {"a3/mlp.py": "from .helpers import *\n", HOSTILE_FILE: _hostile_copy(
        solution("objects"))}  # fmt: skip
    write(root, "@SUM(1)+2", hostile)
    write(root, "loops", {"a3/mlp.py": solution("loops")})
    folder = write(root, "loops-as-for", {"a3/mlp.py": sc.loops(solution("loops"))})
    with zipfile.ZipFile(root / "loops-as-for.zip", "w") as bundle:  # a zip, as exported
        for path in sorted(folder.rglob("*")):
            bundle.write(path, "nn-lab-main/" + path.relative_to(folder).as_posix())
    shutil.rmtree(folder)
    write(root, "stepwise", {"a3/mlp.py": solution("stepwise")})
    stepwise_copy = sc.comments(solution("stepwise"), 4)
    write(root, "nb-stepwise", {"a3/mlp.ipynb": sc.notebook(stepwise_copy, [sc.EXPERIMENT])})
    experiment = sc.rename(sc.EXPERIMENT, 5)
    write(root, "nb-compact", {"a3/mlp.ipynb": sc.notebook(solution("compact"), [experiment])})
    for stub in ("stub-1", "stub-2"):  # handed in untouched
        shutil.copytree(TEMPLATE / "a3", root / stub / "a3")
    (root / "empty").mkdir()  # no a3/ at all


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("similarity")
    build_class(root / "class")
    out = root / "out"
    status = cli.main(["similarity", "a3", str(root / "class"), "--out", str(out),
                       "--top", "1000"])  # fmt: skip
    assert status == 0
    with (out / "similarity.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    html = (out / "similarity.html").read_text()
    return {"rows": rows, "html": html, "out": out, "class": root / "class"}


def _experiment_cell(path: Path) -> int:
    """The number of the notebook's cell that holds the experiment (counting from 1)."""
    cells = json.loads(path.read_text())["cells"]
    return next(n for n, c in enumerate(cells, 1) if "learning_rates.png" in "".join(c["source"]))


def _student(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def _rows(report: dict) -> dict[frozenset[str], dict]:
    return {frozenset((_student(r["student_a"]), _student(r["student_b"]))): r
            for r in report["rows"]}  # fmt: skip


def _family(student: str) -> str | None:
    for name, family in FAMILY.items():
        if student == re.sub(r"[^A-Za-z0-9._@+-]+", "_", name).strip("._"):
            return family
    return None


def test_disguised_copies_rank_above_every_independent_pair(report):
    ranked = [(_family(_student(r["student_a"])), _family(_student(r["student_b"])))
              for r in report["rows"]]  # fmt: skip
    copies = [i for i, (a, b) in enumerate(ranked) if a is not None and a == b]
    independent = [i for i, (a, b) in enumerate(ranked) if a != b]
    expected = {
        frozenset((x, y))
        for x in FAMILY
        for y in FAMILY
        if x < y and FAMILY[x] == FAMILY[y] and "nb-compact" not in (x, y)
    }
    assert len(copies) == len(expected)
    assert max(copies) < min(independent), [report["rows"][i] for i in independent[:3]]
    rows = _rows(report)
    copy_scores = [float(rows[frozenset(p)]["similarity"]) for p in (
        ("reference", "reference-disguised"), ("loops", "loops-as-for"),
        ("lists", "lists-loops-reordered"))]  # fmt: skip
    assert min(copy_scores) > 0.6
    independent_scores = [float(report["rows"][i]["similarity"]) for i in independent]
    assert max(independent_scores) < 0.3


def test_the_template_never_counts(report):
    rows = _rows(report)
    stubs = rows.get(frozenset(("stub-1", "stub-2")))
    assert stubs is None or float(stubs["similarity"]) < 0.02
    # Every solution keeps the template's constants, types and signatures: not a match.
    assert "lines 1-" not in rows[frozenset(("lists", "stepwise"))]["code_a"]


def test_groups_are_connected_copies(report):
    rows = _rows(report)
    groups = {
        _student(r["student_a"]): r["group"]
        for r in report["rows"]
        if r["group"]
    }  # fmt: skip
    group = rows[frozenset(("lists", "lists-renamed"))]["group"]
    assert group and rows[frozenset(("lists", "lists-loops-reordered"))]["group"] == group
    assert "Group 1: 3 students" in report["html"]
    assert not rows[frozenset(("reference", "reference-disguised"))]["group"]  # only two
    assert set(groups.values()) == {group}


def test_a_notebook_counts_with_its_left_out_cells(report):
    rows = _rows(report)
    copy = rows[frozenset(("stepwise", "nb-stepwise"))]
    assert float(copy["similarity"]) > 0.6
    notebook_side = copy["code_b"] if _student(copy["student_b"]) == "nb-stepwise" else (
        copy["code_a"])  # fmt: skip
    assert "a3/mlp.ipynb cell" in notebook_side
    # nb-compact and nb-stepwise share nothing but the experiment (a left-out cell).
    shared = rows[frozenset(("nb-compact", "nb-stepwise"))]
    assert int(shared["longest_fragment_tokens"]) > 100
    for side in ("a", "b"):
        student = _student(shared[f"student_{side}"])
        cell = _experiment_cell(report["class"] / student / "a3" / "mlp.ipynb")
        assert f"cell {cell}, line " in shared[f"code_{side}"], shared


def test_student_text_is_escaped_in_both_files(report):
    html, rows = report["html"], report["rows"]
    assert "<script" not in html and "<img" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the comment, shown
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in html  # the file name, shown
    assert all(link.startswith("#") for link in re.findall(r'(?:href|src)="([^"]*)"', html))
    assert "http" not in html.lower().replace("http-equiv", "")  # nothing fetched
    hostile = [r for r in rows if "@SUM" in r["student_a"] + r["student_b"]]
    assert hostile
    for row in rows:
        for column in ("student_a", "student_b", "code_a", "code_b"):
            assert not row[column].startswith(("=", "+", "-", "@")), row[column]
    assert any(r["student_a"].startswith("'@SUM") or r["student_b"].startswith("'@SUM")
               for r in hostile)  # fmt: skip


def test_students_without_code_are_listed(report):
    assert "empty: no code in a3/" in report["html"]


def test_bad_input_is_one_clear_message(tmp_path, capsys):
    cases = [
        (["similarity", "a3", str(tmp_path / "missing"), "--out", str(tmp_path / "o")],
         "does not exist"),
        (["similarity", "a3", str(tmp_path), "--out", str(tmp_path / "o")], "at least two"),
        (["similarity", "a3", str(tmp_path), "--out", str(tmp_path / "o"), "--template",
          str(tmp_path / "nowhere")], "template folder"),
        (["similarity", "a3", str(tmp_path), "--out", str(tmp_path / "o"), "--threshold", "2"],
         "--threshold"),
    ]  # fmt: skip
    sc.write_student(tmp_path, "only-one", {"a3/mlp.py": sc.solution("lists")})
    for argv, message in cases:
        assert cli.main(argv) == 2
        error = capsys.readouterr().err
        assert error.startswith("nngrade: error: ") and message in error, error
        assert "Traceback" not in error
    with pytest.raises(SystemExit) as exit_info:  # argparse: an unknown assignment
        cli.main(["similarity", "a9", str(tmp_path), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2


# -- the normalisation itself --------------------------------------------------------------


def test_renaming_comments_and_loop_forms_leave_the_tokens_alone():
    original = '''
def total(values: list[float]) -> float:
    """Sum of squares."""
    result = 0.0
    for i in range(len(values)):
        result = result + values[i] ** 2  # square it
    if result > 100:
        return result
    return -result
'''
    disguised = """
def add_up(xs):
  acc = 0.0
  # loop over everything
  k = 0
  while k < len(xs):
    acc += xs[k] ** 2
    k += 1
  if 100 < acc: return acc
  return -acc
"""
    assert normalise(original).tokens == normalise(disguised).tokens
    assert normalise("x = np.sum(a, axis=1)").tokens != normalise("x = np.max(a, axis=1)").tokens


def test_a_file_that_does_not_parse_is_read_as_far_as_it_does():
    tree, problem = parse_leniently("def broken(:\n    pass\n\ndef fine(x):\n    return x\n")
    assert tree is not None and "line 1" in problem
    assert [node.name for node in tree.body] == ["fine"]
    assert normalise("\x00").problem


# -- the synthetic class is honest -----------------------------------------------------------


def _gradient_error(module: types.ModuleType, activation: str, option: str) -> float:
    module.ACTIVATION, module.OPTION = activation, option
    rng = np.random.default_rng(0)
    params = module.init_params((5, 4, 3), seed=1)
    X, Y = rng.normal(size=(6, 5)), np.eye(3)[rng.integers(0, 3, 6)]

    def loss(p: dict) -> float:
        P, _ = module.forward(p, X)
        penalty = sum(np.sum(w**2) for k, w in p.items() if k[0] == "W") * module.L2_LAMBDA / 2
        return -np.sum(Y * np.log(P)) / len(X) + (penalty if option == "l2" else 0.0)

    grads = module.backward(params, module.forward(params, X)[1], Y)
    worst = 0.0
    for name, value in params.items():
        for index in np.ndindex(value.shape):
            old = value[index]
            value[index] = old + 1e-6
            up = loss(params)
            value[index] = old - 1e-6
            down = loss(params)
            value[index] = old
            worst = max(worst, abs((up - down) / 2e-6 - grads["d" + name][index]))
    return worst


@pytest.mark.parametrize("name", list(sc.SOLUTIONS))
def test_each_solution_and_its_disguise_is_correct(name):
    """Independent solutions and disguised copies compute the same gradients as finite
    differences: the class is made of working code, as a real one is."""
    every = ("dead", "rename", "reorder", "comments", "loops")
    for text in (sc.solution(name), sc.disguise(sc.solution(name), every, seed=3)):
        module = types.ModuleType(f"solution_{name}")
        exec(compile(text, module.__name__, "exec"), module.__dict__)
        for activation, option in (("relu", "l2"), ("sigmoid", "scheduler"), ("tanh", "l2")):
            assert _gradient_error(module, activation, option) < 1e-6
        scheduler = module.PlateauScheduler(1.0)
        assert [scheduler.step(m) for m in (0.5, 0.5, 0.5, 0.6)] == [1.0, 1.0, 0.5, 0.5]


@pytest.mark.parametrize("name", list(sc.SOLUTIONS))
def test_statements_that_do_nothing_leave_the_tokens_alone(name):
    """Dead code between a copy's lines (unread values, numpy calls whose result nothing
    reads, bare expressions, pass, no-op arithmetic, code after return) is not compared."""
    original = normalise(sc.solution(name)).tokens
    for seed in range(3):
        assert normalise(sc.dead(sc.solution(name), seed)).tokens == original


def test_only_statements_without_effect_are_dropped():
    kept = """
def f(a, b, shared):
    c = a @ b
    shared += 1          # may change the caller's array
    shared[0] = 2        # changes it
    log.append(c)        # a call with an effect
    d = print(c)         # a call that may have one, though d is never read
    e = c
    e = e + 1            # not a no-op
    g = 0
    for i in range(3):
        g = g + c        # read on the next pass and after the loop
    h = 5
    k = lambda: h        # read by a closure
    return e, g, k
"""
    body = ast.parse(kept).body[0].body
    from graders.similarity.liveness import without_dead_code

    pruned = without_dead_code(ast.parse(kept)).body[0].body
    assert [ast.dump(s) for s in pruned] == [ast.dump(s) for s in body]
    dead = kept.replace(
        "    return e, g, k", "    unread = e + g\n    e\n    return e, g, k\n    g = 1"
    )
    assert len(without_dead_code(ast.parse(dead)).body[0].body) == len(body)
