"""What a worker's scratch folder holds on disk, counted the way the disk counts it.

The walk opens each folder relative to its parent's descriptor (``openat``), so no path is
ever longer than one name: a tree nested past ``PATH_MAX`` is counted like any other, where
a walk by path would fail to open it and count nothing below. Folders count their own
blocks: a folder emptied of many entries keeps its size. One descriptor is open at a time;
climbing back up is ``..``, checked against the folder it must lead to, so a folder the
worker moves away mid-walk makes the walk start again rather than count another tree.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Walks started again when the worker moved a folder mid-walk; after them, the largest
#: count found stands (a worker cannot hide what it holds by moving folders: each walk
#: counts what it reached).
RESTARTS = 3


class _Moved(Exception):
    """A folder was moved while the walk was below it."""


def usage(root: Path, max_entries: int) -> tuple[int, int]:
    """Allocated bytes (files and folders) and entries under ``root``; counting stops once
    past ``max_entries``."""
    best = (0, 0)
    for _ in range(RESTARTS):
        try:
            return _walk(root, max_entries)
        except _Moved as moved:
            best = max(best, moved.args[0])
    return best


def _walk(root: Path, max_entries: int) -> tuple[int, int]:
    try:
        fd = os.open(root, _FOLDER)
    except OSError:
        return 0, 0
    total, entries = 0, 0
    try:
        info = os.fstat(fd)
        size, count, folders = _list(fd)
        total, entries = size + info.st_blocks * 512, count
        # Each level: the folder's identity and the sub-folders still to visit in it.
        levels = [((info.st_dev, info.st_ino), iter(folders))]
        while levels and entries <= max_entries:
            name = next(levels[-1][1], None)
            if name is None:
                levels.pop()
                if levels:
                    fd = _climb(fd, levels[-1][0], (total, entries))
                continue
            try:
                child = os.open(name, _FOLDER, dir_fd=fd)
            except OSError:
                continue  # gone, or no longer a folder
            os.close(fd)
            fd = child
            info = os.fstat(fd)
            size, count, folders = _list(fd)
            total += size + info.st_blocks * 512
            entries += count
            levels.append(((info.st_dev, info.st_ino), iter(folders)))
        return total, entries
    finally:
        os.close(fd)


def _climb(fd: int, expected: tuple[int, int], counted: tuple[int, int]) -> int:
    """The parent of ``fd``, which must be the folder ``expected``; ``fd`` is closed only
    when the climb succeeds (the caller closes the one it holds)."""
    try:
        parent = os.open("..", _FOLDER, dir_fd=fd)
    except OSError:
        raise _Moved(counted) from None
    info = os.fstat(parent)
    if (info.st_dev, info.st_ino) != expected:
        os.close(parent)
        raise _Moved(counted)
    os.close(fd)
    return parent


def _list(fd: int) -> tuple[int, int, list[str]]:
    """Bytes of the files in the folder ``fd``, its entries, and its sub-folders' names."""
    size = count = 0
    folders: list[str] = []
    try:
        found = os.scandir(fd)
    except OSError:
        return 0, 0, []  # unreadable to the grader (only when it runs as the worker's uid)
    with found:
        for entry in found:
            count += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                folders.append(entry.name)
            else:
                size += info.st_blocks * 512
    return size, count, folders
