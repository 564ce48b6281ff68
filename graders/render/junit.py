"""JUnit XML: one test suite per assignment, one test case per criterion."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graders.core.results import LabResult, Status, format_points


def render(report: LabResult, lab_total: bool) -> str:
    root = ET.Element("testsuites", name="nngrade")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in report.assignments:
        failures = sum(c.status not in (Status.PASSED, Status.ERROR) for c in result.criteria)
        errors = sum(c.status == Status.ERROR for c in result.criteria)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.assignment,
            tests=str(len(result.criteria)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{result.duration_s:.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("points", format_points(result.points)),
            ("max_points", format_points(result.max_points)),
            ("grader_version", result.grader_version),
            ("seed", str(result.seed)),
            ("confinement", result.confinement),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        for c in result.criteria:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"nngrade.{result.assignment}",
                name=f"{c.id} [{format_points(c.points)}/{format_points(c.max_points)}]",
                time=f"{c.duration_s:.3f}",
            )
            if c.status == Status.ERROR:
                ET.SubElement(case, "error", message=c.reason, type="grader-error").text = c.reason
            elif c.status != Status.PASSED:
                ET.SubElement(case, "failure", message=c.reason, type=c.status).text = c.reason
        totals["tests"] += len(result.criteria)
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
