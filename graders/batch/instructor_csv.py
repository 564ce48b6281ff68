"""The CSV files an instructor keeps in the output folder (``adjustments.csv``,
``handed-in.csv``), read the way spreadsheets write them: a UTF-8 byte-order mark, Excel's
``;`` separator, ``#`` comment lines and blank lines are all accepted, and every row keeps
the line number it starts on, so that an error can name it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Table:
    #: The line of the header, and its column names (lower case, stripped).
    header_line: int
    header: list[str]
    #: (line number, column name -> stripped cell) of each row that is not blank or a comment.
    rows: list[tuple[int, dict[str, str]]]


def read(path: Path, error: type[Exception]) -> Table | None:
    """The table in ``path``; None when there is no such file or it holds only comments.
    A file that cannot be read raises ``error`` naming it."""
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"cannot read {path}: {problem}") from None
    lines = text.splitlines(keepends=True)
    header_at = next((i for i, line in enumerate(lines) if _content(line)), None)
    if header_at is None:
        return None
    delimiter = ";" if lines[header_at].count(";") > lines[header_at].count(",") else ","
    reader = csv.reader(lines[header_at:], delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    rows = []
    for cells in reader:
        line = header_at + reader.line_num
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        rows.append((line, dict(zip(header, (cell.strip() for cell in cells), strict=False))))
    return Table(header_at + 1, header, rows)


def _content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")
