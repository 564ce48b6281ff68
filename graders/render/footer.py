"""How a result was graded, in words for the person reading it: which sandbox, and
whether the points count. The full layer list and the limits are for ``--verbose`` and
the JSON record; a student only needs to know the work was sandboxed and what counts.
"""

from __future__ import annotations

from graders.core.results import AssignmentResult, GradedAs


def sandbox_words(result: AssignmentResult) -> str:
    """``sandboxed: bubblewrap; points count for the course`` and the like."""
    sandbox = (
        f"sandboxed: {result.confinement}"
        if result.confinement and result.confinement != "none"
        else "not sandboxed (base limits only)"
    )
    if result.graded_as == GradedAs.COURSE:
        return f"{sandbox}; points count for the course"
    if result.graded_as == GradedAs.OWN_CHECK:
        return f"{sandbox}; checked on your machine: counts only when the course grades it"
    if result.graded_as == GradedAs.INSECURE:
        return f"{sandbox}; graded with --insecure-sandbox: these points must not count"
    return sandbox


def footer(result: AssignmentResult) -> str:
    """The one line under an assignment: the sandbox in words, the grader, the seed, and
    whether the inputs were the course's secret ones (never the secret seed itself)."""
    inputs = ", the course's secret inputs" if result.inputs == "secret" else ""
    return f"{sandbox_words(result)}. nngrade {result.grader_version}, seed {result.seed}{inputs}"


def details(result: AssignmentResult) -> list[str]:
    """What ``--verbose`` adds: every layer the sandbox applied, and the limits."""
    return [
        f"sandbox layers: {', '.join(result.layers) or 'none'}",
        f"limits: {result.limits}",
    ]
