"""One code cell parsed as the kernel runs it: its lines as written, the code IPython
makes of them (with the cell line of each), its leading ``%%`` cell-magic lines, and why it
does not parse when it does not. This is what the module is built from, statement by
statement (graders.core.notebooks.building)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from graders.core.notebooks.ipython_syntax import (
    TooDeep,
    Transformed,
    Work,
    _prompted,
    ipython_transform,
    normalise,
    parse,
)


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
