"""Run a command where no namespace can be made, as in Docker and on Gradescope.

Docker's default seccomp profile (and Ubuntu 24.04's AppArmor rule for unprivileged
users) refuses ``unshare``, ``setns`` and ``clone`` with namespace flags, so bubblewrap
cannot build its sandbox there even as root. This loads the same refusals, then runs
``argv[1:]``: ``python tests/without_namespaces.py nngrade check ...``.
"""

from __future__ import annotations

import errno
import os
import sys

import pyseccomp as seccomp

CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)


def refuse_namespaces() -> None:
    deny = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    flt.add_rule(deny, "unshare")
    flt.add_rule(deny, "setns")
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone
    for flag in CLONE_NAMESPACE_FLAGS:
        flt.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    flt.load()


if __name__ == "__main__":
    refuse_namespaces()
    os.execvp(sys.argv[1], sys.argv[1:])
