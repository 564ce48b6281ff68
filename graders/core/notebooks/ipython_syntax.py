"""IPython's input syntax: a cell as the kernel runs it.

A kernel does not run a cell as Python: IPython first rewrites its own syntax into calls
(``%time import torch`` -> ``get_ipython().run_line_magic('time', 'import torch')``,
``;exec import torch`` -> ``exec("import torch")``). The scan must read what the kernel
runs, so every cell that is not plain Python is rewritten the same way before it is parsed:
by IPython itself when it is installed (it is not a dependency of nngrade), else by the
small reimplementation below, which the tests hold to IPython's output.

The tests force the reimplementation by patching ``_ipython_manager`` here: it is looked up
in this module each time a cell is rewritten."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

from graders.core.notebooks.ipython_reimplemented import (
    _IPYTHON_PROMPT,
    TRANSFORM_LOOP_LIMIT,
    _follow,
    _reimplemented,
    _with_ends,
)

NESTED_TOO_DEEPLY = "nested too deeply"
#: Lines IPython may re-tokenise for one notebook (it re-reads the whole cell after each
#: rewrite, about 6,000 lines a second); beyond it the linear reimplementation takes over.
IPYTHON_WORK = 20_000
_DOCTEST_ANYWHERE = re.compile(r"^[ \t\x0c]*>>>", re.MULTILINE)
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


def _prompted(text: str) -> bool:
    """Whether IPython may strip prompts from ``text`` (then it is rewritten even when it is
    Python): it strips a ``>>>`` line inside a string literal too, and an ``exec`` of that
    string then runs the line without its prompt."""
    if _DOCTEST_ANYWHERE.search(text):
        return True
    first = [line for line in text.split("\n", 64) if line.strip()][:2]
    return any(_IPYTHON_PROMPT.match(line) for line in first)


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
