"""Shared test helpers: where things are, and how to build seeded-bug and hostile
submissions from the reference. Fixtures live in conftest.py; tests import this module."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from graders.a1 import ASSIGNMENT as A1
from graders.core.results import AssignmentResult

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference"
TEMPLATE = REPO / "student_template"
SHARED_DATA = REPO.parent / "shared" / "data"

#: Assignment 1 with short call timeouts, so hostile submissions are cheap to grade.
FAST_A1 = dataclasses.replace(
    A1,
    limits=dataclasses.replace(A1.limits, call_timeout_s=3.0, cpu_seconds=60),
    submission_timeout_s=180,
)


def build_submission(
    target: Path,
    base: Path = REFERENCE,
    assignment: str = "a1",
    edits: dict[str, Callable[[str], str] | str] | None = None,
) -> Path:
    """Copy ``base/assignment`` into ``target`` and apply ``edits`` (path -> new text or function)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(base / assignment, target / assignment, dirs_exist_ok=True)
    for relative, change in (edits or {}).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(change):
            path.write_text(change(path.read_text()))
        else:
            path.write_text(change)
    return target


def replace_once(old: str, new: str) -> Callable[[str], str]:
    """An edit that replaces ``old`` exactly once, failing loudly if the reference changed."""

    def edit(text: str) -> str:
        assert text.count(old) == 1, f"seeded bug anchor not found exactly once: {old!r}"
        return text.replace(old, new)

    return edit


#: a3's reference trained on the template's 784-100-10 network instead of its 784-256-10:
#: 97.7-98.1% (full credit is 95%) in half the training time. For tests that judge an edit
#: or the lab's totals, not a3's width; the reference as it is keeps its own tests at 98%.
A3_SMALLER_NETWORK = replace_once("HIDDEN_SIZES = (256,)", "HIDDEN_SIZES = (100,)")


def inject_at_start(function: str, code: str) -> Callable[[str], str]:
    """An edit that runs ``code`` (one line) first thing inside ``def function(``."""

    def edit(text: str) -> str:
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if line.startswith(f"def {function}("):
                end = index
                while not lines[end].rstrip().endswith(":"):
                    end += 1
                body = end + 1
                first = lines[body].strip()
                if first.startswith('"""'):  # skip the docstring: inject before the real body
                    if not (first.count('"""') == 2 or (len(first) > 3 and first.endswith('"""'))):
                        body += 1
                        while '"""' not in lines[body]:
                            body += 1
                    body += 1
                lines.insert(body, f"    {code}")
                return "\n".join(lines) + "\n"
        raise AssertionError(f"function {function} not found")

    return edit


def points_by_criterion(result: AssignmentResult) -> dict[str, float]:
    return {c.id: c.points for c in result.criteria}


def tree_digest(root: Path) -> str:
    """A hash of every file under ``root`` (to prove nothing was changed)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


# The keys Gradescope documents for an autograder's results.json (nothing else is emitted).
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "max_score", "name"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {
                        "enum": ["hidden", "after_due_date", "after_published", "visible"]
                    },
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {"type": "array"},
    },
}


def run_in_terminal(
    args: list[str],
    env: dict | None = None,
    size: tuple[int, int] = (120, 30),
    timeout: float = 300,
    without: Iterable[str] = (),
) -> tuple[int, str]:
    """Run ``args`` with stdin, stdout and stderr on one pseudo-terminal of ``size``
    (columns, lines), as a person at a terminal does: its exit status and all it showed.
    ``env`` is added to this process's environment, and the names in ``without`` are left
    out of it (for example CI's markers, which this process may have)."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios
    import time

    left_out = set(without)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    process = subprocess.Popen(
        args, stdin=terminal, stdout=terminal, stderr=terminal, cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if k not in left_out},
            "TERM": "xterm",
            **(env or {}),
        },
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: every process that held it has ended
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
    return process.wait(), shown.decode("utf-8", "replace")


@contextlib.contextmanager
def busy_cores(count: int = 2) -> Iterator[None]:
    """``count`` processes that keep cores busy (``while True: pass``) for the duration."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def live_processes() -> dict[int, str]:
    """Command line of every live (not zombie) process on this machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                found[int(entry.name)] = cmdline
    return found
