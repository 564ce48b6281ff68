"""``changes.md`` and the "Changes" section of ``summary.html``: the moves of a run.

``changes.md`` keeps every run that moved someone's points, the newest first, so that a
regrade in week 9 still shows what the one in week 5 did. One row per student and
assignment that moved: before, after, the change, the criteria that moved and why.
Names, criteria and reasons (a TA's text) are encoded for their sink (``encode``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from graders.batch.adjustments import ALL
from graders.batch.changes import Comparison, Move, signed
from graders.batch.records import write_atomically
from graders.batch.summary_page import student_link
from graders.core.results import format_points
from graders.render import encode

FILE = "changes.md"
TITLE = "# Points changed by regrading"
HEADS = ("student", "assignment", "before", "after", "change", "criteria", "why")


def headline(comparison: Comparison) -> str:
    """One line: how many moved, up and down (grader text, no student text)."""
    moves = comparison.moves
    up = sum(m.delta > 0 for m in moves)
    down = sum(m.delta < 0 for m in moves)
    students = len(comparison.students)
    line = (
        f"{students} {'student' + chr(39) + 's' if students == 1 else 'students' + chr(39)} points moved "
        f"({len(moves)} assignment{'s' if len(moves) != 1 else ''}: {up} up, {down} down, "
        f"{len(moves) - up - down} with criteria moved but the same total); "
        f"{comparison.unchanged} unchanged"
    )
    if comparison.new:
        line += f"; {len(comparison.new)} graded for the first time"
    return line + "."


def _criteria_text(move: Move) -> str:
    return ", ".join(
        f"{'adjustments of the total' if cid == ALL else cid} "
        f"{format_points(old)} → {format_points(new)}"
        for cid, old, new in move.criteria
    )


def markdown_section(
    comparison: Comparison, when: dt.datetime, assignments: tuple[str, ...]
) -> str:
    """This run's moves as a Markdown section (a heading, a line, a table)."""
    md = encode.markdown
    lines = [
        f"## {when.isoformat(sep=' ', timespec='minutes')}: nngrade grade "
        f"{md(' '.join(assignments))}",
        "",
        headline(comparison),
        "",
        "| " + " | ".join(HEADS) + " |",
        "|" + "---|" * len(HEADS),
    ]
    for move in comparison.moves:
        cells = [
            md(move.student), md(move.assignment), format_points(move.before.points),
            format_points(move.after.points), signed(move.delta), md(_criteria_text(move)),
            md("; ".join(move.reasons)),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def prepend(path: Path, section: str) -> None:
    """Write ``section`` at the top of ``path``'s runs, keeping the earlier ones."""
    earlier = ""
    if path.is_file():
        earlier = path.read_text(encoding="utf-8").removeprefix(TITLE).lstrip("\n")
    write_atomically(path, f"{TITLE}\n\n{section}\n{earlier}".rstrip("\n") + "\n")


def html_section(comparison: Comparison) -> str:
    """This run's moves for ``summary.html``, or "" when nothing moved."""
    if not comparison.moves:
        return ""
    e = encode.html
    rows = [
        f"<tr><td>{student_link(m.student)}</td><td>{e(m.assignment)}</td>"
        f"<td class='num'>{format_points(m.before.points)}</td>"
        f"<td class='num'>{format_points(m.after.points)}</td>"
        f"<td class='num'>{signed(m.delta)}</td><td>{e(_criteria_text(m))}</td>"
        f"<td>{'<br>'.join(e(r) for r in m.reasons)}</td></tr>"
        for m in comparison.moves
    ]
    head = "".join(f"<th>{h}</th>" for h in HEADS)
    return (
        '<section id="changes"><h2>Points changed in this run</h2>'
        f"<p>{e(headline(comparison))} Every run that moved points: "
        f"<a href='{FILE}'>{FILE}</a>.</p>"
        f"<table class='changes'><tr>{head}</tr>\n" + "\n".join(rows) + "</table></section>"
    )
