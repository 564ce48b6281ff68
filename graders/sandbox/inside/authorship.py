"""Who did it: the student's code, or a library it uses.

torch asks ``ctypes.util.find_library`` for a library at import, which starts ``ldconfig``;
numpy and gymnasium try optional imports. The sandbox refuses those acts all the same, but
a report may name the student only when a student frame made the call. Walking outward
from the act, the standard library, the worker's own runtime and code without a file
(``exec``'d strings, frozen modules) are only the means; the first frame in a student file
or in an allowed library's folder is the author.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import FrameType

STUDENT = "student"
LIBRARY = "library"


@dataclass(frozen=True)
class Author:
    kind: str  # STUDENT or LIBRARY
    #: For a student: the file relative to the student's folder, and the line.
    file: str = ""
    line: int = 0
    #: For a library: its top-level package.
    library: str = ""


class Authorship:
    """Classifies frames by the folders they come from (as the worker sees them)."""

    def __init__(self, student_roots: tuple[str, ...], library_folders: tuple[str, ...]):
        self.student_roots = tuple(dict.fromkeys(r.rstrip("/") + "/" for r in student_roots))
        self.library_folders = tuple(
            dict.fromkeys(f.rstrip("/") + "/" for f in library_folders if f)
        )

    def of_frame(self, frame: FrameType | None) -> Author | None:
        """The author of an act whose innermost frame is ``frame``; None when no student or
        library frame is on the stack (the worker's own code)."""
        while frame is not None:
            author = self.of_file(frame.f_code.co_filename, frame.f_lineno)
            if author is not None:
                return author
            frame = frame.f_back
        return None

    def of_file(self, filename: str, line: int) -> Author | None:
        for root in self.student_roots:
            if filename.startswith(root):
                return Author(STUDENT, filename[len(root) :], line)
        for folder in self.library_folders:
            if filename.startswith(folder):
                top = filename[len(folder) :].partition("/")[0]
                return Author(LIBRARY, library=top.removesuffix(".py"))
        return None

    def caller(self, depth: int = 1) -> Author | None:
        """The author of the code that called the function ``depth`` frames up."""
        return self.of_frame(sys._getframe(depth + 1))

    def student_blamed(self, author: Author | None) -> bool:
        """Whether an act is the student's: a student frame made it, or no library did
        (nothing but the worker itself and the standard library on the stack)."""
        return author is None or author.kind == STUDENT
