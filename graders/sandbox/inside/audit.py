"""Clear reasons for what the kernel refuses, and a tamper alarm for the grader's probes.

The seccomp filter is what stops new programs; this audit hook only turns a Python-level
attempt (``subprocess``, ``os.system``, ``os.exec*``, ``os.fork``...) into an error that
says why, and records the student's file and line for the report (a library's own attempt,
such as torch running ``ldconfig`` at import, is refused but not recorded). It also guards the
line-count probe: while a probe runs, a student call to ``sys.settrace``/``sys.setprofile``
(or to their C functions through ``ctypes``) is refused and marks the probe disabled.
Audit hooks cannot be removed once added.
"""

from __future__ import annotations

import sys

from graders.sandbox.inside.authorship import STUDENT, Authorship

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
    """State of the hook: who is the student, what it tried, whether a probe runs."""

    def __init__(self, authorship: Authorship):
        self.authorship = authorship
        self.records: list[dict] = []
        self.probe_running = False
        self.probe_disabled: str = ""

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event in PROGRAM_EVENTS:
            author = self.authorship.caller()
            if self.authorship.student_blamed(author):
                where = (author.file, author.line) if author and author.file else None
                self._record("program", event, where)
            # A library's attempt (torch asking ldconfig for a library) is refused all the
            # same, but it is not the student's act: nothing is recorded.
            raise PermissionError(
                f"{event}: starting another program or process is not allowed in the grader's "
                "sandbox"
            )
        if self.probe_running and (
            event in TRACE_EVENTS
            or (event == "ctypes.dlsym" and len(args) > 1 and str(args[1]) in TRACE_SYMBOLS)
        ):
            author = self.authorship.caller()
            if author is None or author.kind != STUDENT:
                return  # the probe itself
            name = event if event in TRACE_EVENTS else f"ctypes {args[1]}"
            self.probe_disabled = f"{name} at {author.file}:{author.line}"
            self._record("probe", name, (author.file, author.line))
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
