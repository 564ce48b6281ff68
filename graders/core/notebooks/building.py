"""The module a notebook stands for, built from its parsed cells: the statements kept (a
docstring and ``from __future__`` imports first, then in cell order), the scan text (the
module followed by everything left out, so that one line map serves both), and the notebook
cell and line of each line. A notebook that cannot be read becomes a module that raises
ImportError with the reason."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from graders.core.notebooks.cells import ParsedCell, parse_cell
from graders.core.notebooks.ipython_syntax import NESTED_TOO_DEEPLY, TooDeep, Work, parse
from graders.core.notebooks.kept import (
    LeftOut,
    _binds,
    _import_needed,
    _is_assignment,
    _keeps,
    _loads,
    is_check_cell_statement,
)
from graders.core.notebooks.reading import NotebookError, read_code_cells

#: A cell comment that tells the static scan "this code could not be scanned here".
UNSCANNABLE_MARK = "# nngrade: could not be scanned: nested too deeply"


@dataclass(frozen=True)
class Place:
    cell: int
    line: int


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


def _without_unused_imports(kept: list[_Piece], split: _Split) -> list[_Piece]:
    """``kept`` less the imports that no kept code uses: a notebook imports matplotlib or
    ``google.colab`` for cells that are left out, and the module must not fail on them.
    (The static scan still reads them: a forbidden import counts wherever it is.)"""
    used: set[str] = set()
    for piece in kept:
        if not isinstance(piece.node, (ast.Import, ast.ImportFrom)) and piece.node is not None:
            used |= {n.id for n in ast.walk(piece.node) if isinstance(n, ast.Name)}
            used |= {n.value for n in ast.walk(piece.node)  # __all__ = ["name"]
                     if isinstance(n, ast.Constant) and isinstance(n.value, str)}  # fmt: skip
    remaining = []
    for piece in kept:
        node = piece.node
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _import_needed(node, used):
            split.leave(piece.cell, piece.places[0], piece.text)
            split.dropped.append(piece)
        else:
            remaining.append(piece)
    return remaining


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


@dataclass(eq=False)
class _Piece:
    """A statement's text and the cell line of each of its lines."""

    node: ast.stmt | None
    text: str
    cell: int
    places: list[int]


class _Builder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.places: list[Place | None] = []

    def add(self, piece: _Piece) -> None:
        for offset, line in enumerate(piece.text.split("\n")):
            self.lines.append(line)
            self.places.append(Place(piece.cell, piece.places[min(offset, len(piece.places) - 1)]))

    def blank(self, text: str = "") -> None:
        self.lines.append(text)
        self.places.append(None)


def _statement_text(node: ast.stmt, text: str, lines: list[str], shared: bool) -> str:
    if shared:  # statements separated by ";" on one line: take only this one
        return ast.get_source_segment(text, node) or ""
    return "\n".join(lines[_first_line(node) - 1 : node.end_lineno])


def _module_view(parsed: ParsedCell) -> tuple[list[ast.stmt], list[str]] | None:
    """The cell's statements and lines with each line that IPython made (``!ls``,
    ``%time f()``) as ``pass``: what the module keeps of a ``def`` that holds one. None when
    that does not line up with the cell's statements (then none of them holding one is kept)."""
    code, tree = parsed.code, parsed.tree
    assert tree is not None
    if not code.made:
        return tree.body, list(code.lines)
    lines = [
        line[: len(line) - len(line.lstrip())] + "pass" if number in code.made else line
        for number, line in enumerate(code.lines, start=1)
    ]
    try:
        view = parse("\n".join(lines) + "\n").body
    except (SyntaxError, ValueError, TooDeep):
        return None
    spans = [(n.lineno, n.end_lineno) for n in view]
    return (view, lines) if spans == [(n.lineno, n.end_lineno) for n in tree.body] else None


class _Split:
    """Sorts each cell's statements into the module (kept) and the scan only (dropped)."""

    def __init__(self, result: NotebookModule) -> None:
        self.result = result
        self.kept: list[_Piece] = []
        self.dropped: list[_Piece] = []  # what the static scan reads besides the module
        #: Names that only left-out code binds: a constant computed from them is left out too
        #: (``data = np.load(...)`` left out, so ``X = data["x"]`` is, not a NameError).
        self.left_names: set[str] = set()

    def leave(self, cell: int, line: int, text: str) -> None:
        self.result.left_out.append(LeftOut(cell, line, text))

    def add(self, cell: int, parsed: ParsedCell) -> None:
        for number in parsed.magic:
            self.leave(cell, number, parsed.line(number))
            name, _, argument = parsed.line(number).strip()[2:].partition(" ")
            if argument.strip():  # %%timeit's setup code runs too: scanned as IPython calls it
                call = f"get_ipython().run_cell_magic({name!r}, {argument!r}, '')"
                self.dropped.append(_Piece(None, call, cell, [number]))
        if parsed.tree is None:
            self._unparsed(cell, parsed)
            return
        code, text, lines = parsed.code, parsed.code.text, list(parsed.code.lines)
        occupied: dict[int, int] = {}
        for node in parsed.tree.body:
            for number in range(_first_line(node), (node.end_lineno or node.lineno) + 1):
                occupied[number] = occupied.get(number, 0) + 1
        view = _module_view(parsed)
        view_text = "\n".join(view[1]) if view else ""
        for index, node in enumerate(parsed.tree.body):
            end = node.end_lineno or node.lineno
            shared = any(occupied[n] > 1 for n in range(_first_line(node), end + 1))
            span = range(node.lineno if shared else _first_line(node), end + 1)
            piece = _Piece(node, _statement_text(node, text, lines, shared), cell,
                           [code.place(n) for n in span])  # fmt: skip
            made = [n for n in span if n in code.made]
            if parsed.magic:  # a cell magic's body: runs in the kernel only
                self.dropped.append(piece)
            elif is_check_cell_statement(node):
                continue  # the check cell
            elif made and len(made) == len(span):  # %magic, !shell, ;f a b: the kernel's
                self.leave(cell, piece.places[0], parsed.line(piece.places[0]))
                self.dropped.append(piece)
                self.left_names |= _binds(node)
            elif view:
                seen = view[0][index]
                own = _statement_text(seen, view_text, view[1], shared)
                self._statement(parsed, piece, made, seen, own)
            else:  # a statement that holds a made line is left out whole
                self._statement(parsed, piece, made, None if made else node, piece.text)

    def _statement(
        self, parsed: ParsedCell, piece: _Piece, made: list[int], node: ast.stmt | None, text: str
    ) -> None:
        """Keep ``piece`` (as the module sees it: ``node``, ``text``) or leave it out."""
        if (
            node is not None
            and _keeps(node)
            and not (_is_assignment(node) and _loads(node) & self.left_names)
        ):
            self.kept.append(_Piece(node, text, piece.cell, piece.places))
            self.left_names -= _binds(node)
            self._scan_made(piece.cell, parsed, piece, made)
        else:
            self.leave(piece.cell, piece.places[0], text)
            self.dropped.append(piece)
            self.left_names |= _binds(piece.node) if piece.node else set()

    def _scan_made(self, cell: int, parsed: ParsedCell, piece: _Piece, made: list[int]) -> None:
        """The lines IPython made inside a kept statement (``!ls`` in a ``def``) are ``pass``
        in the module; they are listed as left out and scanned as the kernel runs them."""
        whole = False
        for number in made:
            place = parsed.code.place(number)
            self.leave(cell, place, parsed.line(place))
            statement = parsed.code.lines[number - 1].strip()
            try:
                parse(statement)
                self.dropped.append(_Piece(None, statement, cell, [place]))
            except (SyntaxError, ValueError, TooDeep):
                whole = True
        if whole:  # a line that is no statement alone: scan the whole statement
            self.dropped.append(piece)

    def _unparsed(self, cell: int, parsed: ParsedCell) -> None:
        if parsed.too_deep:  # it could hide any import: the scan counts it (UNSCANNABLE_MARK)
            line = next((n for n, t in enumerate(parsed.written, 1)
                         if t.strip() and n not in parsed.magic), 1)  # fmt: skip
            self.leave(cell, line, f"could not be scanned: {NESTED_TOO_DEEPLY}")
            self.dropped.append(_Piece(None, UNSCANNABLE_MARK, cell, [line]))
        elif not parsed.magic:  # (a cell magic's body need not be Python: %%bash)
            self.leave(cell, parsed.error_line, f"does not parse ({parsed.error})")


def build(cells: Iterable[tuple[int, str]], notebook: str) -> NotebookModule:
    """The module of ``cells`` (as read by :func:`read_code_cells`), its scan text and map."""
    result = NotebookModule(notebook=notebook)
    split, work = _Split(result), Work()
    for cell, source in cells:
        split.add(cell, parse_cell(source, work))
    kept = _without_unused_imports(split.kept, split)
    result.left_out.sort(key=lambda piece: (piece.cell, piece.line))
    builder = _Builder()
    builder.blank(
        f"# Built by nngrade from {PurePosixPath(notebook).name}: imports, def, class, constants."
    )
    docstring = kept[:1] if kept and isinstance(kept[0].node, ast.Expr) else []
    future = [
        p for p in kept if isinstance(p.node, ast.ImportFrom) and p.node.module == "__future__"
    ]
    rest = [p for p in kept if p not in docstring and p not in future]
    previous = None
    for piece in docstring + future + rest:
        if previous is not None and previous != piece.cell:
            builder.blank()
        builder.add(piece)
        previous = piece.cell
    result.text = "\n".join(builder.lines) + "\n"
    builder.blank()
    builder.blank("# Left out of the module (scanned for imports only):")
    for piece in split.dropped:
        builder.add(piece)
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
