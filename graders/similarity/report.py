"""The similarity report: ``similarity.html`` to read, ``similarity.csv`` to sort and filter.

The page is one self-contained file (its style inline, no script, no link to anything
outside), so it can be mailed or archived with the grades. Everything a student
controls, their name, their file names and their code, passes through the encoder of
its sink (``encode.html``, ``encode.csv_cell``): code that reads ``</pre><script>`` is
shown, never run, and a name that starts with ``=`` stays text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from graders.render import encode
from graders.similarity import fingerprint
from graders.similarity.rank import Fingerprinted, Fragment, Pair, Ranking

#: Lines shown per side of one fragment; the rest is counted.
MAX_SHOWN_LINES = 150
#: Fragments shown per pair (longest first); the CSV lists them all.
MAX_SHOWN_FRAGMENTS = 12
#: Pairs listed per group (the most similar first).
MAX_GROUP_PAIRS = 40

CSV_COLUMNS = (
    "rank", "student_a", "student_b", "similarity", "share_a_in_b", "share_b_in_a",
    "shared_fingerprints", "fragments", "longest_fragment_tokens", "group", "code_a", "code_b",
)  # fmt: skip

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em;
       color: #1b1f24; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.meta, .note { color: #57606a; }
.bar { display: inline-block; height: 0.7em; background: #cf222e; vertical-align: middle; }
.fragment { display: grid; grid-template-columns: 1fr 1fr; gap: 0.75em; margin: 0.75em 0; }
.side { min-width: 0; } .where { font-weight: 600; font-size: 0.9em; margin-bottom: 0.2em; }
pre { margin: 0; padding: 0.5em; background: #fff8c5; border: 1px solid #d4a72c; overflow-x: auto;
      font-size: 12.5px; line-height: 1.35; }
.ln { color: #8c959f; user-select: none; display: inline-block; min-width: 3.5em; }
section.pair { border-top: 1px solid #d0d7de; margin-top: 1.5em; }
"""


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _lines(student: Fingerprinted, file: int, start: int, end: int) -> tuple[int, int]:
    """First and last line of tokens [start, end) of one file."""
    lines = student.streams[file].lines[start:end]
    return (min(lines), max(lines)) if lines else (1, 1)


def fragment_places(ranking: Ranking, pair: Pair, fragment: Fragment) -> tuple[str, str]:
    """Where a fragment is on each side: "a3/mlp.py lines 12-30"."""
    a, b = ranking.students[pair.a], ranking.students[pair.b]
    places = []
    for student, file, start, end in (
        (a, fragment.file_a, fragment.start_a, fragment.end_a),
        (b, fragment.file_b, fragment.start_b, fragment.end_b),
    ):
        source = student.code.files[file]
        places.append(f"{source.label} {source.span(*_lines(student, file, start, end))}")
    return places[0], places[1]


def group_of(ranking: Ranking) -> dict[int, int]:
    """Each grouped student's group number (from 1)."""
    return {member: number for number, group in enumerate(ranking.groups, 1) for member in group}


# -- CSV -------------------------------------------------------------------------------------


def csv_text(ranking: Ranking) -> str:
    """One row per listed pair, best first; text cells are formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    grouped = group_of(ranking)
    for number, pair in enumerate(ranking.pairs, 1):
        a, b = ranking.students[pair.a], ranking.students[pair.b]
        places = [fragment_places(ranking, pair, f) for f in pair.fragments]
        group = grouped.get(pair.a) if grouped.get(pair.a) == grouped.get(pair.b) else None
        writer.writerow(
            [
                number,
                encode.csv_cell(a.student),
                encode.csv_cell(b.student),
                round(pair.similarity, 4),
                round(pair.share_a, 4),
                round(pair.share_b, 4),
                pair.shared,
                len(pair.fragments),
                max((f.tokens for f in pair.fragments), default=0),
                group or "",
                encode.csv_cell(" | ".join(p[0] for p in places)),
                encode.csv_cell(" | ".join(p[1] for p in places)),
            ]
        )
    return buffer.getvalue()


# -- HTML ------------------------------------------------------------------------------------


def html_page(
    ranking: Ranking,
    *,
    title: str,
    template_labels: list[str],
    skipped: dict[str, str],
    generated: str,
) -> str:
    """The whole report page. ``title`` and ``generated`` are nngrade's own text."""
    h = encode.html
    students = len(ranking.students)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{h(title)}</h1>",
        f'<p class="meta">{students} submissions, {ranking.compared:,} pairs compared; '
        f"{h(generated)}.</p>",
        _explanation(ranking, template_labels),
        *_groups_section(ranking),
        *_pairs_table(ranking),
        *_pair_sections(ranking),
        *_not_compared(ranking, skipped),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _explanation(ranking: Ranking, template_labels: list[str]) -> str:
    template = ", ".join(encode.html(label) for label in template_labels) or "none"
    return (
        '<p class="note">Code is compared as normalised syntax: names the student chose, '
        "comments, docstrings, type hints, whitespace, the order of functions and the form of "
        "counting loops (<code>for</code> or <code>while</code>) make no difference. "
        f"Fingerprints are runs of {fingerprint.K} syntax tokens (about two lines), one kept "
        f"per window of {fingerprint.WINDOW}. <b>Similarity</b> is the part of both "
        "submissions' fingerprints they share; <b>A in B</b> is the part of A's that B has "
        "too. The code students were given never counts "
        f"({template}: {ranking.template_kgrams:,} k-grams)"
        + (
            f", nor do {ranking.common_fingerprints} fingerprints found in more than "
            f"{percent(ranking.common_share)} of the class"
            if ranking.common_fingerprints
            else ""
        )
        + f". Groups join students whose pairs reach {percent(ranking.threshold)}. "
        "A high similarity is a reason to read both submissions, not a verdict.</p>"
    )


def _student(ranking: Ranking, index: int) -> str:
    return encode.html(ranking.students[index].student)


def _groups_section(ranking: Ranking) -> list[str]:
    parts = ["<h2>Groups</h2>"]
    if not ranking.groups:
        return parts + [
            f"<p>No three or more students are linked by pairs of at least "
            f"{percent(ranking.threshold)}.</p>"
        ]
    anchors = {(p.a, p.b): number for number, p in enumerate(ranking.pairs, 1)}
    for number, group in enumerate(ranking.groups, 1):
        names = ", ".join(_student(ranking, member) for member in group)
        parts.append(f"<h3>Group {number}: {len(group)} students</h3><p>{names}</p>")
        linked = sorted(
            (
                (float(ranking.similarity[a, b]), a, b)
                for position, a in enumerate(group)
                for b in group[position + 1 :]
                if ranking.similarity[a, b] >= ranking.threshold
            ),
            reverse=True,
        )
        rows = []
        for score, a, b in linked[:MAX_GROUP_PAIRS]:
            anchor = anchors.get((a, b))
            link = f'<a href="#pair-{anchor}">pair {anchor}</a>' if anchor else ""
            rows.append(
                f"<tr><td>{_student(ranking, a)}</td><td>{_student(ranking, b)}</td>"
                f'<td class="n">{percent(score)}</td><td>{link}</td></tr>'
            )
        if len(linked) > MAX_GROUP_PAIRS:
            rows.append(
                f'<tr><td colspan="4">and {len(linked) - MAX_GROUP_PAIRS} more pairs of '
                f"at least {percent(ranking.threshold)}</td></tr>"
            )
        parts.append(
            "<table><tr><th>A</th><th>B</th><th>similarity</th><th></th></tr>"
            + "".join(rows)
            + "</table>"
        )
    return parts


def _pairs_table(ranking: Ranking) -> list[str]:
    parts = [f"<h2>Top {len(ranking.pairs)} pairs</h2>"]
    if not ranking.pairs:
        return parts + ["<p>No two submissions share any code beyond the template.</p>"]
    grouped = group_of(ranking)
    rows = [
        "<table><tr><th>#</th><th>A</th><th>B</th><th>similarity</th><th>A in B</th>"
        "<th>B in A</th><th>fragments</th><th>group</th></tr>"
    ]
    for number, pair in enumerate(ranking.pairs, 1):
        group = grouped.get(pair.a) if grouped.get(pair.a) == grouped.get(pair.b) else None
        width = round(80 * pair.similarity)
        rows.append(
            f'<tr><td class="n"><a href="#pair-{number}">{number}</a></td>'
            f"<td>{_student(ranking, pair.a)}</td><td>{_student(ranking, pair.b)}</td>"
            f'<td class="n">{percent(pair.similarity)} <span class="bar" '
            f'style="width:{width}px"></span></td>'
            f'<td class="n">{percent(pair.share_a)}</td><td class="n">{percent(pair.share_b)}</td>'
            f'<td class="n">{len(pair.fragments)}</td><td>{group or ""}</td></tr>'
        )
    return parts + ["".join(rows) + "</table>"]


def _pair_sections(ranking: Ranking) -> list[str]:
    parts = ["<h2>Shared code, pair by pair</h2>"] if ranking.pairs else []
    for number, pair in enumerate(ranking.pairs, 1):
        a, b = _student(ranking, pair.a), _student(ranking, pair.b)
        parts.append(
            f'<section class="pair" id="pair-{number}"><h3>{number}. {a} and {b}: '
            f"{percent(pair.similarity)}</h3><p>{a}'s code found in {b}'s: "
            f"{percent(pair.share_a)}; {b}'s in {a}'s: {percent(pair.share_b)}; "
            f"{pair.shared} shared fingerprints.</p>"
        )
        shown = sorted(pair.fragments, key=lambda f: -f.tokens)[:MAX_SHOWN_FRAGMENTS]
        if len(pair.fragments) > len(shown):
            parts.append(
                f'<p class="note">The {len(shown)} longest of {len(pair.fragments)} '
                "fragments; similarity.csv lists where all of them are.</p>"
            )
        for fragment in sorted(shown, key=lambda f: (f.file_a, f.start_a)):
            parts.append(_fragment(ranking, pair, fragment))
        parts.append("</section>")
    return parts


def _fragment(ranking: Ranking, pair: Pair, fragment: Fragment) -> str:
    where_a, where_b = fragment_places(ranking, pair, fragment)
    sides = []
    for index, where, file, start, end in (
        (pair.a, where_a, fragment.file_a, fragment.start_a, fragment.end_a),
        (pair.b, where_b, fragment.file_b, fragment.start_b, fragment.end_b),
    ):
        student = ranking.students[index]
        first, last = _lines(student, file, start, end)
        code = _code(student, file, first, last)
        sides.append(
            f'<div class="side"><div class="where">{_student(ranking, index)}: '
            f"{encode.html(where)}</div><pre>{code}</pre></div>"
        )
    return f'<div class="fragment">{"".join(sides)}</div>'


def _code(student: Fingerprinted, file: int, first: int, last: int) -> str:
    source = student.code.files[file]
    lines = source.text.splitlines()
    shown_last = min(last, first + MAX_SHOWN_LINES - 1)
    rows = [
        f'<span class="ln">{encode.html(source.gutter(line))}</span>'
        f"{encode.html(lines[line - 1] if line <= len(lines) else '')}"
        for line in range(first, shown_last + 1)
    ]
    if shown_last < last:
        rows.append(f'<span class="ln"></span>... {last - shown_last} more lines')
    return "\n".join(rows)


def _not_compared(ranking: Ranking, skipped: dict[str, str]) -> Iterable[str]:
    notes = [(s.student, notice) for s in ranking.students for notice in s.code.notices]
    if not skipped and not notes:
        return []
    parts = ["<h2>Not compared, or compared in part</h2><ul>"]
    parts += [
        f"<li>{encode.html(student)}: {encode.html(reason)}</li>"
        for student, reason in skipped.items()
    ]
    parts += [
        f"<li>{encode.html(student)}: {encode.html(notice)}</li>" for student, notice in notes
    ]
    return parts + ["</ul>"]
