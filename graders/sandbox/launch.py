"""How a worker is launched: the paths it may use, the lock-down it applies to itself, its
scrubbed environment, and the drain of its output. Pure descriptions of one start; the
:class:`graders.sandbox.client.Worker` runs them."""

from __future__ import annotations

import collections
import functools
import os
import threading
from pathlib import Path

from graders.sandbox import allowlist
from graders.sandbox.allowlist import PathRule
from graders.sandbox.confinement import Confinement
from graders.sandbox.limits import Limits, thread_environment, worker_threads
from graders.sandbox.workspace import Workspace, traversable_by_anyone

#: Variables passed through the scrubbed environment (some CPUs need the OpenBLAS ones).
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")


def shared_rules(libraries: tuple[str, ...]) -> tuple[PathRule, ...]:
    """The system, the interpreter and the libraries: the same for every worker."""
    python, _ = allowlist.python_rules()
    library_paths, _ = allowlist.library_rules(libraries)
    return (*allowlist.system_rules(), *python, *library_paths)


def own_rules(workspace: Workspace, scratch: Path) -> tuple[PathRule, ...]:
    """The worker's own: the runtime and inputs it reads, the scratch copy it may write."""
    return (
        PathRule(str(workspace.runtime)),
        PathRule(str(workspace.inputs)),
        PathRule(str(scratch), "rw"),
    )


def sys_path(workspace: Workspace, libraries: tuple[str, ...]) -> list[str]:
    _, stdlib = allowlist.python_rules()
    _, folders = allowlist.library_rules(libraries)
    return [str(workspace.runtime), *stdlib, *folders]


def lockdown(
    confinement: Confinement,
    workspace: Workspace,
    libraries: tuple[str, ...],
    scratch: Path,
    uid: int | None,
    seed: str | None = None,
) -> dict:
    """What the worker applies to itself before any student code runs (none: nothing);
    with ``seed``, it first copies that folder into its (empty, tmpfs) scratch."""
    if confinement.kind == "none":
        return {}
    anchor = uid is not None and confinement.kind == "landlock"
    paths = _shared_lockdown_paths(shared_rules(libraries), anchor)
    return {
        "paths": [*paths, *_lockdown_paths(own_rules(workspace, scratch), anchor)],
        "uid": uid,
        "landlock_abi": confinement.landlock_abi,
        "seccomp_filter": workspace.seccomp_path if confinement.seccomp else None,
        **({"seed": {"from": seed, "to": str(scratch)}} if seed else {}),
    }


def environment(sandbox: str, limits: Limits, scratch: Path, marker: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but a few named variables,
    its threads, and the marker that finds its processes."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": os.path.join(str(scratch), ".tmp"),
        "MPLBACKEND": "Agg",
        **thread_environment(worker_threads(limits)),
        "NNGRADE_SANDBOX": sandbox,
    }
    env.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
    key, _, value = marker.partition("=")
    env[key] = value
    return env


class OutputTail:
    """Drains the worker's stdout/stderr pipe, keeping only the last bytes (never parsed)."""

    def __init__(self, fd: int, keep: int = 16384):
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._keep = keep
        self._thread = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                self._chunks.append(chunk)
                self._size += len(chunk)
                while self._size > self._keep and len(self._chunks) > 1:
                    self._size -= len(self._chunks.popleft())

    def join(self, timeout: float) -> None:
        """Wait for the pipe to drain (it closes once the whole process tree is gone)."""
        self._thread.join(timeout)

    def text(self) -> str:
        return b"".join(self._chunks)[-self._keep :].decode("utf-8", "replace")


def _lockdown_paths(rules: tuple[PathRule, ...], anchor: bool) -> tuple[dict, ...]:
    """The allowlist as the worker's lock-down applies it: a folder with hidden children
    becomes "list" plus one rule per other child; with ``anchor``, paths a uid that owns
    nothing cannot walk to are opened before the uid drop."""
    paths = []
    for rule in rules:
        entry = {"path": rule.path, "access": rule.access}
        if anchor and not traversable_by_anyone(Path(rule.path)):
            entry["anchor"] = True
        if rule.hide:
            paths.append({**entry, "access": "list"})
            for child in sorted(_children(rule.path)):
                if child not in rule.hide:
                    paths.append({**entry, "path": os.path.join(rule.path, child),
                                  "access": rule.access})  # fmt: skip
        else:
            paths.append(entry)
    return tuple(paths)


#: Every worker of a sandbox (and every restart) has the same system, Python and library
#: rules: expand them once (the standard library alone is some 200 paths to check).
_shared_lockdown_paths = functools.lru_cache(maxsize=32)(_lockdown_paths)


def _children(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
