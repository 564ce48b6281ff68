"""Folders the grader makes carry their owner in their name, so that the next run can
remove what a killed one left.

A grader stopped by SIGKILL (the out-of-memory killer, ``kill -9``, a container torn
down) runs no clean-up at all: its sandboxes and staged copies stay in the work folder.
Each such folder is named ``nngrade-<kind>-o<pid>.<start>.<pidns>-<random>``: the process
that made it, when that process started (a pid is reused, its start time is not) and its
pid namespace (a pid means nothing in another). :func:`sweep` removes the folders whose
owner, in this pid namespace, is no longer running; it never touches a live owner's.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from graders.sandbox.owners import OWNED, owner_tag, pid_namespace, start_time
from graders.sandbox.workspace import remove_tree


def sweep(folder: Path) -> list[str]:
    """Remove the folders in ``folder`` that a grader no longer running left behind (and
    that this user owns); the names removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = OWNED.match(entry.name)
        if match is None or int(match["ns"]) != pid_namespace() or match["start"] == "0":
            continue  # another pid namespace's, or an owner this system could not date
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            if start_time(int(match["pid"])) == int(match["start"]):
                continue  # its owner still runs
            remove_tree(Path(entry.path), 120.0)
            removed.append(entry.name)
    return removed


def remove_own(*folders: Path) -> list[str]:
    """Remove the folders in ``folders`` that this process made and still has: the last
    word of a run, whatever ended it (a stop signal between making a folder and recording
    it leaves one no ``finally`` knows of)."""
    own = f"-{owner_tag()}-"
    removed: list[str] = []
    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                match = OWNED.match(entry.name)
                if match and entry.name[match.start("pid") - 2 : match.end()] == own:
                    remove_tree(Path(entry.path), 120.0)
                    removed.append(entry.name)
    return removed


def sweep_work_folders(*folders: Path) -> list[str]:
    """:func:`sweep` each of ``folders`` once (the work folder and the temporary folder
    are often the same)."""
    removed: list[str] = []
    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        removed += sweep(folder)
    return removed
