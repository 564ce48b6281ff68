"""Clear reasons for what the kernel refuses, and a tamper alarm for the grader's probes.

The seccomp filter is what stops new programs; this audit hook only turns a Python-level
attempt (``subprocess``, ``os.system``, ``os.exec*``, ``os.fork``...) into an error that
says why, and records the student's file and line for the report. It also guards the
line-count probe: while a probe runs, a student call to ``sys.settrace``/``sys.setprofile``
(or to their C functions through ``ctypes``) is refused and marks the probe disabled.
Audit hooks cannot be removed once added.
"""

from __future__ import annotations

import sys

PROGRAM_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
     "os.forkpty", "pty.spawn", "os.startfile"}
)  # fmt: skip
TRACE_EVENTS = frozenset({"sys.settrace", "sys.setprofile"})
TRACE_SYMBOLS = frozenset(
    {"PyEval_SetTrace", "PyEval_SetProfile", "PyEval_SetTraceAllThreads",
     "PyEval_SetProfileAllThreads", "_PyEval_SetTrace", "_PyEval_SetProfile"}
)  # fmt: skip


class Audit:
    """State of the hook: where student code lives, what it tried, whether a probe runs."""

    def __init__(self, student_roots: tuple[str, ...]):
        self.student_roots = tuple(root.rstrip("/") + "/" for root in student_roots)
        self.records: list[dict] = []
        self.probe_running = False
        self.probe_disabled: str = ""

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _student_frame(self) -> tuple[str, int] | None:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_code.co_filename
            for root in self.student_roots:
                if name.startswith(root):
                    return name[len(root) :], frame.f_lineno
            frame = frame.f_back
        return None

    def _hook(self, event: str, args: tuple) -> None:
        if event in PROGRAM_EVENTS:
            where = self._student_frame()
            self._record("program", event, where)
            raise PermissionError(
                f"{event}: starting another program or process is not allowed in the grader's "
                "sandbox"
            )
        if self.probe_running and (
            event in TRACE_EVENTS
            or (event == "ctypes.dlsym" and len(args) > 1 and str(args[1]) in TRACE_SYMBOLS)
        ):
            where = self._student_frame()
            if where is None:
                return  # the probe itself
            name = event if event in TRACE_EVENTS else f"ctypes {args[1]}"
            self.probe_disabled = f"{name} at {where[0]}:{where[1]}"
            self._record("probe", name, where)
            raise RuntimeError(f"{name} is reserved for the grader while it measures your code")

    def _record(self, kind: str, what: str, where: tuple[str, int] | None) -> None:
        if len(self.records) < 100:
            file, line = where or ("", 0)
            self.records.append({"kind": kind, "what": what, "file": file, "line": line})

    def drain(self) -> list[dict]:
        out = list(self.records)
        self.records.clear()
        return out


#: The worker's audit state, set up by the worker's main before student code runs.
CURRENT: Audit | None = None
