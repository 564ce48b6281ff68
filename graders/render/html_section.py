"""One assignment's result as an HTML section: what a feedback page and a notebook show.

Every string that students control (reasons, notices, file names) is ``encode.html``,
here, once: escaped with its quotes, controls shown.
"""

from __future__ import annotations

from graders.core.results import AssignmentResult, format_points
from graders.render import encode, footer, plots

#: Row colours by criterion status; a page includes it once in its <style>.
STYLE = """
table.nngrade { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
table.nngrade th, table.nngrade td { border: 1px solid #ccc; padding: 0.3rem 0.5rem;
  text-align: left; vertical-align: top; }
.nngrade .passed { background: #e8f6e8; } .nngrade .partial { background: #fff6d6; }
.nngrade .failed, .nngrade .violation, .nngrade .error { background: #fbe7e7; }
.nngrade-note { color: #555; }
"""


def assignment_section(result: AssignmentResult, *, charts: bool = True) -> str:
    """Heading with the points, notices, broken rules, the criteria table, the charts (a3's
    learning curve, a5's returns) and how it was graded."""
    e = encode.html
    score = f"{format_points(result.points)}/{format_points(result.max_points)}"
    parts = [f"<h2>{e(result.assignment)}: {e(result.title)} — {score}</h2>"]
    parts += [f"<p class='nngrade-note'>note: {e(n)}</p>" for n in result.notices]
    parts += [
        f"<p class='nngrade-note'><strong>rule broken:</strong> {e(v.describe())}</p>"
        for v in result.violations
    ]
    parts.append(
        "<table class='nngrade'><tr><th>Criterion</th><th>Points</th>"
        "<th>Why points were lost</th></tr>"
    )
    for c in result.criteria:
        points = f"{format_points(c.points)}/{format_points(c.max_points)}"
        parts.append(
            f"<tr class='{e(c.status)}'><td><code>{e(c.id)}</code> {e(c.title)}</td>"
            f"<td>{points}</td><td>{e(c.reason)}</td></tr>"
        )
    parts.append("</table>")
    if charts:
        parts += _charts(result)
    parts.append(f"<small>{e(footer.footer(result))}</small>")
    return "\n".join(parts)


def _charts(result: AssignmentResult) -> list[str]:
    """Inline SVG plots of the numbers the grader kept (a3 history, a5 returns)."""
    found = []
    if result.series.get("history"):
        found.append(plots.learning_curve_svg(result.series["history"]))
    if result.series.get("returns"):
        found.append(plots.returns_svg(result.series["returns"]))
    return [f"<figure>{plots.inline_svg(svg)}</figure>" for svg in found if svg]
