"""JUnit XML: one test suite per assignment, one test case per criterion; an assignment
that could not be graded is a suite whose one test case is skipped with the reason.

ElementTree escapes markup; ``encode.xml`` keeps out what XML 1.0 cannot hold at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graders.core.results import LabResult, NotGraded, Status, format_points
from graders.render import coverage, encode


def render(report: LabResult, lab_total: bool, verbose: bool = False) -> str:
    """The XML report (``verbose`` changes nothing: every layer is always listed)."""
    root = ET.Element("testsuites", name="nngrade")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in report.assignments:
        failures = sum(c.status not in (Status.PASSED, Status.ERROR) for c in result.criteria)
        errors = sum(c.status == Status.ERROR for c in result.criteria)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=encode.xml(result.assignment),
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
            ("layers", ",".join(result.layers)),
            ("graded_as", str(result.graded_as or "")),
        ):
            ET.SubElement(properties, "property", name=name, value=encode.xml(value))
        for c in result.criteria:
            score = f"{format_points(c.points)}/{format_points(c.max_points)}"
            case = ET.SubElement(
                suite,
                "testcase",
                classname=encode.xml(f"nngrade.{result.assignment}"),
                name=encode.xml(f"{c.id} [{score}]"),
                time=f"{c.duration_s:.3f}",
            )
            reason = encode.xml(c.reason)
            if c.status == Status.ERROR:
                ET.SubElement(case, "error", message=reason, type="grader-error").text = reason
            elif c.status != Status.PASSED:
                ET.SubElement(case, "failure", message=reason, type=c.status).text = reason
        totals["tests"] += len(result.criteria)
        totals["failures"] += failures
        totals["errors"] += errors
    for entry in report.not_graded if lab_total else ():
        _not_graded_suite(root, entry)
        totals["tests"] += 1
        totals["skipped"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _not_graded_suite(root: ET.Element, entry: NotGraded) -> None:
    """An assignment not graded: a suite of one skipped case saying why and what to do."""
    suite = ET.SubElement(
        root, "testsuite", name=encode.xml(entry.assignment), tests="1", failures="0",
        errors="0", skipped="1", time="0.000",
    )  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="graded", value="no")
    ET.SubElement(properties, "property", name="cause", value=encode.xml(entry.cause))
    case = ET.SubElement(
        suite, "testcase", classname=encode.xml(f"nngrade.{entry.assignment}"),
        name="not graded", time="0.000",
    )  # fmt: skip
    text = encode.xml(coverage.not_graded_text(entry))
    ET.SubElement(case, "skipped", message=text).text = text
