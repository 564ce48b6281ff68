"""What a warm grader must share with the check it serves, as one digest.

A warm grader (:mod:`graders.warm.server`) imported nngrade, pytest and numpy once; every
check it serves runs in a fork of it. That check must grade exactly as a cold ``nngrade
check`` started from the same shell would, so everything a cold start would read before
grading is in the key, and a check only ever reaches a grader of its own key:

* the interpreter, its version, flags, ``-X`` and ``-W`` options (``-O`` drops the
  graders' asserts), ``sys.path``;
* the environment, but for what a shell changes from prompt to prompt (the working folder,
  which travels with each request);
* every file of the nngrade package (path, size, modification time): an upgrade or an edit
  of a grader module is a new key, never a stale import;
* each ``sys.path`` folder's modification time (a ``pip install`` into site-packages adds
  and removes entries there, which changes it), so a new numpy is never graded by an old one;
* the user and groups, resource limits, CPU affinity and umask-free process state a fork
  inherits from the grader and not from the shell.

Only the standard library is imported here: the key is computed before every warm check.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
from pathlib import Path

#: What a shell changes between prompts without changing what a check grades.
VOLATILE_ENVIRONMENT = frozenset({"PWD", "OLDPWD", "_", "SHLVL", "LINES", "COLUMNS"})

#: The package's own folder (``graders``), found from this file: no import of graders'
#: heavier modules, and an installed wheel and a checkout both work.
PACKAGE = Path(__file__).resolve().parents[1]


def _package_files() -> list[tuple[str, int, int]]:
    found = []
    for folder, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            try:
                status = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            relative = os.path.relpath(os.path.join(folder, name), PACKAGE)
            found.append((relative, status.st_size, status.st_mtime_ns))
    return found


def _folder_times() -> list[tuple[str, int]]:
    times = []
    for entry in sys.path:
        try:
            times.append((entry, os.stat(entry).st_mtime_ns if entry else 0))
        except OSError:
            times.append((entry, -1))
    return times


def _limits() -> dict[str, tuple[int, int]]:
    return {
        name: resource.getrlimit(getattr(resource, name))
        for name in sorted(dir(resource))
        if name.startswith("RLIMIT_")
    }


def state() -> dict:
    """Everything the key is made of (tests compare it field by field)."""
    environment = {k: v for k, v in os.environ.items() if k not in VOLATILE_ENVIRONMENT}
    return {
        "executable": sys.executable,
        "version": sys.version,
        "flags": list(sys.flags),
        "options": sorted(map(str, sys._xoptions.items())),
        "warnings": list(sys.warnoptions),
        "path": _folder_times(),
        "environment": sorted(environment.items()),
        "package": str(PACKAGE),
        "files": _package_files(),
        "ids": [os.getuid(), os.getgid(), sorted(os.getgroups())],
        "limits": _limits(),
        "cores": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [],
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
    }


def server_key() -> str:
    """The digest of :func:`state`: the name of the warm grader that may serve this check."""
    text = json.dumps(state(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
