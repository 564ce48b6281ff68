"""Strict runs (CI): a test that would skip fails instead, saying what was missing."""

from __future__ import annotations

import os

import pytest

#: Under ``NNGRADE_STRICT_TESTS=1`` (CI sets it) a test that would skip fails instead: a
#: missing sandbox layer, MNIST, an extra or the browser must not leave a green run that
#: tested none of it. Without it, local runs skip with the reason.
STRICT = os.environ.get("NNGRADE_STRICT_TESTS") == "1"


def fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip made a failure that says what was missing (strict runs only)."""
    if not STRICT or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"would be skipped ({reason}); NNGRADE_STRICT_TESTS=1 requires everything it needs"
    )
