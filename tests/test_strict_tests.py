"""CI's strict runs: what would skip (a missing sandbox layer, MNIST, an extra) fails."""

from __future__ import annotations

import pytest
import strict


def _skipped(reason: str) -> pytest.TestReport:
    return pytest.TestReport(
        nodeid="tests/test_x.py::test_x",
        location=("tests/test_x.py", 1, "test_x"),
        keywords={},
        outcome="skipped",
        longrepr=("tests/test_x.py", 1, f"Skipped: {reason}"),
        when="call",
    )


def test_a_strict_run_fails_what_would_skip_and_says_what_was_missing(monkeypatch):
    monkeypatch.setattr(strict, "STRICT", True)
    report = _skipped("MNIST is not in ../shared/data")
    strict.fail_skip(report)
    assert report.failed and "MNIST is not in ../shared/data" in str(report.longrepr)


def test_a_local_run_still_skips_with_the_reason(monkeypatch):
    monkeypatch.setattr(strict, "STRICT", False)
    report = _skipped("bubblewrap is not installed")
    strict.fail_skip(report)
    assert report.skipped


def test_ci_runs_the_suite_strictly():
    from helpers import REPO

    assert "NNGRADE_STRICT_TESTS=1" in (REPO / ".ci" / "run").read_text()
