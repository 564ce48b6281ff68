"""Detect and apply the confinement layers around a worker process.

Layers that are always present (scratch copy, scrubbed environment, closed stdin, own
session, rlimits, timeouts, tree kill) are applied by the worker launcher. On top of those
this module picks the strongest wrapper available: bubblewrap, else ``unshare`` with a user,
network and PID namespace, else none. Every report names the layers that were active.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

NOBODY_UID = 65534
_HARNESS_ROOT = Path(__file__).resolve().parents[2]

BASE_LAYERS = (
    "scratch-copy",
    "scrubbed-env",
    "stdin-closed",
    "own-session",
    "rlimits",
    "timeouts",
    "tree-kill",
)

#: Layer names a course can require with ``--require``.
KNOWN_LAYERS = BASE_LAYERS + (
    "bubblewrap",
    "unshare",
    "unprivileged",
    "read-only-system",
    "no-network",
    "private-tmp",
    "pid-namespace",
    "die-with-parent",
    "hidden-paths",
)

KINDS = ("bubblewrap", "unshare", "none")


class ConfinementUnavailable(Exception):
    """A requested wrapper or a required layer is not available on this machine."""


@dataclass(frozen=True)
class Confinement:
    """How workers are wrapped, and which layers that gives."""

    kind: str
    layers: tuple[str, ...] = field(default=BASE_LAYERS)
    drop_to_nobody: bool = False

    def describe(self) -> str:
        extra = [layer for layer in self.layers if layer not in BASE_LAYERS]
        return f"{self.kind}: " + ", ".join(extra or ["base layers only"])

    def command(self, argv: list[str], scratch: Path, hidden: tuple[Path, ...] = ()) -> list[str]:
        """Wrap ``argv`` so that it runs inside this confinement."""
        if self.kind == "bubblewrap":
            return _bubblewrap_prefix(scratch, hidden) + ["--"] + argv
        if self.kind == "unshare":
            return _unshare_prefix() + argv
        return argv


def _bubblewrap_prefix(scratch: Path, hidden: tuple[Path, ...]) -> list[str]:
    prefix = [
        "bwrap",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--tmpfs", "/var/tmp",
        "--tmpfs", "/dev/shm",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--uid", str(NOBODY_UID),
        "--gid", str(NOBODY_UID),
    ]  # fmt: skip
    for device in sorted(Path("/dev").glob("nvidia*")):  # CUDA stays usable when present
        prefix += ["--dev-bind", str(device), str(device)]
    for path in _paths_under_private_dirs():
        prefix += ["--ro-bind", path, path]
    for path in hidden:
        if path.is_dir():
            prefix += ["--tmpfs", str(path)]
        elif path.exists():
            prefix += ["--ro-bind", "/dev/null", str(path)]
    prefix += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch)]
    return prefix


_PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def _paths_under_private_dirs() -> list[str]:
    """Interpreter, environment and harness paths that the private /tmp would hide.

    A virtual environment or a checkout may live under /tmp; those are bound back read-only.
    """
    candidates = {
        sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.realpath(sys.executable),
        str(_HARNESS_ROOT), *sys.path,
    }  # fmt: skip
    needed = set()
    for path in candidates:
        real = os.path.realpath(path) if path else ""
        for candidate in {path, real}:
            if (
                candidate
                and os.path.exists(candidate)
                and any(candidate == d or candidate.startswith(d + "/") for d in _PRIVATE_DIRS)
            ):
                needed.add(candidate)
    # Binding a folder covers its subfolders: keep only the outermost ones.
    return sorted(p for p in needed if not any(p.startswith(q + "/") for q in needed if q != p))


def _unshare_prefix() -> list[str]:
    return [
        "unshare", "--user", "--map-root-user", "--net", "--pid", "--fork",
        "--kill-child", "--mount", "--mount-proc",
    ]  # fmt: skip


def _works(argv: list[str], as_nobody: bool) -> bool:
    """Whether the worker's interpreter can import the harness and numpy under ``argv``."""
    if argv and shutil.which(argv[0]) is None:
        return False
    kwargs: dict = {}
    if as_nobody:
        kwargs.update(user=NOBODY_UID, group=NOBODY_UID, extra_groups=[])
    try:
        done = subprocess.run(
            argv + [sys.executable, "-I", "-c", _IMPORT_CHECK, str(_HARNESS_ROOT)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            cwd="/",
            **kwargs,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


_IMPORT_CHECK = "import sys; sys.path.insert(0, sys.argv[1]); import graders.sandbox.worker, numpy"


@functools.cache
def nobody_can_run_worker(kind: str) -> bool:
    """As root, whether uid 65534 can start the interpreter (it may live under /root)."""
    if os.geteuid() != 0:
        return False
    prefix = _unshare_prefix() if kind == "unshare" else []
    return _works(prefix, as_nobody=True)


@functools.cache
def available(kind: str) -> bool:
    """Whether wrapper ``kind`` actually starts a process on this machine (probed once)."""
    if kind == "none":
        return _works([], as_nobody=False)
    if not sys.platform.startswith("linux"):
        return False
    if kind == "bubblewrap":
        probe = Path("/tmp")
        return _works(_bubblewrap_prefix(probe, ()) + ["--"], as_nobody=False)
    if kind == "unshare":
        return _works(_unshare_prefix(), as_nobody=False)
    raise ValueError(f"unknown confinement kind {kind!r}")


def build(kind: str) -> Confinement:
    """The confinement of ``kind`` with the layers it provides on this machine."""
    layers = list(BASE_LAYERS)
    if not sys.platform.startswith("linux"):
        layers.remove("tree-kill")  # best effort only: no /proc to find escaped processes
    if kind == "bubblewrap":
        layers += [
            "bubblewrap", "unprivileged", "read-only-system", "no-network", "private-tmp",
            "pid-namespace", "die-with-parent", "hidden-paths",
        ]  # fmt: skip
        return Confinement(kind=kind, layers=tuple(layers))
    if kind == "unshare":
        layers += ["unshare", "no-network", "pid-namespace", "die-with-parent"]
    drop = nobody_can_run_worker(kind)
    if drop:
        layers.append("unprivileged")
    return Confinement(kind=kind, layers=tuple(layers), drop_to_nobody=drop)


def select(preferred: str = "auto", required: tuple[str, ...] = ()) -> Confinement:
    """Pick the strongest available confinement (or ``preferred``) and check ``required``."""
    unknown = [layer for layer in required if layer not in KNOWN_LAYERS]
    if unknown:
        raise ConfinementUnavailable(
            f"unknown confinement layer(s) {', '.join(unknown)}; known layers: "
            + ", ".join(KNOWN_LAYERS)
        )
    if preferred == "auto":
        kind = next(k for k in KINDS if available(k))
    elif preferred in KINDS:
        if not available(preferred):
            raise ConfinementUnavailable(
                f"confinement {preferred!r} is not available on this machine"
                + (" (install the 'bubblewrap' package)" if preferred == "bubblewrap" else "")
            )
        kind = preferred
    else:
        raise ConfinementUnavailable(f"unknown confinement {preferred!r}; choose from {KINDS}")
    confinement = build(kind)
    missing = [layer for layer in required if layer not in confinement.layers]
    if missing:
        raise ConfinementUnavailable(
            f"refusing to grade: required confinement layer(s) {', '.join(missing)} not "
            f"available (active: {confinement.describe()}). Install bubblewrap "
            "(Debian/Ubuntu: apt-get install bubblewrap) or enable unprivileged user namespaces."
        )
    return confinement
