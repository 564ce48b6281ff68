"""Who made a folder of the grader: its name says (``nngrade-<kind>-o<pid>.<start>.<pidns>-``),
so that a later run can tell a live grader's folder from one a killed grader left (see
:mod:`graders.sandbox.left_behind`)."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

OWNED = re.compile(r"^nngrade-[a-z]+-o(?P<pid>\d{1,10})\.(?P<start>\d{1,20})\.(?P<ns>\d{1,20})-")


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, ``/proc/PID/stat``); None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of stat; fields after ")" start at field 3


@functools.cache
def pid_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


@functools.cache
def _owner(pid: int) -> tuple[int, int, int]:
    return pid, start_time(pid) or 0, pid_namespace()


def this_owner() -> tuple[int, int, int]:
    """This process as the names of its folders give it: (pid, start, pid namespace)."""
    return _owner(os.getpid())


def owner_of(name: str) -> tuple[int, int, int] | None:
    """(pid, start, pid namespace) of the process that made folder ``name``; None for a
    name the grader did not give."""
    match = OWNED.match(name)
    return None if match is None else (int(match["pid"]), int(match["start"]), int(match["ns"]))


def owned_prefix(kind: str) -> str:
    """The name prefix of a folder of ``kind`` made by this process (for ``mkdtemp``)."""
    pid, start, namespace = this_owner()
    return f"nngrade-{kind}-o{pid}.{start}.{namespace}-"


def make_folder(kind: str, parent: Path | None = None) -> Path:
    """A new private folder of ``kind`` owned by this process, in ``parent`` (default: the
    system's temporary folder)."""
    return Path(tempfile.mkdtemp(prefix=owned_prefix(kind), dir=parent))
