"""Assignment 1 grader: every criterion proven both ways on real submissions.

The reference earns every point, the stub none, and each seeded bug loses exactly the
points of the criteria it breaks (listed per bug) while keeping all the others.
"""

from __future__ import annotations

import pytest
from a1_cases import FULL, PURE_RULE_LOSS, SEEDED_BUGS, drop_missing_variable, hide_line_numbers
from helpers import (
    FAST_A1,
    build_submission,
    points_by_criterion,
    replace_once,
)

from graders.core.results import Status


def test_criteria_add_up_to_ten_points():
    assert sum(FULL.values()) == FAST_A1.points == 10


def test_reference_earns_each_criterion_silently(graded_course):
    reference = graded_course("a1", "reference")
    assert points_by_criterion(reference) == FULL
    assert all(c.reason == "" for c in reference.criteria) and reference.notices == []


def test_stub_says_what_is_not_implemented(graded_course):
    for criterion in graded_course("a1", "student_template").criteria:
        assert "not implemented yet" in criterion.reason, criterion


def test_missing_folder_gets_zero_and_says_what_is_missing(grade_a1, tmp_path):
    result = grade_a1(tmp_path)
    assert result.points == 0
    assert "a1/pure.py is missing from the submission" in result.notices
    assert all("could not import a1/" in c.reason for c in result.criteria)


def test_grading_is_deterministic(reference_a1, grade_a1, tmp_path):
    buggy = build_submission(
        tmp_path, edits={"a1/pure.py": replace_once("(-1) ** (row + col)", "(-1) ** row")}
    )
    first, second = grade_a1(buggy), grade_a1(buggy)
    assert [(c.id, c.points, c.reason) for c in first.criteria] == [
        (c.id, c.points, c.reason) for c in second.criteria
    ]


@pytest.mark.parametrize("name", list(SEEDED_BUGS))
def test_seeded_bug_loses_exactly_its_criteria(name, grade_a1, tmp_path):
    edits, broken = SEEDED_BUGS[name]
    result = grade_a1(build_submission(tmp_path, edits=edits))
    expected = {**FULL, **broken}
    assert points_by_criterion(result) == expected
    for criterion in result.criteria:
        if criterion.id in broken:
            assert criterion.status in (Status.FAILED, Status.PARTIAL)
            assert criterion.reason, criterion.id
        else:
            assert criterion.status == Status.PASSED, criterion


def test_parser_reason_names_the_case(grade_a1, tmp_path):
    result = grade_a1(build_submission(tmp_path, edits={"a1/pure.py": drop_missing_variable}))
    reason = {c.id: c.reason for c in result.criteria}["pure.load_system"]
    assert reason.startswith("load_system (") and "expected numbers of shape (3, 3)" in reason


def test_line_number_reason_quotes_the_message(grade_a1, tmp_path):
    result = grade_a1(build_submission(tmp_path, edits={"a1/pure.py": hide_line_numbers}))
    reason = {c.id: c.reason for c in result.criteria}["pure.load_system"]
    assert "must name the line" in reason and "'line 2'" in reason


def test_partial_credit_names_the_broken_operation(grade_a1, tmp_path):
    edits, _ = SEEDED_BUGS["negated determinant (numpy)"]
    result = grade_a1(build_submission(tmp_path, edits=edits))
    criterion = {c.id: c for c in result.criteria}["vectorized.basic_ops"]
    assert criterion.status == Status.PARTIAL
    assert criterion.reason.startswith("determinant of [[2.0, 3.0, -1.0]")
    agreement = {c.id: c for c in result.criteria}["agreement"]
    assert agreement.reason.startswith("determinant disagrees for the system")
    assert ": pure gave " in agreement.reason and ", numpy gave " in agreement.reason


# -- the framework rule, enforced statically and at run time --------------------------------


def test_numpy_import_in_pure_zeroes_the_pure_criteria(grade_a1, tmp_path):
    edits = {"a1/pure.py": replace_once("import math\n", "import math\nimport numpy as np\n")}
    result = grade_a1(build_submission(tmp_path, edits=edits))
    assert points_by_criterion(result) == {**FULL, **PURE_RULE_LOSS}
    [violation] = [v for v in result.violations if v.detected_by == "static scan"]
    assert (violation.rule, violation.file, violation.module) == (
        "stdlib-only",
        "a1/pure.py",
        "numpy",
    )
    assert violation.line == 10
    zeroed = [c for c in result.criteria if c.id in PURE_RULE_LOSS]
    assert all(
        c.status == Status.VIOLATION and "a1/pure.py:10 imports numpy" in c.reason for c in zeroed
    )


def test_import_hidden_behind_importlib_is_caught_at_run_time(grade_a1, tmp_path):
    """The name is built at run time, so only the runtime blocker can see it; the student
    even catches the ImportError and falls back to working code."""
    hidden = (
        "    import importlib\n"
        "    try:\n"
        "        importlib.import_module('num' + 'py')\n"
        "    except ImportError:\n"
        "        pass\n"
    )
    edits = {"a1/pure.py": replace_once(
        '    """Sum of the diagonal entries."""\n',
        '    """Sum of the diagonal entries."""\n' + hidden)}  # fmt: skip
    result = grade_a1(build_submission(tmp_path, edits=edits))
    assert points_by_criterion(result) == {**FULL, **PURE_RULE_LOSS}
    assert [v.detected_by for v in result.violations] == ["runtime import blocker"]
    violation = result.violations[0]
    assert violation.module == "numpy" and violation.file == "a1/pure.py"


def test_ml_framework_anywhere_in_a1_zeroes_everything(grade_a1, tmp_path):
    edits = {"a1/vectorized.py": replace_once(
        "import numpy as np\n", "import numpy as np\n\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n")}  # fmt: skip
    result = grade_a1(build_submission(tmp_path, edits=edits))
    assert result.points == 0
    assert {v.rule for v in result.violations} == {"no-ml-frameworks"}
    assert {v.detected_by for v in result.violations} == {"static scan", "runtime import blocker"}


def test_forbidden_import_in_a_helper_module_is_followed(grade_a1, tmp_path):
    edits = {
        "a1/helpers.py": "import sklearn.linear_model\n",
        "a1/vectorized.py": replace_once("import numpy as np\n", "import numpy as np\n\nfrom . import helpers  # noqa\n"),
    }  # fmt: skip
    result = grade_a1(build_submission(tmp_path, edits=edits))
    assert result.points == 0
    assert any(
        v.file == "a1/helpers.py" and v.module.startswith("sklearn") for v in result.violations
    )


def test_runtime_blocker_covers_dunder_import_and_exec(grade_a1, tmp_path):
    # A name built at run time is out of the static scan's reach (a literal string given
    # to exec or __import__ is not: tests/test_scan_hides.py); the runtime blocker sees it.
    sneaky = "    try:\n        exec(\"__import__('ja' + 'x')\")\n    except ImportError:\n        pass\n"
    edits = {"a1/vectorized.py": replace_once(
        '    """Sum of the diagonal entries."""\n', '    """Sum of the diagonal entries."""\n' + sneaky)}  # fmt: skip
    result = grade_a1(build_submission(tmp_path, edits=edits))
    assert result.points == 0
    assert [(v.module, v.detected_by) for v in result.violations] == [
        ("jax", "runtime import blocker")
    ]
