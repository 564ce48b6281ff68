"""Grading where bubblewrap cannot run: Docker and Gradescope refuse namespaces, so
nngrade picks Landlock, and PyTorch assignments get the same points as under bubblewrap
(their libraries' optional imports find nothing, as they expect, instead of failing).
Where this machine can, as a default container's root (Docker's capabilities too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import container
import pytest
from helpers import REPO, SHARED_DATA

from graders.sandbox import confinement

LAUNCHER = REPO / "tests" / "without_namespaces.py"

pytestmark = [
    pytest.mark.skipif(
        not confinement.available("landlock") or os.geteuid() != 0,
        reason="needs Landlock and root, as in Docker and on Gradescope",
    ),
    pytest.mark.skipif(
        not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data"
    ),
]


def check_without_namespaces(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "graders.cli", "check", *args]
    command += ["--data-dir", str(SHARED_DATA), "--no-download", "--format", "json"]
    if container.available() is None:
        command = container.container_root(command)
    else:
        command = [sys.executable, str(LAUNCHER), *command]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )


def test_bubblewrap_cannot_start_there():
    probe = "from graders.sandbox import confinement as c; print(c.bubblewrap_works())"
    done = subprocess.run(
        [sys.executable, str(LAUNCHER), sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    ("key", "criteria"),
    [("a4", ("dataset", "model", "evaluate")), ("a5", ("replay_buffer", "td_target"))],
)
def test_torch_assignments_get_their_points_under_landlock_alone(key, criteria):
    only = [arg for criterion in criteria for arg in ("--only", criterion)]
    done = check_without_namespaces(key, "--submission", "reference", *only)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    result = report["assignments"][0] if "assignments" in report else report
    assert result["confinement"] == "landlock"
    graded = {c["id"]: c for c in result["criteria"] if c["id"] in criteria}
    assert {k: c["points"] == c["max_points"] for k, c in graded.items()} == dict.fromkeys(
        criteria, True
    ), {k: c["reason"] for k, c in graded.items()}
    assert not [n for n in result["notices"] if "tried to" in n]
