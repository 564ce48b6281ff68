"""Run as root (a container's or a full one): a child of another uid that has ended but
is not yet reaped (a zombie, as a worker is for a moment while it is stopped) is read
through :func:`graders.sandbox.proc_access.read`. Prints how that read ended."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from graders.sandbox import proc_access

NOBODY = 65534

child = os.fork()
if child == 0:
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    os._exit(0)
deadline = time.monotonic() + 10
while "State:\tZ" not in Path(f"/proc/{child}/status").read_text():
    assert time.monotonic() < deadline, "the child did not end"
    time.sleep(0.01)
try:
    proc_access.read(child, "its open files", lambda: os.listdir(f"/proc/{child}/fd"))
    outcome = "read"
except proc_access.ProcessGone:
    outcome = "gone"
except proc_access.ProcUnreadable as error:
    outcome = f"unreadable: {error.detail}"
os.waitpid(child, 0)
print(json.dumps({"outcome": outcome}))
