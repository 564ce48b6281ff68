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
  "__main__":`` blocks, IPython's own syntax (``%magics``, ``!shell`` lines, ``obj?``, the
  auto-call escapes ``/f a``, ``,f a``, ``;f a``; inside a kept ``def`` such a line becomes
  ``pass``), cells that start with a ``%%`` cell magic, cells that do not parse, and the
  cell that calls ``notebook.check`` (that last one silently). Every left-out piece is
  reported with its cell and line.

A cell is read as the kernel runs it: a cell that is not plain Python is first rewritten
as IPython rewrites it (:func:`ipython_transform`: ``%time import torch`` becomes
``get_ipython().run_line_magic('time', 'import torch')``, ``;exec import torch`` becomes
``exec("import torch")``, a pasted ``>>>`` session loses its prompts), and only a cell that
still does not parse is left out as such. The static scan reads the **full** code of every
cell in that form, the body of a ``%%`` cell included, and reads the code in those calls'
string arguments (graders.core.static_scan): a forbidden import in a left-out cell runs in
the student's kernel, so it breaks the rule. A cell nested too deeply for Python's parser
could hide any import: it is marked for the scan (UNSCANNABLE_MARK), which counts it as
breaking the rules. The scan text is the module followed by the left-out statements, so
that one line map serves both.

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
import dataclasses
import functools
import hashlib
import json
import re
import textwrap
import token
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from graders.failures import Failure, Location

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


# -- IPython's input syntax -----------------------------------------------------------------
#
# A kernel does not run a cell as Python: IPython first rewrites its own syntax into calls
# (``%time import torch`` -> ``get_ipython().run_line_magic('time', 'import torch')``,
# ``;exec import torch`` -> ``exec("import torch")``). The scan must read what the kernel
# runs, so every cell that is not plain Python is rewritten the same way before it is parsed:
# by IPython itself when it is installed (it is not a dependency of nngrade), else by the
# small reimplementation below, which the tests hold to IPython's output.

#: A cell comment that tells the static scan "this code could not be scanned here".
UNSCANNABLE_MARK = "# nngrade: could not be scanned: nested too deeply"
NESTED_TOO_DEEPLY = "nested too deeply"
#: IPython refuses a cell after this many rewrites (its TRANSFORM_LOOP_LIMIT).
TRANSFORM_LOOP_LIMIT = 500
#: Lines IPython may re-tokenise for one notebook (it re-reads the whole cell after each
#: rewrite, about 6,000 lines a second); beyond it the linear reimplementation takes over.
IPYTHON_WORK = 20_000
_ESCAPES = frozenset("!?%,;/")
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
_BRACKETS = re.compile(r"[()\[\]{}]")
_PLAIN_LINE = re.compile(r"(?![ \t\x0c]*[,;/])(?P<code>[^'\"\\#?%!\n]*)(?:#[^\n]*)?\n?\Z")
#: One token of a line that the reimplementation tells apart (strings are read on their own).
_LEXEME = re.compile(
    r"(?P<space>[ \t\x0c\n]+)|(?P<continued>\\\n?\Z)|(?P<comment>#[^\n]*)"
    r"|(?P<prefix>(?i:br|rb|fr|rf|tr|rt|[rubft])(?=['\"]))|(?P<quote>['\"])"
    r"|(?P<number>\.?\d(?:[\w.]|(?<=[eE])[+-])*)|(?P<name>\w+)"
    r"|(?P<op>"
    + "|".join(map(re.escape, sorted(token.EXACT_TOKEN_TYPES, key=len, reverse=True)))
    + r"|.)"
)
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
_DOCTEST_FIRST = re.compile(r"^\s*>>>")
_DOCTEST_ANYWHERE = re.compile(r"^[ \t\x0c]*>>>", re.MULTILINE)
_DOCTEST_PS1 = re.compile(r"^\s*>>>[ \t]?")
_DOCTEST_PS2 = re.compile(r"^\s*\.\.\.[ \t]?")
_TRIPLE_QUOTE = re.compile(r"(?<!\\)(\"\"\"|''')")
_PREFIX_ONLY = re.compile(r"(?i)^[rubf]*$")
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])?\ )?In\ \[\d+\]:\ |\s*\.{3,}:\ ?)")
#: Lines that may hold IPython syntax: an upper bound on the rewrites of a cell.
_SPECIAL = re.compile(r"^\s*(?:[!?%,;/]|>>>|In \[)|=\s*[%!]|\?\s*$", re.MULTILINE)


class TooDeep(Exception):
    """Code nested so deeply that the parser gives up (RecursionError, MemoryError)."""


def parse(text: str | bytes) -> ast.Module:
    """``ast.parse`` that turns the parser's depth failures into TooDeep: student code such
    as ``-`` * 100000 + ``1`` makes it raise MemoryError or RecursionError."""
    try:
        return ast.parse(text)
    except (RecursionError, MemoryError):
        raise TooDeep(NESTED_TOO_DEEPLY) from None


class Work:
    """How many more lines IPython may re-tokenise (see IPYTHON_WORK)."""

    def __init__(self, lines: int = IPYTHON_WORK) -> None:
        self.left = lines

    def take(self, lines: int) -> bool:
        if lines > self.left:
            return False
        self.left -= lines
        return True


@dataclass(frozen=True)
class Transformed:
    """A cell as IPython runs it: its lines, the cell line each came from, and the lines
    that IPython made from its own syntax (numbered from 1, like the lines of ``text``)."""

    lines: tuple[str, ...]
    origin: tuple[int, ...]
    made: frozenset[int] = frozenset()

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def place(self, line: int) -> int:
        """The cell line of line ``line`` of ``text``."""
        return self.origin[min(max(line, 1), len(self.origin)) - 1] if self.origin else 1


def normalise(source: str) -> str:
    """Python reads ``\\r\\n`` and ``\\r`` as line breaks; so does everything here."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def _with_ends(text: str) -> list[str]:
    """``text`` as lines that keep their "\\n" (only "\\n" breaks a line, as for Python)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def ipython_transform(source: str, work: Work | None = None) -> Transformed:
    """``source`` rewritten as IPython rewrites a cell before running it, with a map of its
    lines: by IPython when it is installed and the cell small enough (see IPYTHON_WORK), else
    by the reimplementation. RuntimeError where IPython gives up (the kernel would not run
    the cell)."""
    lines = _with_ends(normalise(source if source.endswith("\n") else source + "\n"))
    manager = _ipython_manager()
    cost = len(lines) * (1 + len(_SPECIAL.findall(source)))
    try:
        if manager is None or not (work or Work()).take(cost):
            raise LookupError("IPython is not installed, or the cell is too large for it")
        lines, origin, made = _traced_ipython(manager, list(lines))
    except Exception:  # the same rewrite without IPython (which gives up where IPython does)
        lines, origin, made = _reimplemented(lines)
    return Transformed(
        tuple(line[:-1] if line.endswith("\n") else line for line in lines),
        tuple(origin),
        frozenset(index + 1 for index, flag in enumerate(made) if flag),
    )


def ipython_text(source: str, work: Work | None = None) -> str:
    """What IPython runs for ``source`` (itself when it is plain Python or IPython gives up)."""
    if not _prompted(source):
        try:
            parse(source)
            return source
        except (SyntaxError, ValueError, TooDeep):
            pass
    try:
        return ipython_transform(source, work).text
    except Exception:  # IPython gave up on it: the kernel would not run it either
        return source


@functools.cache
def _ipython_manager():
    """IPython's own TransformerManager, or None where IPython is not installed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        manager = TransformerManager()
    except Exception:  # not installed, or an install that does not import
        return None
    needed = ("cleanup_transforms", "line_transforms", "do_one_token_transform")
    return manager if all(hasattr(manager, name) for name in needed) else None


def _traced_ipython(manager, lines: list[str]) -> tuple[list[str], list[int], list[bool]]:
    """IPython's ``transform_cell``, one step at a time so that every line's origin is known."""
    origin, made = list(range(1, len(lines) + 1)), [False] * len(lines)
    for step in manager.cleanup_transforms + manager.line_transforms:
        new = _with_ends("".join(step(list(lines))))
        origin, made = _follow(lines, new, origin, made, step in manager.line_transforms)
        lines = new
    for _ in range(TRANSFORM_LOOP_LIMIT):
        changed, new = manager.do_one_token_transform(list(lines))
        if not changed:
            return lines, origin, made
        new = _with_ends("".join(new))
        origin, made = _follow(lines, new, origin, made, True)
        lines = new
    raise RuntimeError(f"more than {TRANSFORM_LOOP_LIMIT} pieces of IPython syntax")


def _follow(
    old: list[str], new: list[str], origin: list[int], made: list[bool], mark: bool
) -> tuple[list[int], list[bool]]:
    """Origins and made-flags of ``new``, a step's output from ``old``: a step rewrites lines
    in place or replaces one run of lines (a continued ``%magic``, leading blank lines)."""
    if len(new) == len(old):
        return origin, [m or (mark and a != b) for m, a, b in zip(made, old, new, strict=True)]
    shortest = min(len(old), len(new))
    prefix = 0
    while prefix < shortest and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    middle = len(new) - prefix - suffix
    first = origin[min(prefix, len(origin) - 1)] if origin else 1
    return (
        origin[:prefix] + [first] * middle + origin[len(old) - suffix :],
        made[:prefix] + [mark] * middle + made[len(old) - suffix :],
    )


# The reimplementation: IPython's cleanup steps, its cell magic and its four token rewrites
# (MagicAssign, SystemAssign, EscapedCommand, HelpEnd), applied in one pass from the top:
# IPython rewrites the earliest piece of syntax first, and a rewritten line is plain Python.


def _reimplemented(lines: list[str]) -> tuple[list[str], list[int], list[bool]]:
    origin, made = list(range(1, len(lines) + 1)), [False] * len(lines)
    for step, mark in ((_leading_empty_lines, False), (_leading_indent, False),
                       (_prompts, False), (_cell_magic, True)):  # fmt: skip
        new = _with_ends("".join(step(list(lines))))
        origin, made = _follow(lines, new, origin, made, mark)
        lines = new
    row, rewrites = 0, 0
    while row < len(lines):
        if _plain(lines[row]):
            row += 1
            continue
        tokens, last = _logical_line(lines, row)
        change = _rewrite(lines, tokens)
        if change is None:
            row = last + 1
            continue
        rewrites += 1
        if rewrites >= TRANSFORM_LOOP_LIMIT:
            raise RuntimeError(f"more than {TRANSFORM_LOOP_LIMIT} pieces of IPython syntax")
        new_line, first, end = change
        lines[first : end + 1] = [new_line]
        origin[first : end + 1] = [origin[first]]
        made[first : end + 1] = [True]
    return lines, origin, made


def _plain(line: str) -> bool:
    """A line that is a whole logical line and holds no IPython syntax (no quote, backslash,
    ``?``, ``%`` or ``!`` before its comment; brackets closed): most lines, read fast."""
    match = _PLAIN_LINE.match(line)
    if match is None:
        return False
    depth = 0
    for char in _BRACKETS.findall(match.group("code")):
        depth = depth + 1 if char in _OPENING else max(0, depth - 1)
    return depth == 0


def _leading_empty_lines(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line and not line.isspace():
            return lines[index:]
    return lines


def _leading_indent(lines: list[str]) -> list[str]:
    return textwrap.dedent("".join(lines)).splitlines(keepends=True)


def _prompts(lines: list[str]) -> list[str]:
    """Pasted sessions lose their prompts: ``>>>``/``...`` outside triple-quoted strings
    (IPython 9's doctest rule), ``In [1]:``/``...:`` when one of the first two lines has one."""
    inside = _in_triple_quotes(lines)
    if any(
        _DOCTEST_FIRST.match(line) for line, masked in zip(lines, inside, strict=True) if not masked
    ):
        lines = _doctest_stripped(lines, inside)
    if any(_IPYTHON_PROMPT.match(line) for line in lines[:2]):
        lines = [_IPYTHON_PROMPT.sub("", line, count=1) for line in lines]
    return lines


def _in_triple_quotes(lines: list[str]) -> list[bool]:
    """IPython's guess of the lines inside a triple-quoted string that begins a line (a
    docstring), whose ``>>>`` examples keep their prompts."""
    mask: list[bool] = []
    quote, preserve, seen_prompt = None, False, False
    for line in lines:
        mask.append(quote is not None and preserve)
        for match in _TRIPLE_QUOTE.finditer(line):
            if quote is None:
                quote, before = match.group(1), line[: match.start()]
                stripped = _DOCTEST_PS2.sub("", _DOCTEST_PS1.sub("", before, count=1), count=1)
                prompted = stripped != before and seen_prompt
                preserve = bool(not prompted and _PREFIX_ONLY.match(stripped.strip()))
                mask[-1] = preserve
            elif quote == match.group(1):
                quote, preserve = None, False
        seen_prompt = seen_prompt or bool(_DOCTEST_FIRST.match(line))
    return mask


def _doctest_stripped(lines: list[str], inside: list[bool]) -> list[str]:
    """``lines`` without their ``>>>``/``...`` prompts, each stripped run dedented."""
    out, stripped = [], []
    for line, masked in zip(lines, inside, strict=True):
        new = line
        if not masked:
            prompt = _DOCTEST_PS1 if _DOCTEST_PS1.match(line) else _DOCTEST_PS2
            new = prompt.sub("", line, count=1)
        out.append(new)
        stripped.append(new != line)
    result: list[str] = []
    start = 0
    while start < len(out):
        end = start
        while end < len(out) and inside[end] == inside[start]:
            end += 1
        run = out[start:end]
        if not inside[start] and any(stripped[start:end]):
            run = textwrap.dedent("".join(run)).splitlines(keepends=True)
        result += run
        start = end
    return result


def _cell_magic(lines: list[str]) -> list[str]:
    if not lines or not lines[0].startswith("%%") or re.match(r"%%\w+\?", lines[0]):
        return lines
    name, _, first = lines[0][2:].rstrip().partition(" ")
    return [f"get_ipython().run_cell_magic({name!r}, {first!r}, {''.join(lines[1:])!r})\n"]


class _Token(NamedTuple):
    kind: str  # "name", "number", "string", "comment" or "op" (any other character)
    text: str
    row: int
    col: int


def _logical_line(lines: list[str], row: int) -> tuple[list[_Token], int]:
    """The tokens of the logical line that starts at ``lines[row]``, and its last row: open
    brackets, strings and a final backslash continue a line, as for Python's tokenizer."""
    tokens: list[_Token] = []
    depth = 0
    while row < len(lines):
        line, col, continued = lines[row], 0, False
        while col < len(line):
            match = _LEXEME.match(line, col)
            assert match is not None  # its last alternative matches any character
            kind, text = match.lastgroup or "op", match.group()
            if kind == "continued":
                continued = True
                break
            if kind == "comment":
                tokens.append(_Token(kind, text, row, col))
                break
            if kind == "quote":
                end = _string_end(lines, row, col)
                if end is None:  # unterminated on its line: the quote alone, as tokenize does
                    tokens.append(_Token("op", text, row, col))
                    col += 1
                    continue
                tokens.append(_Token("string", text, row, col))
                row, col = end
                line = lines[row]
                continue
            if kind not in ("space", "prefix"):
                tokens.append(_Token(kind, text, row, col))
                if text in _OPENING:
                    depth += 1
                elif text in _CLOSING and depth:
                    depth -= 1
            col = match.end()
        if (continued or depth > 0) and row + 1 < len(lines):
            row += 1
            continue
        return tokens, row
    return tokens, len(lines) - 1


def _string_end(lines: list[str], row: int, col: int) -> tuple[int, int] | None:
    """(row, col) just past the string that starts at ``lines[row][col]``; None when a
    one-line string is not closed on its line. An unclosed triple-quoted string runs on."""
    line = lines[row]
    quote = line[col] * 3 if line.startswith(line[col] * 3, col) else line[col]
    col += len(quote)
    while row < len(lines):
        line = lines[row]
        while col < len(line):
            if line[col] == "\\":
                col += 2
            elif line.startswith(quote, col):
                return row, col + len(quote)
            elif line[col] == "\n" and len(quote) == 1:
                return None
            else:
                col += 1
        if len(quote) == 1 and not line.endswith("\\\n"):
            return None
        row, col = row + 1, 0
    return len(lines) - 1, len(lines[-1])


def _rewrite(lines: list[str], tokens: list[_Token]) -> tuple[str, int, int] | None:
    """(new line, first row, last row) of the rewrite IPython applies to this logical line,
    or None. Its candidates are tried by position, HelpEnd before EscapedCommand; one that
    fails leaves the line as it is, and the cell a syntax error, in IPython too."""
    if not tokens:
        return None
    first, candidates = tokens[0], []
    if tokens[-1].kind == "op" and tokens[-1].text == "?" and len(tokens) > 1:
        candidates.append((first.row, first.col, 5, "help", tokens[-1]))
    if first.kind == "op" and first.text in _ESCAPES:
        candidates.append((first.row, first.col, 10, "escape", first))
    assigned = _assigned_special(lines, tokens)
    if assigned is not None:
        candidates.append((assigned.row, assigned.col, 10, "assign", assigned))
    for row, col, _, kind, at in sorted(candidates, key=lambda c: c[:3]):
        try:
            if kind == "help":
                return _help_end(lines, first, at)
            return _escaped(lines, row, col) if kind == "escape" else _assigned(lines, row, col)
        except SyntaxError:
            continue
    return None


def _assigned_special(lines: list[str], tokens: list[_Token]) -> _Token | None:
    """The ``%`` of ``x = %magic`` or the ``!`` of ``x = !command`` right after the first
    ``=`` outside brackets: IPython's MagicAssign and SystemAssign."""
    depth = 0
    for index, current in enumerate(tokens):
        if current.kind != "op":
            continue
        if current.text in _OPENING:
            depth += 1
        elif current.text in _CLOSING:
            depth = max(0, depth - 1)
        elif current.text == "=" and depth == 0:
            after = tokens[index + 1 : index + 3] + [_Token("", "", 0, 0)] * 2
            if after[0].kind == "op" and after[0].text == "%" and after[1].kind == "name":
                return after[0]
            bang = after[0].kind == "op" and after[0].text == "!"
            return after[0] if bang and not lines[current.row].strip().startswith("=") else None
    return None


def _continued_end(lines: list[str], row: int) -> int:
    """The last row of a line continued with backslashes (IPython's own rule)."""
    end = row
    while lines[end].endswith("\\\n"):
        end += 1
        if end >= len(lines):
            break
    return end


def _assembled(lines: list[str], row: int, col: int, end: int) -> str:
    parts = [lines[row][col:]] + lines[row + 1 : end + 1]
    return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])


def _escaped(lines: list[str], row: int, col: int) -> tuple[str, int, int]:
    """``!ls``, ``%time f()``, ``?obj``, ``,f a b``, ``;f a b``, ``/f a b`` as IPython's calls."""
    end = _continued_end(lines, row)
    line = _assembled(lines, row, col, end)
    escape = line[:2] if line[:2] in ("!!", "??") else line[:1]
    content = line[len(escape) :]
    name, _, args = content.partition(" ")
    if escape == "!":
        call = f"get_ipython().system({content!r})"
    elif escape == "!!":
        call = f"get_ipython().getoutput({content!r})"
    elif escape in ("?", "??"):
        call = _help_call(content, escape) if content else "get_ipython().show_usage()"
    elif escape == "%":
        call = f"get_ipython().run_line_magic({name!r}, {args!r})"
    elif escape == ",":
        call = '{}("{}")'.format(name, '", "'.join(args.split()))
    elif escape == ";":
        call = f'{name}("{args}")'
    else:  # "/"
        if not name:
            raise SyntaxError("/ must be followed by a callable name")
        call = "{}({})".format(name, ", ".join(args.split()))
    return lines[row][:col] + call + "\n", row, end


def _help_call(target: str, escape: str) -> str:
    method = "pinfo2" if escape == "??" else "psearch" if "*" in target else "pinfo"
    name, _, argument = f"{method} {target}".partition(" ")
    return f"get_ipython().run_line_magic({name.lstrip('%')!r}, {argument!r})"


def _help_end(lines: list[str], first: _Token, mark: _Token) -> tuple[str, int, int]:
    """``obj?`` and ``obj??`` (the whole logical line asks for help on obj)."""
    piece = "".join(lines[first.row : mark.row + 1])
    match = _HELP_END.search(piece[first.col :])
    if not match:
        raise SyntaxError(piece)
    return (
        piece[: first.col] + _help_call(match.group(1), match.group(3)) + "\n",
        first.row,
        mark.row,
    )


def _assigned(lines: list[str], row: int, col: int) -> tuple[str, int, int]:
    """``x = %magic args`` and ``x = !command`` as IPython's calls."""
    end = _continued_end(lines, row)
    rest = _assembled(lines, row, col, end)
    if rest.startswith("%"):
        name, _, args = rest[1:].partition(" ")
        call = f"get_ipython().run_line_magic({name!r}, {args!r})"
    else:
        call = f"get_ipython().getoutput({rest[1:]!r})"
    return lines[row][:col] + call + "\n", row, end


@dataclass
class ParsedCell:
    """A code cell as the kernel runs it, parsed (see :func:`parse_cell`)."""

    written: list[str]  # the cell's lines as the student wrote them
    code: Transformed  # what the kernel runs, and where each of its lines came from
    tree: ast.Module | None = None  # None when it does not parse
    magic: list[int] = field(default_factory=list)  # its leading %% lines (a cell magic)
    error: str = ""  # why it does not parse
    error_line: int = 1
    too_deep: bool = False  # the parser gave up on its nesting: it could not be scanned

    def line(self, number: int) -> str:
        """Line ``number`` of the cell as written."""
        return self.written[number - 1] if 0 < number <= len(self.written) else ""


def parse_cell(source: str, work: Work | None = None) -> ParsedCell:
    """The cell rewritten as IPython rewrites it (a cell that is plain Python is left as it
    is) and parsed. A cell magic's ``%%`` lines are blanked: its body runs in the kernel."""
    lines = normalise(source).split("\n")
    parsed = ParsedCell(list(lines), Transformed(tuple(lines), tuple(range(1, len(lines) + 1))))
    for index, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("%%"):
            break
        if line.strip():
            parsed.magic.append(index + 1)
            lines[index] = ""
    body = "\n".join(lines)
    if not _prompted(body):  # plain Python is what IPython runs: no rewrite
        try:
            parsed.tree = parse(body)
            return parsed
        except TooDeep:
            parsed.too_deep = True
            return parsed
        except (SyntaxError, ValueError):
            pass
    try:
        parsed.code = ipython_transform(body, work)
    except Exception:  # IPython gives up on it (500 rewrites): the kernel runs none of it
        parsed.code = Transformed(tuple(lines), tuple(range(1, len(lines) + 1)))
    try:
        parsed.tree = parse(parsed.code.text)
    except TooDeep:
        parsed.too_deep = True
    except (SyntaxError, ValueError) as error:
        parsed.error = getattr(error, "msg", None) or type(error).__name__
        parsed.error_line = parsed.code.place(getattr(error, "lineno", None) or 1)
    return parsed


def _prompted(text: str) -> bool:
    """Whether IPython may strip prompts from ``text`` (then it is rewritten even when it is
    Python): it strips a ``>>>`` line inside a string literal too, and an ``exec`` of that
    string then runs the line without its prompt."""
    if _DOCTEST_ANYWHERE.search(text):
        return True
    first = [line for line in text.split("\n", 64) if line.strip()][:2]
    return any(_IPYTHON_PROMPT.match(line) for line in first)


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a chain of names, else "" (a loop: a chain may be thousands long)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


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


def _import_needed(node: ast.Import | ast.ImportFrom, used: set[str]) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    if any(alias.name == "*" for alias in node.names):
        return True  # the names it binds are unknown: keep it
    return any((a.asname or a.name).partition(".")[0] in used for a in node.names)


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


#: Text longer than this is relocated only up to here (reasons and notices are shorter;
#: the rest of a longer text is kept as it is): student text never drives a regex far.
MAX_RELOCATED_CHARS = 20_000


def _pattern(module: NotebookModule) -> re.Pattern[str]:
    """A module location in text. Every repetition is bounded (a folder prefix of at most
    200 characters, a line of at most 9 digits), so no text makes it backtrack for long."""
    relative = re.escape(module.module)
    name = re.escape(PurePosixPath(module.module).name)
    return re.compile(
        rf"(?P<path>(?<![\w.])(?:[^\s\"'(),:/]{{0,100}}/){{0,20}}{relative}|(?<![\w./]){name})"
        r"(?![\w])(?:(?::|\", line |, line )(?P<line>\d{1,9})(?!\d))?"
    )


def relocate_text(text: str, modules: dict[str, NotebookModule]) -> str:
    """``a2/perceptron.py:12`` (and ``perceptron.py, line 12``, ``File ".../a2/perceptron.py",
    line 12``) as ``a2/perceptron.ipynb, cell 4, line 7`` for every notebook module."""
    text, rest = text[:MAX_RELOCATED_CHARS], text[MAX_RELOCATED_CHARS:]
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
    return text + rest


def relocate_location(location: Location, modules: dict[str, NotebookModule]) -> Location:
    """A module's file and line as its notebook's cell and line: a lookup, not text."""
    for module in modules.values():
        if module.module == location.file:
            place = module.place(location.line) if location.line else None
            if place is None:
                return Location(module.notebook)
            return Location(module.notebook, place.line, place.cell)
    return location


def _relocated(failure: Failure, modules: dict[str, NotebookModule]) -> Failure:
    location = failure.location
    return dataclasses.replace(
        failure,
        location=relocate_location(location, modules) if location is not None else None,
        reason=relocate_text(failure.reason, modules),
        subject=relocate_text(failure.subject, modules),
    )


def relocate(result, modules: dict[str, NotebookModule]) -> None:
    """Map every module location in an AssignmentResult back to its notebook cell and line."""
    if not modules:
        return
    result.notices = [relocate_text(n, modules) for n in result.notices]
    for criterion in result.criteria:
        criterion.reason = relocate_text(criterion.reason, modules)
        criterion.failures = [_relocated(f, modules) for f in criterion.failures]
    if result.failures is not None:
        result.failures = [_relocated(f, modules) for f in result.failures]
    for violation in result.violations:
        where = f"{violation.file}:{violation.line}" if violation.line else violation.file
        moved = relocate_text(where, modules)
        if moved != where:
            violation.file, violation.line = moved, 0
