"""A Jupyter or Colab notebook as a submission: the module it stands for, and where its lines are.

``a2/perceptron.ipynb`` may be handed in instead of ``a2/perceptron.py``. The notebook is
read with nbformat (any v4 notebook; older ones are upgraded) and the module is built from
its code cells, keeping only what a module runs when it is imported. Each top-level
statement of each code cell is decided on its AST:

* **kept**: ``import`` and ``from ... import`` (``from __future__`` imports are moved to the
  top, where Python requires them); ``def``, ``async def`` and ``class`` (whole, with their
  decorators and default values, as a module would run them); a bare string (a docstring);
  assignments of **module constants**: plain or annotated assignments whose targets are names
  (or tuples of names) and whose value calls nothing: literals, names, attribute look-ups,
  subscripts (``list[float]``, ``npt.NDArray[np.floating]``), operators, containers,
  f-strings, ``lambda`` (its body runs only when called). The only calls allowed in a
  constant are a few constructors of constants that students write at module level and that
  have no side effect: ``re.compile``, ``namedtuple``, ``TypeVar``, ``NewType``,
  ``frozenset``, ``torch.device`` and the like (``PURE_CALLS``). ``EPOCHS = 10``,
  ``SIZES = (784, 128, 10)`` and ``_TERM = re.compile(...)`` are kept;
  ``params = train(X, y)``, ``W = np.zeros(3)`` and ``LR = (time.sleep(600), 0.1)[1]`` are
  left out. Comprehensions and walrus assignments are left out (they run loops). A
  constant whose value reads a name that only left-out code binds is left out too
  (``data = np.load(...)`` is left out, so ``X = data["x"]`` is, rather than failing the
  whole import with a NameError). Small, bounded constructors are allowed as well:
  ``np.array``/``torch.tensor`` of literals, ``np.random.default_rng(0)``,
  ``torch.device("cuda" if torch.cuda.is_available() else "cpu")``.
* ``try:`` blocks that only import (the optional-dependency pattern ``try: import x`` /
  ``except ImportError: x = None``) are kept when every branch holds only imports, constant
  assignments and ``pass``.
* **left out**: everything else: training runs, loops, plots, ``print``, ``if __name__ ==
  "__main__":`` blocks, ``%magics`` and ``!shell`` lines, cells that start with a ``%%``
  cell magic, cells that do not parse, and the cell that calls ``notebook.check`` (that
  last one silently). Every left-out piece is reported with its cell and line.

The static scan still reads the **full** code of every cell (with magic and shell lines
blanked so that the rest parses, the statement of a ``%time``/``%timeit`` line and the body
of a ``%%`` cell included): a forbidden import in a left-out cell runs in the
student's kernel, so it breaks the rule. The scan text is the module followed by the
left-out statements, so that one line map serves both.

**Cell numbers** count every cell of the notebook from 1, markdown cells included: the
position a student sees when scrolling (Jupyter shows no other cell number; execution
counts change on every run). Lines count from 1 within the cell. Every ``file:line`` in a
report about the module is mapped back by :func:`relocate` to
``perceptron.ipynb, cell 4, line 7``.

A notebook that cannot be read (not JSON, not a notebook, over 64 MiB) becomes a module
that raises ImportError with the reason: every criterion that needs it says why in one
line, and a notice says it too.

Nothing here runs student code: cells are parsed, never executed. Leaving code out keeps
training runs from slowing grading down; it is not what keeps grading safe (what is kept
still runs, like any module, in the sandbox with its limits).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SUFFIX = ".ipynb"
#: Larger notebooks are refused before reading: outputs (plots) are what makes them large.
MAX_NOTEBOOK_BYTES = 64 * 2**20
#: Dotted names (as written) of calls allowed in a module constant: constant constructors.
PURE_CALLS = frozenset(
    {"re.compile", "namedtuple", "collections.namedtuple", "TypeVar", "typing.TypeVar",
     "NewType", "typing.NewType", "NamedTuple", "typing.NamedTuple", "frozenset", "tuple",
     "float", "int", "str", "bool", "complex", "range", "slice", "Path", "pathlib.Path",
     "np.dtype", "numpy.dtype", "np.array", "numpy.array", "np.asarray", "numpy.asarray",
     "np.random.default_rng", "numpy.random.default_rng", "torch.device", "torch.tensor",
     "torch.cuda.is_available", "torch.backends.mps.is_available"}
)  # fmt: skip
_MAGIC = re.compile(r"^(\s*)(?:[%!]|[\w.,\s]+=\s*[%!]|[\w.]+\?{1,2}\s*$|\?{1,2}[\w.])")
#: Imports of nngrade's notebook front end: the check cell, which is no part of the module.
_CHECK_MODULES = ("graders", "graders.notebook")


class NotebookError(Exception):
    """The file is not a notebook that can be read."""


@dataclass(frozen=True)
class Place:
    cell: int
    line: int


@dataclass(frozen=True)
class LeftOut:
    cell: int
    line: int
    text: str

    def snippet(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= 32 else first[:29] + "..."


@dataclass
class NotebookModule:
    """The module built from one notebook, with the place of every line it has."""

    notebook: str  # the notebook's path in the submission, e.g. "a2/perceptron.ipynb"
    text: str = ""  # the module the worker imports
    #: The module followed by the left-out statements: what the static scan reads.
    scan_text: str = ""
    #: places[i] is where line i + 1 of scan_text (hence of text) came from; None if made up.
    places: list[Place | None] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    error: str = ""  # why the notebook could not be read ("" when it could)

    @property
    def module(self) -> str:
        return str(PurePosixPath(self.notebook).with_suffix(".py"))

    def place(self, line: int) -> Place | None:
        return self.places[line - 1] if 0 < line <= len(self.places) else None

    def notices(self) -> list[str]:
        if self.error:
            return [f"{self.notebook} cannot be read as a notebook: {self.error}"]
        if not self.left_out:
            return []
        by_cell: dict[int, list[LeftOut]] = {}
        for piece in self.left_out:
            by_cell.setdefault(piece.cell, []).append(piece)
        parts = []
        for cell, pieces in list(by_cell.items())[:8]:
            shown = ", ".join(f"line {p.line}: {p.snippet()}" for p in pieces[:2])
            more = f", {len(pieces) - 2} more" if len(pieces) > 2 else ""
            parts.append(f"cell {cell} ({shown}{more})")
        rest = list(by_cell)[8:]
        if rest:
            parts.append(f"and cell{'s' * (len(rest) > 1)} {', '.join(map(str, rest))}")
        return [
            f"{self.notebook}: left out of the graded module (runs only in your notebook): "
            + "; ".join(parts)
        ]


def read_code_cells(path: Path) -> list[tuple[int, str]]:
    """(cell number among all cells, source) of every code cell; NotebookError if unreadable."""
    import nbformat

    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"it is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; clear its outputs (Edit > "
            "Clear all outputs) and save it"
        )
    try:
        notebook = nbformat.read(str(path), as_version=4)
        cells = notebook.get("cells")
        if not isinstance(cells, list):
            raise NotebookError("it has no list of cells")
        found = []
        for number, cell in enumerate(cells, start=1):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                raise NotebookError(f"cell {number} is not a notebook cell")
            if cell["cell_type"] != "code":
                continue
            source = cell.get("source", "")
            if isinstance(source, list) and all(isinstance(s, str) for s in source):
                source = "".join(source)
            if not isinstance(source, str):
                raise NotebookError(f"cell {number} has no text")
            found.append((number, source))
        return found
    except NotebookError:
        raise
    except UnicodeDecodeError:
        raise NotebookError("it is not UTF-8 text") from None
    except Exception as error:  # nbformat raises many kinds: bad JSON, a wrong schema
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise NotebookError(
            f"not a Jupyter notebook ({type(error).__name__}: {message[:150]}); open and save "
            "it again in Jupyter or Colab"
        ) from None


def content_digest(path: Path) -> str:
    """A digest of what grading reads from a notebook: each cell's type and source, in
    order. Outputs, execution counts and metadata change whenever a cell is re-run; they
    never change a grade. A file that is not a readable notebook is digested whole."""
    data = path.read_bytes()
    if len(data) > MAX_NOTEBOOK_BYTES:  # refused at grading anyway: never parsed
        return hashlib.sha256(data).hexdigest()
    try:
        cells = json.loads(data)["cells"]
        shown = [[c["cell_type"], c.get("source", "")] for c in cells]
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()
    except (ValueError, KeyError, TypeError, RecursionError):
        return hashlib.sha256(data).hexdigest()


def neutralise(source: str) -> tuple[str, set[int]]:
    """The cell with IPython-only lines (``%magic``, ``!shell``, ``x = !cmd``, ``obj?``)
    replaced by ``pass`` at the same indentation, and the numbers of those lines.

    Only applied to cells that do not parse as they are; a line inside a multi-line string
    is restored afterwards (see :func:`parse_cell`)."""
    lines = source.split("\n")
    changed = set()
    for index, line in enumerate(lines):
        match = _MAGIC.match(line)
        if match:
            lines[index] = match.group(1) + "pass"
            changed.add(index + 1)
    return "\n".join(lines), changed


def parse_cell(source: str) -> tuple[ast.Module, str, set[int]]:
    """The cell's AST, the text it was parsed from and its blanked magic lines."""
    if source.lstrip().startswith("%%"):  # a cell magic: its body may not even be Python
        lines = source.split("\n")
        start = next(i for i, line in enumerate(lines) if line.strip())
        lines[start] = ""
        try:
            return ast.parse("\n".join(lines)), "\n".join(lines), {start + 1}
        except (SyntaxError, ValueError):
            return ast.Module(body=[], type_ignores=[]), "", {start + 1}
    try:
        return ast.parse(source), source, set()
    except (SyntaxError, ValueError):
        pass
    text, changed = neutralise(source)
    tree = ast.parse(text)  # SyntaxError propagates: the cell does not parse
    inside = set()
    for node in ast.walk(tree):  # a "% of" line in a docstring is text, not a magic
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno != node.lineno:
            inside |= set(range(node.lineno + 1, (node.end_lineno or node.lineno) + 1))
    restore = changed & inside
    if restore:
        original, lines = source.split("\n"), text.split("\n")
        for number in restore:
            lines[number - 1] = original[number - 1]
        text = "\n".join(lines)
        tree = ast.parse(text)
        changed -= restore
    return tree, text, changed


_LINE_MAGIC = re.compile(r"^\s*%(?:time|timeit|prun|capture|debug)\b(.*)$")


def embedded_code(line: str) -> str:
    """The Python statement a line magic runs (``%time import torch``), or ""."""
    match = _LINE_MAGIC.match(line)
    words = match.group(1).split(" ") if match else []
    for start in range(min(len(words), 8)):  # skip options such as "-n 10"
        code = " ".join(words[start:]).strip()
        try:
            if code and ast.parse(code):
                return code
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return ""


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def is_constant_value(node: ast.AST) -> bool:
    """True when evaluating ``node`` calls nothing but the constructors in PURE_CALLS."""
    if isinstance(node, ast.Lambda):
        return all(is_constant_value(d) for d in node.args.defaults + node.args.kw_defaults if d)
    if isinstance(node, ast.Call):
        return (
            _dotted(node.func) in PURE_CALLS
            and all(is_constant_value(a) for a in node.args)
            and all(is_constant_value(k.value) for k in node.keywords)
        )
    if isinstance(
        node, (ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
               ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)
    ):  # fmt: skip
        return False
    return all(is_constant_value(child) for child in ast.iter_child_nodes(node))


def _plain_targets(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_plain_targets(t) for t in target.elts)
    return False


def is_constant_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        return all(_plain_targets(t) for t in node.targets) and is_constant_value(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (
            node.value is None or is_constant_value(node.value)
        )
    return False


def is_check_cell_statement(node: ast.stmt) -> bool:
    """``from graders import notebook`` and ``notebook.check(...)``: the nngrade check cell."""
    if isinstance(node, ast.ImportFrom):
        return (
            node.level == 0
            and node.module in _CHECK_MODULES
            and (node.module == "graders.notebook" or all(a.name == "notebook" for a in node.names))
        )
    if isinstance(node, ast.Import):
        return all(a.name == "graders.notebook" for a in node.names)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return _dotted(node.value.func) in ("notebook.check", "graders.notebook.check")
    return False


def keeps(node: ast.stmt) -> bool:
    """Whether a top-level statement belongs in the module (see the module docstring)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, ast.Try):
        branches = node.body + node.orelse + node.finalbody
        branches += [s for handler in node.handlers for s in handler.body]
        return all(
            isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) or is_constant_assignment(s)
            for s in branches
        )
    return is_constant_assignment(node)


def _is_assignment(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Assign, ast.AnnAssign))


def _loads(node: ast.stmt) -> set[str]:
    """Names an assignment's value reads when it runs (not inside a lambda's body)."""
    value = getattr(node, "value", None)
    names, pending = set(), [value] if value is not None else []
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Lambda):
            pending += [d for d in current.args.defaults + current.args.kw_defaults if d]
            continue
        if isinstance(current, ast.Name):
            names.add(current.id)
        pending += list(ast.iter_child_nodes(current))
    return names


def _binds(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds (approximately: every name it stores)."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).partition(".")[0] for a in child.names}
    return names


def _keeps(node: ast.stmt) -> bool:
    try:
        return keeps(node)
    except RecursionError:  # an expression nested too deep to judge: not a constant
        return False


def _without_unused_imports(
    kept: list[tuple[ast.stmt, str, int, int]],
    result: NotebookModule,
    dropped: list[tuple[str, int, int]],
) -> list[tuple[ast.stmt, str, int, int]]:
    """``kept`` less the imports that no kept code uses: a notebook imports matplotlib or
    ``google.colab`` for cells that are left out, and the module must not fail on them.
    (The static scan still reads them: a forbidden import counts wherever it is.)"""
    used: set[str] = set()
    for node, *_ in kept:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            used |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            used |= {n.value for n in ast.walk(node)  # __all__ = ["name"]
                     if isinstance(n, ast.Constant) and isinstance(n.value, str)}  # fmt: skip
    remaining = []
    for entry in kept:
        node, statement, cell, first = entry
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _import_needed(node, used):
            result.left_out.append(LeftOut(cell, first, statement))
            dropped.append((statement, cell, first))
        else:
            remaining.append(entry)
    return remaining


def _import_needed(node: ast.Import | ast.ImportFrom, used: set[str]) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    if any(alias.name == "*" for alias in node.names):
        return True  # the names it binds are unknown: keep it
    return any((a.asname or a.name).partition(".")[0] in used for a in node.names)


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


class _Builder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.places: list[Place | None] = []

    def add(self, text: str, cell: int, first: int) -> None:
        for offset, line in enumerate(text.split("\n")):
            self.lines.append(line)
            self.places.append(Place(cell, first + offset))

    def blank(self, text: str = "") -> None:
        self.lines.append(text)
        self.places.append(None)


def _statement_text(node: ast.stmt, text: str, lines: list[str], shared: bool) -> str:
    if shared:  # statements separated by ";" on one line: take only this one
        return ast.get_source_segment(text, node) or ""
    return "\n".join(lines[_first_line(node) - 1 : node.end_lineno])


def build(cells: Iterable[tuple[int, str]], notebook: str) -> NotebookModule:
    """The module of ``cells`` (as read by :func:`read_code_cells`), its scan text and map."""
    result = NotebookModule(notebook=notebook)
    kept: list[tuple[ast.stmt, str, int, int]] = []  # node, text, cell, first line
    dropped: list[tuple[str, int, int]] = []  # text to scan, cell, first line
    #: Names that only left-out code binds: a constant computed from them is left out too
    #: (``data = np.load(...)`` left out, so ``X = data["x"]`` is too, not a NameError).
    left_names: set[str] = set()
    for cell, source in cells:
        try:
            tree, text, magic = parse_cell(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            line = getattr(error, "lineno", None) or 1
            reason = getattr(error, "msg", None) or type(error).__name__
            result.left_out.append(LeftOut(cell, line, f"does not parse ({reason})"))
            continue
        lines = text.split("\n")
        for number in sorted(magic):
            original = source.split("\n")[number - 1]
            result.left_out.append(LeftOut(cell, number, original))
            if embedded_code(original):  # runs in the kernel: scanned like the rest
                dropped.append((embedded_code(original), cell, number))
        if source.lstrip().startswith("%%"):
            for node in tree.body:
                statement = _statement_text(node, text, lines, False)
                dropped.append((statement, cell, _first_line(node)))
            continue
        occupied: dict[int, int] = {}
        for node in tree.body:
            for number in range(_first_line(node), (node.end_lineno or node.lineno) + 1):
                occupied[number] = occupied.get(number, 0) + 1
        for node in tree.body:
            span = range(_first_line(node), (node.end_lineno or node.lineno) + 1)
            shared = any(occupied[n] > 1 for n in span)
            statement = _statement_text(node, text, lines, shared)
            first = node.lineno if shared else _first_line(node)
            if is_check_cell_statement(node) or (
                isinstance(node, ast.Pass) and node.lineno in magic
            ):
                continue  # the check cell; a magic line (listed above)
            if _keeps(node) and not (_is_assignment(node) and _loads(node) & left_names):
                kept.append((node, statement, cell, first))
                left_names -= _binds(node)
            else:
                result.left_out.append(LeftOut(cell, first, statement))
                dropped.append((statement, cell, first))
                left_names |= _binds(node)
    kept = _without_unused_imports(kept, result, dropped)
    result.left_out.sort(key=lambda piece: (piece.cell, piece.line))
    builder = _Builder()
    builder.blank(
        f"# Built by nngrade from {PurePosixPath(notebook).name}: imports, def, class, constants."
    )
    docstring = kept[:1] if kept and keeps(kept[0][0]) and isinstance(kept[0][0], ast.Expr) else []
    future = [k for k in kept if isinstance(k[0], ast.ImportFrom) and k[0].module == "__future__"]
    rest = [k for k in kept if k not in docstring and k not in future]
    previous = None
    for _, statement, cell, first in docstring + future + rest:
        if previous is not None and previous != cell:
            builder.blank()
        builder.add(statement, cell, first)
        previous = cell
    result.text = "\n".join(builder.lines) + "\n"
    builder.blank()
    builder.blank("# Left out of the module (scanned for imports only):")
    for statement, cell, first in dropped:
        builder.add(statement, cell, first)
    result.scan_text = "\n".join(builder.lines) + "\n"
    result.places = builder.places
    return result


def convert(path: Path, notebook: str) -> NotebookModule:
    """The module of the notebook at ``path`` (``notebook`` is its path in the submission).

    An unreadable notebook gives a module that raises ImportError with the reason, so that
    every criterion that imports it says why, in one line."""
    try:
        return build(read_code_cells(path), notebook)
    except NotebookError as error:
        result = NotebookModule(notebook=notebook, error=str(error))
        message = f"{notebook} cannot be read as a notebook: {error}"
        result.text = result.scan_text = f"raise ImportError({message!r})\n"
        result.places = [None]
        return result


def twins(folder: Path, skipped: Iterable[str] = ()) -> list[tuple[Path, Path]]:
    """Notebooks that have a module of the same name next to them: (module, notebook)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    skipped = set(skipped)
    found = []
    for notebook in sorted(folder.rglob(f"*{SUFFIX}")):
        if skipped & set(notebook.relative_to(folder).parts[:-1]):
            continue
        module = notebook.with_suffix(".py")
        if module.is_file() or module.is_symlink():
            found.append((module, notebook))
    return found


def _pattern(module: NotebookModule) -> re.Pattern[str]:
    relative = re.escape(module.module)
    name = re.escape(PurePosixPath(module.module).name)
    return re.compile(
        rf"(?P<path>(?<![\w.])(?:[^\s\"'(),:]*/)?{relative}|(?<![\w./]){name})(?![\w])"
        r"(?:(?::|\", line |, line )(?P<line>\d+))?"
    )


def relocate_text(text: str, modules: dict[str, NotebookModule]) -> str:
    """``a2/perceptron.py:12`` (and ``perceptron.py, line 12``, ``File ".../a2/perceptron.py",
    line 12``) as ``a2/perceptron.ipynb, cell 4, line 7`` for every notebook module."""
    for module in modules.values():
        if module.module not in text and PurePosixPath(module.module).name not in text:
            continue

        def replace(match: re.Match[str], module: NotebookModule = module) -> str:
            path = match.group("path")
            shown = module.notebook if "/" in path else PurePosixPath(module.notebook).name
            if match.group("line") is None:
                return shown
            place = module.place(int(match.group("line")))
            return f"{shown}, cell {place.cell}, line {place.line}" if place else shown

        text = _pattern(module).sub(replace, text)
    return text


def relocate(result, modules: dict[str, NotebookModule]) -> None:
    """Map every module location in an AssignmentResult back to its notebook cell and line."""
    if not modules:
        return
    result.notices = [relocate_text(n, modules) for n in result.notices]
    for criterion in result.criteria:
        criterion.reason = relocate_text(criterion.reason, modules)
    for violation in result.violations:
        where = f"{violation.file}:{violation.line}" if violation.line else violation.file
        moved = relocate_text(where, modules)
        if moved != where:
            violation.file, violation.line = moved, 0
