"""``summary.html``: the class report to look at, one self-contained page.

Per assignment: the distribution (a chart inlined as SVG, integer axes; a table without
matplotlib), the criteria that cost the class most points, what could not be graded and
why, and what went wrong in what was graded. Then the lab total so far of every student
against the course minimum (who meets it, who is below pace, who cannot reach it, who
has not handed something in) and a table of students that links to each feedback page.
A run that moved anyone's points opens with whose, by how much and why
(``graders.batch.changes_report``); a student's adjusted points show what was adjusted.

The page needs nothing but itself and the files beside it: no script, no style sheet,
font or image from anywhere, links relative to the output folder, so it opens from a
file share or a zip as well as from a web server. Every value that comes from a student
(the name, a reason) is ``encode.html``; numbers and words are the grader's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from graders import catalog
from graders.batch import class_stats, problems
from graders.batch.records import StudentRecord, write_atomically
from graders.batch.standing import Pace, Standing, standing
from graders.core.results import format_points
from graders.render import encode
from graders.render.plots import histogram_svg, inline_svg
from graders.sandbox.text import clip_words

FILE = "summary.html"
#: Criteria shown per assignment (the Markdown summary and the gradebook have them all).
COSTLY_SHOWN = 10
#: The longest reason a table cell shows (the student's feedback page has it in full).
DETAIL_CHARS = 240

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto;
  padding: 0 1rem; color: #222; }
nav a { margin-right: 0.8rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.problem { background: #fff6d6; } .not-graded { background: #fbe7e7; }
.meets { background: #e8f6e8; } .below, .cannot, .fails { background: #fbe7e7; }
.muted { color: #666; }
figure { margin: 0.5rem 0; } figure svg { max-width: 100%; height: auto; }
.meter { position: relative; width: 10rem; height: 0.8rem; background: #eee;
  border: 1px solid #bbb; }
.meter .graded { position: absolute; top: 0; bottom: 0; left: 0; background: #d5dde8; }
.meter .points { position: absolute; top: 0; bottom: 0; left: 0; background: #54a24b; }
.meter .minimum { position: absolute; top: -0.2rem; bottom: -0.2rem; width: 2px;
  background: #e45756; }
"""

_PACE_CLASS = {
    Pace.MEETS: "meets",
    Pace.BELOW_PACE: "below",
    Pace.CANNOT_REACH: "cannot",
    Pace.FAILS: "fails",
}


def feedback_href(student: str) -> str:
    """The student's feedback page, relative to the output folder, as an href value: the
    file name's bytes as the file system has them, every one that is not a letter, digit
    or ``_.-~`` percent-encoded, so the link names that file and nothing else."""
    return encode.html_url("feedback/" + quote(os.fsencode(f"{student}.html"), safe=""))


def student_link(student: str) -> str:
    """The one link to a student's feedback page, on every page of the class run."""
    return f'<a href="{feedback_href(student)}">{encode.html(student)}</a>'


def _table(head: Iterable[str], rows: Iterable[str], css: str = "") -> str:
    """A table from header words (grader text) and ready-made rows."""
    cells = "".join(f"<th>{h}</th>" for h in head)
    return f"<table{css}><tr>{cells}</tr>\n" + "\n".join(rows) + "</table>"


def _distribution(stats: class_stats.AssignmentStats) -> list[str]:
    """The chart, inline, and the same numbers as a table (under it, or instead of it)."""
    title = f"{stats.key}: {stats.title}"
    svg = histogram_svg(title, [t for _, t in stats.totals], stats.max_points)
    rows = [f"<tr><td class='num'>{label}</td><td class='num'>{n}</td></tr>"
            for label, n in stats.bars]  # fmt: skip
    table = _table(["points from", "students"], rows)
    if svg is None:
        return ['<p class="muted">Install "nngrade[reports]" for the chart.</p>', table]
    figure = f'<figure role="img" aria-label="{encode.html(title)} distribution">'
    return [
        f"{figure}{inline_svg(svg)}</figure>",
        f"<details><summary>The numbers</summary>{table}</details>",
    ]


def _assignment_section(stats: class_stats.AssignmentStats) -> str:
    e = encode.html
    p = format_points
    parts = [
        f'<section id="{e(stats.key)}"><h2>{e(stats.key)}: {e(stats.title)}</h2>',
        f"<p>{stats.graded} graded, {stats.not_graded} not graded; mean "
        f"{stats.mean:.2f}/{p(stats.max_points)}, {stats.full_marks} with full marks "
        f"(a submission that could not be graded counts as 0).</p>",
        *_distribution(stats),
        "<h3>Criteria that cost the most points</h3>",
    ]
    if stats.costly:
        rows = [
            f"<tr><td><code>{e(c.id)}</code> {e(c.title)}</td><td class='num'>{c.students}</td>"
            f"<td class='num'>{p(c.points_lost)}</td><td class='num'>{p(c.max_points)}</td></tr>"
            for c in stats.costly[:COSTLY_SHOWN]
        ]
        heads = ["criterion", "students losing points", "points lost in all", "worth"]
        parts.append(_table(heads, rows, " class='costly'"))
    else:
        parts.append("<p>No criterion cost anyone a point.</p>")
    not_graded = [(s, pr) for s, pr in stats.problems if not pr.graded]
    graded = [(s, pr) for s, pr in stats.problems if pr.graded]
    parts.append("<h3>Could not be graded</h3>")
    parts.append(_problem_table(not_graded, "not-graded", "not-graded") if not_graded
                 else "<p>Every submission was graded.</p>")  # fmt: skip
    parts.append("<h3>Graded, with problems</h3>")
    parts.append(_problem_table(graded, "problem", "problems") if graded
                 else "<p>No problems in what was graded.</p>")  # fmt: skip
    parts.append("</section>")
    return "\n".join(parts)


def _problem_table(found: list[tuple[str, problems.Problem]], css: str, table: str) -> str:
    """One row per (student, problem); ``css`` colours the rows, ``table`` names the table."""
    e = encode.html
    rows = [
        f"<tr class='{css}'><td>{student_link(student)}</td><td>{e(problem.kind)}</td>"
        f"<td>{e(clip_words(problem.detail, DETAIL_CHARS))}</td></tr>"
        for student, problem in found
    ]
    return _table(["student", "problem", "why"], rows, f" class='{table}'")


def _meter(s: Standing) -> str:
    """Points so far, the points graded so far and the minimum, on the lab's scale."""
    if not s.lab_max:
        return ""
    share = {n: f"{100 * v / s.lab_max:.1f}%" for n, v in
             (("points", s.points), ("graded", s.graded_max), ("minimum", s.minimum))}  # fmt: skip
    label = (f"{format_points(s.points)} points of {format_points(s.graded_max)} graded; "
             f"minimum {format_points(s.minimum)} of {format_points(s.lab_max)}")  # fmt: skip
    return (
        f'<div class="meter" title="{label}"><span class="graded" '
        f'style="width:{share["graded"]}"></span><span class="points" '
        f'style="width:{share["points"]}"></span><span class="minimum" '
        f'style="left:{share["minimum"]}"></span></div>'
    )


def _lab_section(records: list[StudentRecord], standings: dict[str, Standing]) -> str:
    e = encode.html
    minimum, lab_max = catalog.pass_mark(), catalog.lab_max_points()
    graded_keys = class_stats.assignment_keys(records)
    share = 100 * minimum / lab_max if lab_max else 0
    parts = [
        '<section id="lab"><h2>Lab total so far</h2>',
        f"<p>The course minimum is {format_points(minimum)} of {format_points(lab_max)} "
        f"points, counted once all {len(catalog.specs())} assignments are graded. Graded so "
        f"far in this folder: {e(', '.join(graded_keys)) or 'nothing'}. <em>On pace</em>: "
        f"at least {share:.0f}% of the points graded so far; <em>cannot reach</em>: even "
        "full marks on what is still to come would not make the minimum.</p>",
    ]
    by_pace: dict[Pace, list[str]] = {}
    for student, s in sorted(standings.items()):
        by_pace.setdefault(s.pace, []).append(student)
    rows = [
        f"<tr class='{_PACE_CLASS.get(pace, '')}'><td>{e(pace)}</td>"
        f"<td class='num'>{len(by_pace.get(pace, []))}</td>"
        f"<td>{', '.join(student_link(s) for s in by_pace.get(pace, [])) or '—'}</td></tr>"
        for pace in Pace
        if by_pace.get(pace)
    ]
    parts.append(_table(["standing", "students", "who"], rows, " class='standing'"))
    missing = _not_handed_in(records, graded_keys)
    parts.append("<h3>Not handed in</h3>")
    if missing:
        rows = [f"<tr><td>{student_link(student)}</td><td>{e(', '.join(keys))}</td></tr>"
                for student, keys in missing]  # fmt: skip
        parts.append(_table(["student", "assignments"], rows, " class='missing'"))
    else:
        parts.append("<p>Everyone handed in every assignment graded so far.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _not_handed_in(records: list[StudentRecord], keys: list[str]) -> list[tuple[str, list[str]]]:
    """(student, assignments) not handed in: nothing of it was submitted, or the student
    has no outcome for an assignment the rest of the class was graded on."""
    found = []
    for record in sorted(records, key=lambda r: r.student):
        absent = {p.assignment for p in problems.problems(record)
                  if p.kind == problems.Kind.NOT_SUBMITTED}  # fmt: skip
        absent |= {key for key in keys if key not in record.outcomes}
        if absent:
            found.append((record.student, sorted(absent, key=catalog.course_order)))
    return found


def _assignment_cell(record: StudentRecord, key: str) -> str:
    e = encode.html
    outcome = record.outcomes.get(key)
    if outcome is None:
        return "<td class='muted'>—</td>"
    result = record.result(key)
    found = problems.outcome_problems(outcome, result)
    kinds = ", ".join(str(k) for k in problems.kinds(found))
    if result is None:
        return f"<td class='not-graded'>0 <small>(not graded: {e(kinds)})</small></td>"
    css = " problem" if found else ""
    note = f" <small>({e(kinds)})</small>" if found else ""
    adjusted = record.adjusted.get(key)
    if adjusted is not None and adjusted.adjustment:
        note += (f" <small>({format_points(adjusted.automatic)} "
                 f"{'+' if adjusted.adjustment > 0 else '-'} "
                 f"{format_points(abs(adjusted.adjustment))} adjusted)</small>")  # fmt: skip
    return f"<td class='num{css}'>{format_points(record.points(key))}{note}</td>"


def _students_section(records: list[StudentRecord], standings: dict[str, Standing]) -> str:
    e = encode.html
    keys = class_stats.assignment_keys(records)
    heads = [
        "student",
        *(e(k) for k in keys),
        "lab so far",
        "of points graded",
        "against the minimum",
        "standing",
    ]
    rows = []
    for record in sorted(records, key=lambda r: r.student):
        s = standings[record.student]
        rows.append(
            f"<tr><td>{student_link(record.student)}</td>"
            + "".join(_assignment_cell(record, key) for key in keys)
            + f"<td class='num'>{format_points(s.points)}</td>"
            f"<td class='num'>{format_points(s.graded_max)}</td><td>{_meter(s)}</td>"
            f"<td class='{_PACE_CLASS.get(s.pace, '')}'>{e(s.pace)}</td></tr>"
        )
    return (
        '<section id="students"><h2>Students</h2>'
        "<p>Each name opens the feedback page the student reads.</p>"
        + _table(heads, rows, " class='students'")
        + "</section>"
    )


def _graded_by(records: list[StudentRecord]) -> str:
    versions = class_stats.grader_versions(records)
    return f", graded with nngrade {encode.html(versions)}" if versions else ""


def render(records: list[StudentRecord], notes: Iterable[str] = (), changes: str = "") -> str:
    """The page; ``notes`` are lines of the run (how many were graded, which test set);
    ``changes`` the section of whose points this run moved (``changes_report``), if any."""
    e = encode.html
    keys = class_stats.assignment_keys(records)
    standings = {record.student: standing(record) for record in records}
    nav = " ".join(f'<a href="#{e(k)}">{e(k)}</a>' for k in keys)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Grading summary</title><style>{_STYLE}</style></head><body>",
        "<h1>Grading summary</h1>",
        f"<p>{len(records)} submissions{_graded_by(records)}. Every student's row: "
        "<a href='gradebook.csv'>"
        "gradebook.csv</a>; the same summary as text: <a href='summary.md'>summary.md</a>.</p>",
        f'<nav>{nav} <a href="#lab">lab total</a> <a href="#students">students</a>'
        + (' <a href="#changes">changes</a>' if changes else "")
        + "</nav>",
        *([changes] if changes else []),
        *(_assignment_section(class_stats.assignment_stats(records, k)) for k in keys),
        _lab_section(records, standings),
        _students_section(records, standings),
        *(f"<p class='muted'>{e(note)}</p>" for note in notes if note),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write(
    records: list[StudentRecord], out: Path, notes: Iterable[str] = (), changes: str = ""
) -> Path:
    """Write ``out/summary.html`` (after the feedback pages it links to) and return it."""
    path = out / FILE
    write_atomically(path, render(records, notes, changes))
    return path
