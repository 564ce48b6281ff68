"""Runtime import blocker, installed in the worker before any student code is imported.

It sits first on ``sys.meta_path`` so it sees ``import x``, ``__import__``, ``importlib``
and ``exec``'d imports alike. A blocked import raises ``ImportError``, and the attempt is
recorded even when the student catches that error. Attempts are attributed to the student
file and line that asked for the module.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

from graders.sandbox.inside.rules import ImportRule, is_stdlib

_MACHINERY = ("<frozen importlib", "<frozen zipimport")


@dataclass
class Attempt:
    rule: str
    module: str
    file: str
    line: int


class ImportGuard:
    """A meta-path finder that refuses the modules the active rules forbid."""

    def __init__(
        self, rules: list[ImportRule], student_roots: tuple[str, ...], local_modules: frozenset[str]
    ):
        self.rules = rules
        self.student_roots = tuple(root.rstrip("/") + "/" for root in student_roots)
        self.local_modules = local_modules
        self.attempts: list[Attempt] = []
        self._importlib_dir = os.path.dirname(importlib.__file__) + "/"

    def install(self) -> None:
        for name in list(sys.modules):
            if any(rule.violated_by(name, self.local_modules) for rule in self._forbid_lists()):
                del sys.modules[name]
        sys.meta_path.insert(0, self)

    def _forbid_lists(self) -> list[ImportRule]:
        return [rule for rule in self.rules if rule.forbidden]

    def find_spec(self, fullname: str, path=None, target=None):
        broken = [rule for rule in self.rules if rule.violated_by(fullname, self.local_modules)]
        if not broken:
            return None
        importer = self._importer()
        student_frame = importer[:2] if importer and self._is_student(importer[0]) else None
        by_library = importer is not None and not is_stdlib(importer[2].partition(".")[0])
        if student_frame is None and by_library and not any(rule.forbidden for rule in broken):
            # A library's own optional import (not the student's): stdlib-only does not apply.
            # The standard library's import helpers (importlib, pkgutil) are the student's.
            return None
        if student_frame is None:
            student_frame = self._any_student_frame()
            if student_frame is None and not any(rule.forbidden for rule in broken):
                return None
        if student_frame is not None:
            file = self._relative(student_frame[0])
            for rule in broken:
                self.attempts.append(Attempt(rule.name, fullname, file, student_frame[1]))
        raise ImportError(
            f"import of {fullname!r} is blocked by the grader: {broken[0].summary}",
            name=fullname,
        )

    def _is_student(self, filename: str) -> bool:
        return filename.startswith(self.student_roots)

    def _relative(self, filename: str) -> str:
        root = next(r for r in self.student_roots if filename.startswith(r))
        return filename[len(root) :]

    def _importer(self) -> tuple[str, int, str] | None:
        """The first frame outside the import machinery: the code that asked for the module
        (file, line, module name)."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if not (
                name.startswith(_MACHINERY)
                or name.startswith(self._importlib_dir)
                or name == __file__
                or name.startswith("<string>")
            ):
                return name, frame.f_lineno, str(frame.f_globals.get("__name__", ""))
            frame = frame.f_back
        return None

    def _any_student_frame(self) -> tuple[str, int] | None:
        frame = sys._getframe(2)
        while frame is not None:
            if self._is_student(frame.f_code.co_filename):
                return frame.f_code.co_filename, frame.f_lineno
            frame = frame.f_back
        return None

    def drain(self) -> list[dict]:
        """Attempts recorded since the last call, as plain data for the grader."""
        out = [vars(a) for a in self.attempts]
        self.attempts.clear()
        return out
