"""What the grader reads of a worker from outside, printed as JSON (run it as a container's
root: ``tests/container.py``).

A child applies the worker's own lock-down (the uid drop, and what follows it), then holds
a deleted file open and maps another deleted file whose descriptor it closed, both in its
scratch folder, and maps numpy's compiled code; the grader side reads it with
:mod:`graders.sandbox.processes`.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile

from graders.sandbox import allowlist, proc_access, processes, workspace
from graders.sandbox.inside import lockdown

MIB = 2**20


def _child(scratch: str, uid: int, ready: int, done: int) -> None:
    import numpy  # noqa: F401 - its compiled code is what the grader should see mapped

    lockdown.apply({"uid": uid})

    held = os.open(os.path.join(scratch, "held"), os.O_RDWR | os.O_CREAT, 0o600)
    os.posix_fallocate(held, 0, 8 * MIB)
    os.unlink(os.path.join(scratch, "held"))
    mapped = os.open(os.path.join(scratch, "mapped"), os.O_RDWR | os.O_CREAT, 0o600)
    os.posix_fallocate(mapped, 0, 4 * MIB)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    if libc.mmap(None, 4096, 1, 1, mapped, 0) in (None, ctypes.c_void_p(-1).value):
        os._exit(3)
    os.close(mapped)
    os.unlink(os.path.join(scratch, "mapped"))
    os.write(ready, b"x")
    os.read(done, 1)
    os._exit(0)


def main() -> None:
    scratch = tempfile.mkdtemp(prefix="nngrade-proc-probe-")
    uid = workspace.allocate_uid()
    os.chown(scratch, uid, uid)
    ready_read, ready_write = os.pipe()
    done_read, done_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_read)
        os.close(done_write)
        try:
            _child(scratch, uid, ready_write, done_read)
        except BaseException as error:  # noqa: BLE001 - said on stderr, then exit
            print(f"probe child: {error!r}", file=sys.stderr)
        finally:
            os._exit(2)
    os.close(ready_write)
    os.close(done_read)
    if os.read(ready_read, 1) != b"x":
        os.waitpid(pid, 0)
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit("the probe's child failed before it was ready")
    found: dict[str, object] = {"cap_eff": _cap_eff()}
    try:
        held = processes.deleted_files_bytes({pid}, scratch, size_if_unreadable=64 * MIB)
        found["held_bytes"] = held.bytes
        found["bounded"] = list(held.bounded)
        found["libraries"] = sorted(processes.mapped_libraries(pid))
        found["running"] = processes.running({pid}, os.path.realpath(sys.executable))
        found["interpreter"] = allowlist.interpreter()
        view = processes.kernel_view(pid)
        found["view"] = {key: list(v) if isinstance(v, tuple) else v for key, v in view.items()}
        found["uid"] = uid
    except proc_access.ProcUnreadable as error:
        found["unreadable"] = str(error)
    finally:
        os.write(done_write, b"x")
        os.waitpid(pid, 0)
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(found))


def _cap_eff() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("CapEff:"))
    return int(line.split()[1], 16)


if __name__ == "__main__":
    main()
