"""Where warm graders listen: one private folder per user.

The folder is the user's own (mode 0700, owned by them, no link): nobody else can reach a
warm grader's socket, nor put a socket of their own where a check would look. Each
grader's socket and lock are named by its key (:mod:`graders.warm.key`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _private(folder: Path) -> bool:
    try:
        status = os.lstat(folder)
    except OSError:
        return False
    return (
        stat.S_ISDIR(status.st_mode)
        and status.st_uid == os.getuid()
        and status.st_mode & 0o077 == 0
    )


def folder() -> Path | None:
    """The user's folder of warm graders, made if missing; None where it cannot be made
    private (then every check runs cold)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime and _private(Path(runtime)) else None
    if base is None:
        base = Path(os.environ.get("TMPDIR") or "/tmp")
    place = base / f"nngrade-warm-{os.getuid()}"
    try:
        place.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    return place if _private(place) else None


def socket_path(place: Path, key: str) -> Path:
    return place / f"{key}.sock"


def lock_path(place: Path, key: str) -> Path:
    return place / f"{key}.lock"
