"""Hostile submissions: each still gets exactly the points it earned, leaves no process
behind, cannot change the grader or its results, and the run finishes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from a1_cases import FULL
from helpers import (
    REPO,
    TEMPLATE,
    build_submission,
    inject_at_start,
    live_processes,
    points_by_criterion,
    tree_digest,
)

from graders.core.results import Status
from graders.sandbox import confinement

LAYERS = [kind for kind in confinement.KINDS if confinement.available(kind)]


def worker_processes() -> list[str]:
    """Command lines of every live sandbox worker of this test session (its folders lie in
    the session's own work folder, conftest.py)."""
    session = os.environ.get("NNGRADE_WORK_DIR", "/")
    return [
        cmd[:200]
        for cmd in live_processes().values()
        if "sandbox/inside/main.py" in cmd and session in cmd
    ]


def processes_with(marker: str) -> list[int]:
    return [pid for pid, cmd in live_processes().items() if marker in cmd]


@pytest.fixture(autouse=True)
def no_worker_survives():
    yield
    assert worker_processes() == []


def hostile(
    function: str, module: str, code: str, tmp_path: Path, base: Path | None = None
) -> Path:
    kwargs = {"base": base} if base else {}
    return build_submission(
        tmp_path, edits={f"a1/{module}.py": inject_at_start(function, code)}, **kwargs
    )


CASES = {
    "loops forever": ("trace", "pure", "while True: pass",
                      {"pure.basic_ops": 1.2, "agreement": 0}, "trace did not finish within 3 s"),
    "allocates 50 GB": ("norm", "pure", "_hog = bytearray(50 * 2**30)",
                        {"pure.basic_ops": 1.2, "agreement": 0}, "norm raised MemoryError"),
    "segfaults": ("determinant", "vectorized", "import ctypes; ctypes.string_at(0)",
                  {"vectorized.basic_ops": 0.8, "agreement": 0}, "died of SIGSEGV"),
    "calls os._exit(0)": ("multiply", "vectorized", "import os; os._exit(0)",
                          {"vectorized.basic_ops": 0.8, "agreement": 0}, "exited with status 0"),
    "calls pytest.exit": ("norm", "vectorized", "import pytest; pytest.exit('grading over', returncode=0)",
                          {"vectorized.basic_ops": 0.8, "agreement": 0},
                          "norm raised ModuleNotFoundError: No module named 'pytest'"),
    "calls sys.exit": ("trace", "vectorized", "import sys; sys.exit(0)",
                       {"vectorized.basic_ops": 0.8, "agreement": 0}, "trace raised SystemExit"),
    "garbles the answer pipe": (
        "trace", "vectorized",
        "import sys, json, os; os.write(json.loads(sys.argv[1])['response_fd'], b'\\xff' * 64)",
        {"vectorized.basic_ops": 0.8, "agreement": 0}, "trace crashed: sent an invalid answer"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_code_loses_only_what_it_breaks(name, grade_a1, tmp_path):
    function, module, code, broken, reason = CASES[name]
    result = grade_a1(hostile(function, module, code, tmp_path))
    assert points_by_criterion(result) == {**FULL, **broken}
    criterion = next(c for c in result.criteria if c.id == next(iter(broken)))
    assert reason in criterion.reason, criterion.reason
    assert result.internal_errors == []


FORK_TREE = (
    "import subprocess, sys; _spawned = globals().setdefault('_spawned', []); "
    "_spawned or _spawned.append(subprocess.Popen([sys.executable, '-c', "
    "'import os, time\\nos.setsid()\\nfor _ in range(3):\\n    os.fork()\\ntime.sleep(900)', "
    "'{marker}'], start_new_session=True))"
)


@pytest.mark.parametrize("layer", LAYERS)
def test_process_tree_with_setsid_is_killed(layer, grade_a1, tmp_path):
    marker = f"nngrade-hostile-{uuid.uuid4().hex}"
    submission = hostile("transpose", "pure", FORK_TREE.format(marker=marker), tmp_path)
    result = grade_a1(submission, confinement=layer)
    assert result.confinement == layer
    # Refused under every layer (by the kernel under the strong ones), so transpose fails
    # everywhere and the same submission gets the same points on every machine.
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0}
    assert processes_with(marker) == []


def test_a_criterion_stopped_by_hangs_names_the_call_that_hung(grade_a1, tmp_path):
    result = grade_a1(hostile("trace", "pure", "while True: pass", tmp_path))
    reason = next(c.reason for c in result.criteria if c.id == "agreement")
    assert reason.startswith("trace did not finish within 3 s"), reason


@pytest.mark.parametrize("layer", LAYERS)
def test_infinite_loop_is_stopped_under_every_layer(layer, grade_a1, tmp_path):
    result = grade_a1(
        hostile("trace", "vectorized", "while True: pass", tmp_path), confinement=layer
    )
    assert points_by_criterion(result) == {**FULL, "vectorized.basic_ops": 0.8, "agreement": 0}


def _grader_is_protected(layer: str) -> bool:
    layers = confinement.build(layer).layers
    return "read-only-system" in layers or "unprivileged" in layers


TAMPER = (
    "import graders, pathlib\n"
    "_root = pathlib.Path(graders.__file__).parent\n"
    "for _path in list(_root.rglob('*.py')):\n"
    "    try:\n"
    "        with open(_path, 'a') as _stream:\n"
    "            _stream.write('\\nraise SystemExit(\"hacked\")\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "try:\n"
    "    (_root / 'a1' / 'test_backdoor.py').write_text('def test_x(): pass\\n')\n"
    "except OSError:\n"
    "    pass\n"
)


@pytest.mark.parametrize("layer", [k for k in LAYERS if _grader_is_protected(k)])
def test_submission_cannot_edit_the_grader(layer, grade_a1, tmp_path):
    before = tree_digest(REPO / "graders")
    submission = build_submission(tmp_path, edits={"a1/pure.py": lambda text: text + "\n" + TAMPER})
    result = grade_a1(submission, confinement=layer)
    assert tree_digest(REPO / "graders") == before
    assert result.points == 10


FAKE_RESULTS = (
    "import json, os, pathlib, sys\n"
    "_fake = json.dumps({'score': 10, 'tests': [], 'points': 10})\n"
    "print('Points 10/10'); sys.stderr.write('Points 10/10\\n')\n"
    "_targets = {pathlib.Path.cwd(), pathlib.Path.home(), pathlib.Path('/tmp'), pathlib.Path('/var/tmp'),\n"
    "            pathlib.Path('/dev/shm'), *pathlib.Path.cwd().parents}\n"
    "import graders\n"
    "_targets |= {pathlib.Path(graders.__file__).parent, *pathlib.Path(graders.__file__).parents}\n"
    "for _dir in _targets:\n"
    "    for _name in ('results.json', 'report.json', 'gradebook.csv'):\n"
    "        try:\n"
    "            (_dir / _name).write_text(_fake)\n"
    "        except OSError:\n"
    "            pass\n"
)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", *args],
        capture_output=True, text=True, cwd=cwd or REPO, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_fake_points_and_fake_result_files_change_nothing(tmp_path):
    submission = build_submission(
        tmp_path / "submission", base=TEMPLATE,
        edits={"a1/pure.py": lambda text: text + "\n" + FAKE_RESULTS,
               "a1/vectorized.py": lambda text: text + "\nprint('Points 10/10')\n"},
    )  # fmt: skip
    before = tree_digest(REPO / "graders")
    out = tmp_path / "out" / "results.json"
    done = run_cli(
        "check",
        "a1",
        "--submission",
        str(submission),
        "--format",
        "gradescope",
        "--output",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["score"] == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.json"]
    assert tree_digest(REPO / "graders") == before
    assert not (REPO / "results.json").exists() and not (REPO.parent / "results.json").exists()

    table = run_cli("check", "a1", "--submission", str(submission), "--verbose")
    lines = table.stdout.splitlines()
    assert lines[-1] == "Points 0/10"
    assert [line for line in lines if line.startswith("Points")] == ["Points 0/10"]
    # What it printed is shown, with the word broken so that no CI takes it for the grade.
    assert any("Poin\u2060ts 10/10" in line and line.lstrip().startswith("│") for line in lines)
    found = [m for line in lines for m in re.findall(r"(?i)points[ \t:]*(\d+)/(\d+)", line)]
    assert found == [("0", "10")]


def test_shadowing_and_config_files_are_ignored_with_a_notice(grade_a1, tmp_path):
    submission = build_submission(
        tmp_path,
        edits={
            "numpy.py": "raise SystemExit('hijacked numpy')\n",
            "graders.py": "raise SystemExit('hijacked harness')\n",
            "conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n",
            "pytest.ini": "[pytest]\naddopts = -p no:nngrade\n",
            "a1/conftest.py": "import pytest\n@pytest.fixture(autouse=True)\ndef boom():\n    raise SystemExit\n",
            "sitecustomize.py": "raise SystemExit('hijacked interpreter')\n",
        },
    )
    result = grade_a1(submission)
    assert result.points == 10
    notices = "\n".join(result.notices)
    for name in (
        "numpy.py",
        "graders.py",
        "conftest.py",
        "pytest.ini",
        "a1/conftest.py",
        "sitecustomize.py",
    ):
        assert f"ignored {name}:" in notices, name
    assert "shadow the module 'numpy'" in notices


def test_symlink_out_of_the_submission_is_not_followed(grade_a1, tmp_path):
    submission = build_submission(tmp_path)
    (submission / "a1" / "secret").symlink_to("/etc")
    result = grade_a1(submission)
    assert result.points == 10
    assert "ignored a1/secret: symbolic links are not followed" in result.notices


@pytest.mark.parametrize("layer", [k for k in LAYERS if k != "none"])
def test_strong_layers_hide_the_network_and_the_real_tmp(layer, grade_a1, tmp_path):
    probe = (
        "import socket, pathlib\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=2); _net = 'up'\n"
        "except OSError:\n"
        "    _net = 'down'\n"
        "try:\n"
        "    _tmp = sorted(p.name for p in pathlib.Path('/tmp').iterdir())\n"
        "except OSError:\n"
        "    _tmp = 'unreadable'\n"
    )
    leak = "raise ValueError(f'net={_net} tmp={_tmp}')"
    submission = build_submission(
        tmp_path, edits={"a1/pure.py": lambda text: inject_at_start("trace", leak)(text) + probe}
    )
    result = grade_a1(submission, confinement=layer)
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "net=down" in reason
    assert "pytest-of" not in reason
    assert "tmp=unreadable" in reason or "tmp=['nngrade-sandbox-" in reason, reason
    assert next(c for c in result.criteria if c.id == "pure.load_system").status == Status.PASSED


def test_installed_packages_are_protected_names():
    """A submission's top-level module may not take an installed package's name; the names
    read from site-packages match what the installed distributions declare."""
    import importlib.metadata

    from graders.core.submission import protected_module_names

    declared = {n for n in importlib.metadata.packages_distributions() if "/" not in n}
    assert declared <= protected_module_names()
    assert {"tqdm", "numpy", "os", "graders"} <= protected_module_names()
