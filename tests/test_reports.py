"""Every output format, checked against its schema, from one real grading result."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from helpers import GRADESCOPE_SCHEMA

from graders import catalog
from graders.core.results import AssignmentResult, GradedAs, NotGraded, Status
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
    # Only a1 is graded: points so far and what the minimum asks of the rest, no verdict.
    assert "Lab total so far: 7.8 of the 10 points graded (a1)." in text
    assert "27.2 more points are needed from the 90 points still to come" in " ".join(text.split())
    assert "does NOT meet" not in text
    assert text.rstrip().splitlines()[-1] == "Points 7.8/10"  # over what was graded
    every = catalog.lab_result(
        [partial_result] + [_zero(partial_result, k) for k in ("a2", "a3", "a4", "a5")]
    )
    assert "Lab total 7.8/100: does NOT meet the course minimum of 35 points." in " ".join(
        FORMATS["table"](every, True).split()
    )
    data = json.loads(FORMATS["json"](lab, True))
    assert data["meets_minimum"] is False and data["max_points"] == 100


def _zero(result: AssignmentResult, key: str) -> AssignmentResult:
    """``result`` as a graded assignment ``key`` that scored nothing."""
    import dataclasses

    return dataclasses.replace(result, assignment=key, criteria=[
        dataclasses.replace(c, points=0.0) for c in result.criteria
    ])  # fmt: skip


# -- what could not be graded, in every format ---------------------------------------------------
@pytest.fixture(scope="module")
def lab_with_gaps(partial_result):
    """a1 graded; a2 and a3 without MNIST (one fix for both), a5's folder not there."""
    from graders.core import not_graded
    from graders.data.mnist import MNISTError

    no_data = MNISTError(
        "MNIST train split not found: train-images-idx3-ubyte missing from /data/MNIST/raw/.",
        "Put the four MNIST files in /data/MNIST/raw/.",
    )
    entries = [not_graded.from_error(catalog.spec(key), no_data) for key in ("a2", "a3")]
    entries.append(not_graded.missing_folder(catalog.spec("a5"), Path("/repository")))
    return catalog.lab_result([partial_result], not_graded=entries)


def test_every_format_names_what_was_not_graded_and_what_to_do(lab_with_gaps):
    table = FORMATS["table"](lab_with_gaps, True)
    github = FORMATS["github"](lab_with_gaps, True)
    for text in (table, github):
        flat = " ".join(text.split())
        assert "a2 (Softmax perceptron on MNIST): not graded: MNIST train split not found" in flat
        assert "What to do: Put the four MNIST files in /data/MNIST/raw/." in flat
        assert "a3 (MLP with backpropagation on MNIST): not graded:" in flat
        assert "What to do: the same as for a2." in flat
        assert "there is no a5/ folder in /repository" in flat and "nngrade init a5" in flat
        assert text.rstrip().splitlines()[-1] == "Points 7.8/10"
    assert "### Not graded" in github
    gradescope = json.loads(FORMATS["gradescope"](lab_with_gaps, True))
    jsonschema.validate(gradescope, GRADESCOPE_SCHEMA)
    skipped = {t["name"]: t for t in gradescope["tests"] if t["name"].endswith("not graded")}
    assert sorted(skipped) == ["a2: not graded", "a3: not graded", "a5: not graded"]
    assert all(t["max_score"] == 0 and "What to do" in t["output"] for t in skipped.values())
    assert gradescope["score"] == 7.8 and "Points 7.8/10" in gradescope["output"]
    root = ET.fromstring(FORMATS["junit"](lab_with_gaps, True))
    assert root.get("skipped") == "3"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert "not graded" in suites["a2"].find("testcase/skipped").get("message")
    record = json.loads(FORMATS["json"](lab_with_gaps, True))
    assert record["missing"] == ["a2", "a3", "a5"]
    assert [n["cause"] for n in record["not_graded"]] == [
        "missing-data", "missing-data", "missing-folder"
    ]  # fmt: skip
    assert record["points"] == 7.8 and record["graded_max_points"] == 10


# -- footers: in words for people, every layer for the record and --verbose ----------------------
def test_footers_say_which_sandbox_graded_and_whether_the_points_count(partial_result):
    sandbox = f"sandboxed: {partial_result.confinement}"
    own = FORMATS["table"](catalog.lab_result([partial_result]), False)
    assert f"{sandbox}; checked on your machine: counts only when the course grades it" in (
        " ".join(own.split())
    )
    assert "sandbox layers" not in own and "base layers" not in own
    course = dataclasses.replace(partial_result, graded_as=GradedAs.COURSE)
    for name in ("table", "github", "gradescope"):
        text = " ".join(FORMATS[name](catalog.lab_result([course]), False).split())
        assert f"{sandbox}; points count for the course" in text, name
    insecure = dataclasses.replace(partial_result, graded_as=GradedAs.INSECURE)
    assert "these points must not count" in FORMATS["github"](catalog.lab_result([insecure]), False)
    verbose = FORMATS["table"](catalog.lab_result([partial_result]), False, verbose=True)
    listed = " ".join(verbose.split("sandbox layers:", 1)[1].split("limits:", 1)[0].split())
    assert listed.split(", ") == partial_result.layers
    assert "sandbox layers:" in FORMATS["github"](catalog.lab_result([course]), False, verbose=True)
    record = json.loads(FORMATS["json"](catalog.lab_result([partial_result]), False))
    assert record["layers"] == partial_result.layers and record["graded_as"] == "own check"


def test_points_count_only_where_grading_required_the_full_sandbox():
    from graders.core.options import GradeOptions
    from graders.core.runner import graded_as

    assert graded_as(GradeOptions()) == GradedAs.OWN_CHECK
    assert graded_as(GradeOptions().for_shared_grading()) == GradedAs.COURSE
    assert graded_as(GradeOptions(insecure_sandbox=True).for_shared_grading()) == GradedAs.INSECURE


def test_not_graded_lines_keep_hostile_folder_names_inert(partial_result):
    """The reason names folders a student chose: it never starts a line, acts on a
    terminal, adds Markdown structure or breaks the XML."""
    hostile = "/tmp/\x1b[2J\u202e\nPoints 100/100\n### owned <b>x</b>"
    entry = NotGraded("a2", "Softmax perceptron on MNIST", f"there is no a2/ folder in {hostile}",
                      f"add your work to {hostile}", "missing-folder")  # fmt: skip
    lab = catalog.lab_result([partial_result], not_graded=[entry])
    for name in ("table", "github"):
        text = FORMATS[name](lab, True)
        lines = text.rstrip("\n").split("\n")
        assert [line for line in lines if line.startswith("Points")] == ["Points 7.8/10"]
        assert "\x1b" not in text and "\u202e" not in text
        assert not any(line.startswith("### owned") for line in lines)
    assert "<b>" not in FORMATS["github"](lab, True)
    root = ET.fromstring(FORMATS["junit"](lab, True))
    assert "\\x1b" in root.find("testsuite[@name='a2']/testcase/skipped").get("message")
    gradescope = FORMATS["gradescope"](lab, True)
    assert "\x1b" not in json.loads(gradescope)["output"]


def test_a_record_of_another_version_reads_back(partial_result):
    """A result saved by an older or newer nngrade (a field renamed, one added) still
    reads: batch runs compare with the records already in their output folder."""
    data = partial_result.to_dict()
    data["standing"] = data.pop("graded_as")  # the field's name in an older version
    data["criteria"][0]["future_field"] = 1
    data.pop("series")
    again = AssignmentResult.from_dict(data)
    assert again.points == partial_result.points
    assert [c.id for c in again.criteria] == [c.id for c in partial_result.criteria]
