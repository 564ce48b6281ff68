"""Every output format, checked against its schema, from one real grading result."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from helpers import GRADESCOPE_SCHEMA

from graders import catalog
from graders.core.results import AssignmentResult, Status
from graders.render import FORMATS


@pytest.fixture(scope="module")
def partial_result(tmp_path_factory) -> AssignmentResult:
    from helpers import FAST_A1, build_submission, replace_once

    from graders.core.runner import grade

    edits = {
        "a1/vectorized.py": replace_once("return _matrix(A).T.copy()", "return _matrix(A).copy()")
    }
    return grade(FAST_A1, build_submission(tmp_path_factory.mktemp("sub"), edits=edits))


def test_gradescope_results_validate_and_add_up(partial_result):
    document = json.loads(FORMATS["gradescope"](catalog.lab_result([partial_result]), False))
    jsonschema.validate(document, GRADESCOPE_SCHEMA)
    assert document["score"] == partial_result.points == 7.8
    assert sum(t["score"] for t in document["tests"]) == pytest.approx(7.8)
    assert sum(t["max_score"] for t in document["tests"]) == 10
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert {t["name"].split(":")[0] for t in failed} == {"a1 vectorized.basic_ops", "a1 agreement"}
    assert all(t["output"] for t in failed)
    assert "Points 7.8/10" in document["output"]


def test_junit_xml_parses_with_one_case_per_criterion(partial_result):
    root = ET.fromstring(FORMATS["junit"](catalog.lab_result([partial_result]), False))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 8 and suite.get("tests") == "8" and suite.get("failures") == "2"
    failures = [c for c in cases if c.find("failure") is not None]
    assert all(c.find("failure").get("message") for c in failures)
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["points"] == "7.8" and properties["max_points"] == "10"


def test_github_summary_ends_with_the_points_line(partial_result):
    text = FORMATS["github"](catalog.lab_result([partial_result]), False)
    assert text.rstrip().splitlines()[-1] == "Points 7.8/10"
    assert "| ❌ | `agreement`" in text and "| 🟡 | `vectorized.basic_ops`" in text


def test_table_lists_every_criterion_and_the_total(partial_result):
    text = FORMATS["table"](catalog.lab_result([partial_result]), False)
    assert text.rstrip().splitlines()[-1] == "Points 7.8/10"
    for criterion in partial_result.criteria:
        assert criterion.id in text
    assert "transpose of [[2.0, 3.0, -1.0]" in text


def test_json_round_trips_into_the_same_result(partial_result):
    data = json.loads(FORMATS["json"](catalog.lab_result([partial_result]), False))
    assert data["points"] == 7.8
    assert AssignmentResult.from_dict(data) == partial_result
    assert data["grader_version"] and data["seed"] and data["layers"]
    # Statuses are written as their words and read back as the enum.
    assert {c["status"] for c in data["criteria"]} <= {s.value for s in Status}
    assert all(isinstance(c.status, Status) for c in AssignmentResult.from_dict(data).criteria)


def test_lab_total_reports_the_course_minimum(partial_result):
    lab = catalog.lab_result([partial_result], missing=["a2", "a3", "a4", "a5"])
    text = FORMATS["table"](lab, True)
    assert "does NOT meet the course minimum of 35 points" in text
    assert text.rstrip().splitlines()[-1] == "Points 7.8/100"
    data = json.loads(FORMATS["json"](lab, True))
    assert data["meets_minimum"] is False and data["max_points"] == 100
