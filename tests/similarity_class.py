"""Synthetic assignment-3 classes for the similarity check: independent solutions and
disguised copies of them, with the truth about which pairs are copies.

The independent solutions are ``reference/a3/mlp.py`` and the five hand-written ones in
``tests/similarity_solutions/`` (different structure, names, loops and choices; each
passes a gradient check). A disguise is what a copier does to hide a copy, each one
keeping the program working: ``rename`` (variables, helpers and attributes get new
names), ``reorder`` (functions move), ``comments`` (comments and docstrings rewritten,
blank lines and indentation changed) and ``loops`` (counting ``for`` loops become
``while`` loops, or the other way round). Used by tests/test_similarity.py and
bench/similarity.py.
"""

from __future__ import annotations

import ast
import builtins
import io
import itertools
import random
import re
import tokenize
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_MLP = REPO / "student_template" / "a3" / "mlp.py"
SOLUTIONS_DIR = Path(__file__).resolve().with_name("similarity_solutions")

#: Independent solutions of a3/mlp.py, by name.
SOLUTIONS: dict[str, Path] = {
    "reference": REPO / "reference" / "a3" / "mlp.py",
    **{path.stem.removeprefix("a3_"): path for path in sorted(SOLUTIONS_DIR.glob("a3_*.py"))},
}

_WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta_",
    "omega",
    "kappa",
    "sigma_",
    "tau",
    "theta",
    "zeta",
    "buffer",
    "chunk",
    "holder",
    "item",
    "value_",
    "thing",
    "stuff",
    "temp",
    "tmp",
    "res",
    "out_",
    "acc",
    "total_",
    "part",
    "piece",
    "block",
    "node",
    "unit",
    "cell",
    "slot",
    "store",
    "memo",
    "data_",
    "info",
    "box",
    "bag",
    "pack",
    "load",
    "frame",
    "span",
    "mark",
    "step_",
    "tick",
    "turn",
    "round_",
    "pass_",
    "fold",
    "wave",
    "flow",
    "link",
    "path_",
    "edge",
    "tile",
    "grid",
]


def _template_names() -> frozenset[str]:
    """Names a copy keeps: what the template binds (functions, parameters, constants)."""
    names: set[str] = {"self", "cls", "lr", "factor", "patience", "min_lr", "best"}
    for node in ast.walk(ast.parse(TEMPLATE_MLP.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return frozenset(names)


# -- disguises -------------------------------------------------------------------------------


def rename(source: str, seed: int) -> str:
    """Every variable, helper and attribute the student chose gets a new name."""
    tree = ast.parse(source)
    keep = set(_template_names()) | set(dir(builtins))
    chosen: set[str] = set()
    attributes: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            keep.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.keyword) and node.arg:
            keep.add(node.arg)  # keyword arguments name someone else's parameters
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            chosen.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            chosen.add(node.name)
            if isinstance(node, ast.ClassDef):  # methods are attributes too
                attributes.update(f.name for f in node.body if isinstance(f, ast.FunctionDef))
        elif isinstance(node, ast.arguments):
            chosen.update(a.arg for a in node.args + node.kwonlyargs)
            with_defaults = node.args[len(node.args) - len(node.defaults) :] + node.kwonlyargs
            keep.update(a.arg for a in with_defaults)  # a caller may name them
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            attributes.add(node.attr)
    chosen = (chosen | attributes) - keep
    attributes -= keep
    rng = random.Random(seed)
    words = [w for w in _WORDS if w not in source]
    rng.shuffle(words)
    names = (f"{w}{n or ''}" for n in itertools.count() for w in words)
    taken = set(re.findall(r"\w+", source))
    mapping: dict[str, str] = {}
    for old in sorted(chosen):
        new = next(names)
        while new in taken:
            new = next(names)
        mapping[old] = new
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits = []
    depth = 0  # of brackets: ``name=`` inside them is a keyword argument
    for index, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if tok.type == tokenize.STRING and re.match(r"(?i)r?fr?['\"]", tok.string):
            edits.append((tok.start, tok.end, _renamed_fields(tok.string, mapping)))
            continue
        if tok.type != tokenize.NAME or tok.string not in mapping:
            continue
        before = tokens[index - 1].string if index else ""
        after = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if before == "." and tok.string not in attributes:
            continue
        if after == "=" and before in ("(", ",") and depth > 0:
            continue  # a keyword argument: someone else's parameter
        edits.append((tok.start, tok.end, mapping[tok.string]))
    return _apply(source, edits)


def _renamed_fields(fstring: str, mapping: dict[str, str]) -> str:
    """An f-string with the names in its ``{...}`` fields renamed (one line, no nesting)."""

    def field(match: re.Match[str]) -> str:
        names = re.sub(r"(?<![.\w])[A-Za-z_]\w*", lambda m: mapping.get(m[0], m[0]), match[1])
        return "{" + names + "}"

    return re.sub(r"(?<!\{)\{([^{}]*)\}", field, fstring)


def _apply(source: str, edits: Iterable[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    """Replace (start, end) token spans, given as (row, col) pairs, by new text."""
    lines = source.splitlines(keepends=True)
    for (row, col), (end_row, end_col), text in sorted(edits, reverse=True):
        if row != end_row:
            continue  # a string over several lines: never one with a field here
        line = lines[row - 1]
        lines[row - 1] = line[:col] + text + line[end_col:]
    return "".join(lines)


def reorder(source: str, seed: int) -> str:
    """The top-level functions and classes, in another order (with their comments)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    nodes = tree.body
    chunks: list[tuple[int, int, bool]] = []  # (first line, last line, movable), 0-based
    start = 0
    for index, node in enumerate(nodes):
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        end = nodes[index + 1].lineno - 1 if index + 1 < len(nodes) else len(lines)
        if index + 1 < len(nodes):
            following = nodes[index + 1]
            decorators = getattr(following, "decorator_list", [])
            end = min([following.lineno] + [d.lineno for d in decorators]) - 1
            while end > node.end_lineno and lines[end - 1].lstrip().startswith("#"):
                end -= 1  # comments just above the next definition go with it
        movable = isinstance(node, (ast.FunctionDef, ast.ClassDef))
        chunks.append((min(start, first), end, movable))
        start = end
    movable = [c for c in chunks if c[2]]
    shuffled = list(movable)
    rng = random.Random(seed)
    while len(shuffled) > 1 and shuffled == movable:
        rng.shuffle(shuffled)
    order = iter(shuffled)
    parts = []
    for chunk in chunks:
        first, end, is_movable = next(order) if chunk[2] else chunk
        text = "".join(lines[first:end]).strip("\n")
        parts.append(text + "\n")
    return "\n\n".join(parts)


_PHRASES = (
    "compute it",
    "this part was tricky",
    "see lecture 5",
    "TODO clean up",
    "works now",
    "main logic here",
    "helper",
    "as in the slides",
)


def comments(source: str, seed: int) -> str:
    """Other comments and docstrings, other blank lines, two-space indentation."""
    rng = random.Random(seed)
    lines = source.splitlines()
    dropped: set[int] = set()
    for node in ast.walk(ast.parse(source)):  # docstrings: a new one-liner, or none
        body = getattr(node, "body", None)
        if not (isinstance(body, list) and body and isinstance(body[0], ast.Expr)):
            continue
        first = body[0]
        if isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            dropped.update(range(first.lineno - 1, first.end_lineno))
            if len(body) == 1 or rng.random() < 0.5:
                indent = lines[first.lineno - 1][: first.col_offset]
                lines[first.lineno - 1] = f'{indent}"""{rng.choice(_PHRASES).capitalize()}."""'
                dropped.discard(first.lineno - 1)
    text = "\n".join(line for row, line in enumerate(lines) if row not in dropped) + "\n"
    kept = []
    comment_rows: dict[int, int] = {}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            comment_rows[tok.start[0]] = tok.start[1]
    for row, line in enumerate(text.splitlines(), start=1):
        if row in comment_rows:
            line = line[: comment_rows[row]].rstrip()
            if not line:
                continue
        if not line.strip():
            continue
        kept.append(line)
    text = "\n".join(kept) + "\n"
    starts = {node.lineno: node.col_offset for node in ast.walk(ast.parse(text))
              if isinstance(node, ast.stmt)}  # fmt: skip
    result = []
    for row, line in enumerate(text.splitlines(), start=1):
        depth = len(line) - len(line.lstrip(" "))
        if row in starts and starts[row] == 0 and result:
            result.append("")
        if row in starts and rng.random() < 0.15:
            result.append(" " * (depth // 2) + "# " + rng.choice(_PHRASES))
        result.append(" " * (depth // 2) + line.lstrip(" "))
    return "\n".join(result) + "\n"


def loops(source: str, seed: int = 0) -> str:
    """Counting ``while`` loops as ``for`` loops when there are any, else counting ``for``
    loops as ``while`` loops."""
    for_loops = _while_to_for(source)
    return for_loops if for_loops != source else _for_to_while(source)


def _no_continue(loop: ast.stmt) -> bool:
    stack = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Continue):
            return False
        if not isinstance(node, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return True


def _for_to_while(source: str) -> str:
    while True:
        tree = ast.parse(source)
        lines = source.splitlines()
        found = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name)
            and node.iter.func.id == "range"
            and 1 <= len(node.iter.args) <= 3
            and not node.orelse
            and node.iter.end_lineno == node.lineno
            and _no_continue(node)
        ]
        if not found:
            return source
        loop = max(found, key=lambda node: node.lineno)
        name = loop.target.id
        args = [ast.get_source_segment(source, a) for a in loop.iter.args]
        start, stop, step = ("0", args[0], "1") if len(args) == 1 else (*args[:2], "1")
        if len(args) == 3:
            step = args[2]
        indent = " " * loop.col_offset
        inner = " " * loop.body[0].col_offset
        down = step.startswith("-")
        test = f"{name} > {stop}" if down else f"{name} < {stop}"
        update = f"{name} -= {step[1:].strip()}" if down else f"{name} += {step}"
        end = loop.end_lineno
        new = lines[: loop.lineno - 1] + [f"{indent}{name} = {start}", f"{indent}while {test}:"]
        new += lines[loop.lineno : end] + [f"{inner}{update}"] + lines[end:]
        source = "\n".join(new) + "\n"


def _while_to_for(source: str) -> str:
    while True:
        tree = ast.parse(source)
        lines = source.splitlines()
        found = []
        for node in ast.walk(tree):
            for body in (getattr(node, "body", None), getattr(node, "orelse", None)):
                if not isinstance(body, list):
                    continue
                for before, loop in itertools.pairwise(body):
                    pattern = _counting_while(before, loop)
                    if pattern:
                        found.append(pattern)
        if not found:
            return source
        before, loop, name, start, stop, step, down = max(found, key=lambda p: p[1].lineno)
        indent = " " * loop.col_offset
        if down:
            header = f"for {name} in range({start}, {stop}, -{step}):"
        elif step == "1":
            header = (
                f"for {name} in range({stop}):"
                if start == "0"
                else (f"for {name} in range({start}, {stop}):")
            )
        else:
            header = f"for {name} in range({start}, {stop}, {step}):"
        update = loop.body[-1]
        new = lines[: before.lineno - 1] + [indent + header]
        new += lines[loop.lineno : update.lineno - 1] + lines[update.end_lineno :]
        source = "\n".join(new) + "\n"


def _counting_while(before: ast.stmt, loop: ast.stmt):
    """(init, loop, name, start, stop, step, counting down) of ``i = a; while i < b: ...
    i += s``, else None."""
    if not (isinstance(loop, ast.While) and isinstance(before, ast.Assign)) or loop.orelse:
        return None
    if len(before.targets) != 1 or not isinstance(before.targets[0], ast.Name):
        return None
    name = before.targets[0].id
    update, test = loop.body[-1], loop.test
    if not (
        isinstance(update, ast.AugAssign)
        and isinstance(update.target, ast.Name)
        and update.target.id == name
        and isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id == name
        and before.end_lineno == before.lineno
        and loop.test.end_lineno == loop.lineno
        and _no_continue(loop)
    ):
        return None
    start = ast.unparse(before.value)
    bound = ast.unparse(test.comparators[0])
    step = ast.unparse(update.value)
    op = test.ops[0]
    if isinstance(update.op, ast.Add) and isinstance(op, ast.Lt):
        return before, loop, name, start, bound, step, False
    if isinstance(update.op, ast.Add) and isinstance(op, ast.LtE):
        return before, loop, name, start, f"{bound} + 1", step, False
    if isinstance(update.op, ast.Sub) and isinstance(op, ast.Gt):
        return before, loop, name, start, bound, step, True
    if isinstance(update.op, ast.Sub) and isinstance(op, ast.GtE):
        return before, loop, name, start, f"{bound} - 1", step, True
    return None


def dead(source: str, seed: int) -> str:
    """Statements that do nothing, between the lines of every function: values assigned
    and never read (some from numpy calls), bare expressions, ``pass``, no-op arithmetic,
    and code after a ``return``."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    lines = source.splitlines()
    numpy = "import numpy as np" in source
    inserts: list[tuple[int, str]] = []  # (after line, text)
    count = itertools.count()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for body in _bodies(function):
            for statement in body:
                indent = " " * statement.col_offset
                if isinstance(statement, ast.Return):
                    inserts.append((statement.end_lineno, f"{indent}unreached_{next(count)} = 0"))
                    continue
                if (
                    isinstance(statement, ast.Raise | ast.Break | ast.Continue)
                    or rng.random() < 0.4
                ):
                    continue
                name = f"spare_{next(count)}"
                choices = [
                    f"{name} = {rng.randint(2, 9)} * {rng.randint(2, 9)} - 1",
                    f"{name} = [0.0] * {rng.randint(2, 6)}\n{indent}{name} = {name} + []",
                    f"{name} = ({rng.randint(0, 9)}, {rng.random():.3f})\n{indent}{name}",
                    "pass",
                    f"{name} = {rng.randint(1, 9)}\n{indent}{name} += 0\n{indent}{name} = {name} * 1",
                ]
                if numpy:
                    choices.append(f"{name} = np.zeros({rng.randint(2, 5)}).sum()")
                inserts.append((statement.end_lineno, indent + rng.choice(choices)))
    for after, text in sorted(inserts, key=lambda item: -item[0]):
        lines[after:after] = text.split("\n")
    return "\n".join(lines) + "\n"


def _bodies(function: ast.FunctionDef) -> list[list[ast.stmt]]:
    """The statement lists of ``function``, its own and those of its compound statements
    (not of nested functions)."""
    found = [function.body]
    for node in ast.walk(function):
        if node is function or isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda):
            continue
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                found.append(statements)
    return found


DISGUISES: dict[str, Callable[[str, int], str]] = {
    "dead": dead,
    "rename": rename,
    "reorder": reorder,
    "comments": comments,
    "loops": loops,
}

#: The disguises a copy gets: all at once, one kind each, and other combinations.
COMBINATIONS: tuple[tuple[str, ...], ...] = (
    ("rename", "reorder", "comments", "loops"),
    ("rename",),
    ("reorder",),
    ("comments",),
    ("loops",),
    ("rename", "reorder"),
    ("rename", "loops"),
    ("comments", "loops", "reorder"),
    ("dead",),
    ("dead", "rename", "reorder", "comments", "loops"),
)


def disguise(source: str, kinds: Iterable[str], seed: int) -> str:
    for kind in kinds:
        source = DISGUISES[kind](source, seed)
    return source


# -- classes ---------------------------------------------------------------------------------


def solution(name: str) -> str:
    return SOLUTIONS[name].read_text()


def write_student(root: Path, student: str, files: dict[str, str | bytes]) -> Path:
    """A student folder as a class export holds it: ``root/student/a3/...``."""
    folder = root / student
    for relative, content in {"a3/__init__.py": "", **files}.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


def family_class(root: Path, size: int) -> dict[str, str]:
    """``size`` submissions: every solution and as many disguised copies of each as fit,
    each copy disguised by the next combination with its own seed. Returns each student's
    family (the solution they derive from): a pair is a copy when the families match."""
    families: dict[str, str] = {}
    names = list(SOLUTIONS)
    for index in range(size):
        family = names[index % len(names)]
        copy = index // len(names)
        if copy == 0:
            student, text = family, solution(family)
        else:
            kinds = COMBINATIONS[(copy - 1) % len(COMBINATIONS)]
            student = f"{family}-{copy:03d}-{'+'.join(kinds)}"
            text = disguise(solution(family), kinds, seed=index)
        write_student(root, student, {"a3/mlp.py": text})
        families[student] = family
    return families


#: A top-level experiment: left out of a notebook's module, still the student's code.
EXPERIMENT = """\
import matplotlib.pyplot as plt

results = {}
for rate in (0.01, 0.05, 0.1, 0.5):
    LEARNING_RATE = rate
    params, history = train(X_train, y_train, X_val, y_val, seed=0)
    accuracies = [entry["val_accuracy"] for entry in history]
    best_epoch = int(np.argmax(accuracies))
    results[rate] = (best_epoch, accuracies[best_epoch], history[-1]["train_loss"])
    print(f"lr={rate}: best epoch {best_epoch}, accuracy {accuracies[best_epoch]:.4f}")
ranked = sorted(results.items(), key=lambda item: -item[1][1])
for rate, (epoch, accuracy, loss) in ranked:
    print("*" if rate == ranked[0][0] else " ", rate, epoch, round(accuracy, 4), round(loss, 4))
figure, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].bar([str(rate) for rate in results], [value[1] for value in results.values()])
axes[1].plot([value[2] for value in results.values()], marker="o")
figure.savefig("learning_rates.png")
"""


def notebook(module: str, extra_cells: Iterable[str] = ()) -> str:
    """``module`` as the notebook students get (one cell per block), with ``extra_cells``
    before the last (grading) cell: the text of a3/mlp.ipynb."""
    import nbformat

    from graders.notebook_templates import module_notebook, notebook_text

    book = module_notebook(module, "a3", "mlp")
    for index, source in enumerate(extra_cells):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"extra-{index}"
        book.cells.insert(len(book.cells) - 1, cell)
    return notebook_text(book)
