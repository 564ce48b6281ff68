"""Wording shared by the human-facing renderers."""

from __future__ import annotations

from graders.core.results import AssignmentResult, LabResult, format_points
from graders.sandbox.confinement import BASE_LAYERS


def points_line(report: LabResult, lab_total: bool) -> str:
    """The ``Points X/Y`` line that CI integrations read."""
    if lab_total:
        return f"Points {format_points(report.points)}/{format_points(report.max_points)}"
    only = report.assignments[0]
    return f"Points {format_points(only.points)}/{format_points(only.max_points)}"


def minimum_line(report: LabResult) -> str:
    verdict = "meets" if report.meets_minimum else "does NOT meet"
    return (
        f"Lab total {format_points(report.points)}/{format_points(report.max_points)}: "
        f"{verdict} the course minimum of {format_points(report.minimum_points)} points"
    )


def provenance(result: AssignmentResult) -> str:
    """Grader version, seed and sandbox in one line (the JSON report lists every layer)."""
    extra = [layer for layer in result.layers if layer not in BASE_LAYERS]
    return (
        f"nngrade {result.grader_version}, seed {result.seed}, sandbox {result.confinement}"
        f" ({', '.join(extra) or 'base layers only'}; plus {len(BASE_LAYERS)} base layers); "
        f"limits: {result.limits}"
    )
