"""Runtime import blocker, installed in the worker before any student code is imported.

It sits first on ``sys.meta_path`` so it sees ``import x``, ``__import__``, ``importlib``
and ``exec``'d imports alike. A blocked import raises ``ImportError``, and the attempt is
recorded even when the student catches that error. Attempts are attributed to the student
file and line that asked for the module; a library's own optional import is refused
without blaming the student.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from graders.sandbox.inside.authorship import LIBRARY, Authorship
from graders.sandbox.inside.rules import ImportRule


@dataclass
class Attempt:
    rule: str
    module: str
    file: str
    line: int


class ImportGuard:
    """A meta-path finder that refuses the modules the active rules forbid."""

    def __init__(
        self, rules: list[ImportRule], authorship: Authorship, local_modules: frozenset[str]
    ):
        self.rules = rules
        self.authorship = authorship
        self.local_modules = local_modules
        self.attempts: list[Attempt] = []

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
        # The first student or library frame outward from the import: the import
        # machinery, importlib/pkgutil and exec'd strings are only the means.
        author = self.authorship.caller()
        if author is not None and author.kind == LIBRARY:
            if not any(rule.forbidden for rule in broken):
                return None  # a library's own import: "standard library only" is the student's
            # A library's optional import of a forbidden module: refused, not the student's.
        elif author is not None:
            for rule in broken:
                self.attempts.append(Attempt(rule.name, fullname, author.file, author.line))
        elif not any(rule.forbidden for rule in broken):
            return None  # the worker's own imports
        raise ImportError(
            f"import of {fullname!r} is blocked by the grader: {broken[0].summary}",
            name=fullname,
        )

    def drain(self) -> list[dict]:
        """Attempts recorded since the last call, as plain data for the grader."""
        out = [vars(a) for a in self.attempts]
        self.attempts.clear()
        return out
