"""Run a command as the root of a default Docker container (Gradescope grades in one).

Such a root has Docker's default capability set (no ``CAP_SYS_PTRACE``, no
``CAP_SYS_ADMIN``: ``CapEff`` ``00000000a80425fb``) and a seccomp profile that refuses new
namespaces. ``container_root(argv)`` is ``argv`` under both: the namespace refusals of
``without_namespaces.py``, then ``setpriv`` dropping every other capability from the
bounding set (root's permitted and effective sets follow it at exec).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "without_namespaces.py"

#: Docker's default capabilities (moby's ``oci/caps/defaults.go``).
DOCKER_CAPABILITIES = (
    "chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap",
)  # fmt: skip
#: ``CapEff`` of a process with exactly those.
DOCKER_CAP_EFF = 0x00000000A80425FB


def available() -> str | None:
    """Why a container's root cannot be emulated here (a reason to skip), or None."""
    if os.geteuid() != 0:
        return "needs root, to drop to a container root's capabilities"
    if shutil.which("setpriv") is None:
        return "needs setpriv (util-linux)"
    return None


def container_root(argv: list[str]) -> list[str]:
    """``argv`` run as a default container's root."""
    bounding = "-all," + ",".join(f"+{name}" for name in DOCKER_CAPABILITIES)
    setpriv = [
        shutil.which("setpriv") or "setpriv",
        "--inh-caps=-all",
        f"--bounding-set={bounding}",
    ]
    return [sys.executable, str(LAUNCHER), *setpriv, "--", *argv]
