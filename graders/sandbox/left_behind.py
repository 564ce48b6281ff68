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
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from graders.sandbox.owners import owner_of, pid_namespace, start_time, this_owner
from graders.sandbox.workspace import base_folder, remove_tree


def _gone(owner: tuple[int, int, int]) -> bool:
    """Whether a folder's owner, in this pid namespace, no longer runs (an owner of
    another namespace, or one this system could not date, is never taken for gone)."""
    pid, start, namespace = owner
    return namespace == pid_namespace() and start != 0 and start_time(pid) != start


def _remove(folders: tuple[Path, ...], which: Callable[[tuple[int, int, int]], bool]) -> list[str]:
    """Remove the grader's folders in ``folders`` (each once) whose owner is ``which`` and
    that this user owns; the names removed."""
    removed: list[str] = []
    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        with contextlib.suppress(OSError):
            for entry in list(os.scandir(folder)):
                owner = owner_of(entry.name)
                with contextlib.suppress(OSError):
                    if owner is None or not which(owner):
                        continue
                    if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                        continue
                    remove_tree(Path(entry.path), 120.0)
                    removed.append(entry.name)
    return removed


def sweep(*folders: Path) -> list[str]:
    """Remove what graders no longer running left in ``folders``; a live owner's stay."""
    return _remove(folders, _gone)


def remove_own(*folders: Path) -> list[str]:
    """Remove the folders this process made and still has: the last word of a run,
    whatever ended it (a stop signal between making a folder and recording it leaves one
    no ``finally`` knows of)."""
    return _remove(folders, lambda owner: owner == this_owner())


@contextlib.contextmanager
def tidy_work_folders(sweep_first: bool = True) -> Iterator[None]:
    """Around a run: first what killed graders left (``sweep_first``), at the end what this
    one made, in the work folder and the temporary folder."""
    folders = (base_folder(), Path(tempfile.gettempdir()))
    if sweep_first:
        sweep(*folders)
    try:
        yield
    finally:
        remove_own(*folders)
