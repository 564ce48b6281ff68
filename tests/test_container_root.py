"""Grading as the root of a default Docker container, as Gradescope and many CI runners do:
Docker's default capabilities (no ``CAP_SYS_PTRACE``, no ``CAP_SYS_ADMIN``) and no
namespaces, so Landlock alone confines the workers.

The grader must still see its workers from outside (which program runs, what they hold
open or map, which libraries they loaded) and give every assignment the points it gives on
an instructor's machine. The contract's Landlock gradings (every reference full marks,
every stub zero) run as such a root too (``tests/background.py``); here: what the grader
reads of a worker, and one seeded bug per assignment losing exactly its criterion.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from container import DOCKER_CAP_EFF, available, container_root
from helpers import REPO, SHARED_DATA, build_submission, replace_once

from graders import catalog
from graders.sandbox import confinement

MIB = 2**20
PROBE = REPO / "tests" / "proc_probe.py"

pytestmark = [
    pytest.mark.skipif(available() is not None, reason=str(available())),
    pytest.mark.skipif(not confinement.available("landlock"), reason="needs Landlock"),
]


def _probe(as_container_root: bool) -> dict:
    command = [sys.executable, str(PROBE)]
    done = subprocess.run(
        container_root(command) if as_container_root else command,
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_a_workers_entries_are_read_as_a_container_root():
    found = _probe(as_container_root=True)
    assert found["cap_eff"] == DOCKER_CAP_EFF
    assert "unreadable" not in found, found.get("unreadable")
    # The open deleted file by its blocks; the mapped-only one at the file-size bound, named.
    assert found["held_bytes"] == 8 * MIB + 64 * MIB
    assert len(found["bounded"]) == 1 and "mapped" in found["bounded"][0]
    assert "CAP_SYS_ADMIN" in found["bounded"][0]
    assert any("numpy" in path for path in found["libraries"])
    assert len(found["running"]) == 1
    assert set(found["view"]["uids"]) == {found["uid"]}
    assert all(found["view"][f"ns_{kind}"] for kind in ("mnt", "pid", "net"))


def test_with_every_capability_both_held_files_are_read_exactly():
    found = _probe(as_container_root=False)
    assert found["held_bytes"] == 8 * MIB + 4 * MIB and found["bounded"] == []


def _check_as_container_root(key: str, submission, only: tuple[str, ...]) -> dict:
    """``nngrade check`` as a container's root, with the course's strict layers."""
    arguments = [arg for criterion in only for arg in ("--only", criterion)]
    command = [
        sys.executable, "-m", "graders.cli", "check", key, "--submission", str(submission),
        *arguments, "--data-dir", str(SHARED_DATA), "--no-download", "--format", "json",
        *[arg for layer in confinement.STRICT_LAYERS for arg in ("--require", layer)],
    ]  # fmt: skip
    done = subprocess.run(
        container_root(command), capture_output=True, text=True, timeout=900, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    return report["assignments"][0] if "assignments" in report else report


#: One seeded bug per assignment: (module, edit, criteria graded, points where they differ
#: from full marks). Criteria that train are left out where the bug cannot move them.
SEEDED = {
    "a1": (
        "a1/vectorized.py",
        replace_once("return float(np.linalg.det(_matrix(A)))",
                     "return -float(np.linalg.det(_matrix(A)))"),
        (),
        {"vectorized.basic_ops": 0.8, "agreement": 0},
    ),
    "a2": (
        "a2/perceptron.py",
        replace_once("np.exp(Z - Z.max(axis=-1, keepdims=True))", "np.exp(Z)"),
        ("softmax_one_hot", "cross_entropy"),
        {"softmax_one_hot": 1},
    ),
    "a3": (
        "a3/mlp.py",
        replace_once("        return np.maximum(z, 0)\n",
                     "        return np.where(z > 0, z, 0.01 * z)\n"),
        ("forward", "batched.mean_of_samples"),
        {"forward": 0},
    ),
    "a4": (
        "a4/pipeline.py",
        replace_once("    model.eval()\n", "    model.train()\n"),
        ("evaluate", "dataset"),
        {"evaluate": 0},
    ),
    "a5": (
        "a5/agent.py",
        replace_once("    alive = 1.0 - terminated.to(next_q.dtype)\n", "    alive = 1.0\n"),
        ("td_target", "epsilon"),
        {"td_target": 1.5},
    ),
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(SEEDED))
def test_a_seeded_bug_loses_exactly_its_criterion_as_a_container_root(key, tmp_path):
    spec = catalog.spec(key)
    if spec.uses_mnist and not (SHARED_DATA / "MNIST").exists():
        pytest.skip("MNIST is not in ../shared/data")
    if spec.extra and any(
        __import__("importlib").util.find_spec(module) is None for module in spec.requires
    ):
        pytest.skip(f'needs pip install "nngrade[{spec.extra}]"')
    module, edit, only, broken = SEEDED[key]
    submission = build_submission(tmp_path, assignment=key, edits={module: edit})
    result = _check_as_container_root(key, submission, only)
    assert result["confinement"] == "landlock"
    graded = {c["id"]: c for c in result["criteria"] if not only or c["id"] in only}
    points = {cid: c["points"] for cid, c in graded.items()}
    full = {cid: c["max_points"] for cid, c in graded.items()}
    assert points == {**full, **broken}, {cid: c["reason"] for cid, c in graded.items()}
    assert result["internal_errors"] == []
    assert not [n for n in result["notices"] if "not confirmed" in n], result["notices"]


@pytest.mark.parametrize("as_container_root", [True, False])
def test_a_worker_that_is_ending_is_gone_not_unreadable(as_container_root):
    """A stopped worker is a zombie for a moment, and the kernel then shows its entries to
    root alone (it has no memory left, so no dumpable flag): the watcher looking at that
    moment must see a process that is gone, not a fact it could not confirm (that notice
    reached a student's report when a look met a worker being stopped)."""
    command = [sys.executable, str(REPO / "tests" / "exiting_probe.py")]
    done = subprocess.run(
        container_root(command) if as_container_root else command,
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {"outcome": "gone"}
