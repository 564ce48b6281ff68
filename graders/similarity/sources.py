"""What is compared: each student's code for one assignment, found as the grader finds it.

The class folder is read by the batch intake (a folder or a zip per student; zips are
checked and unpacked the same way), and the code is what the grader stages from the
assignment's folder: its ``.py`` files and notebooks, without caches, virtual
environments, links or test-runner configuration. A notebook counts as the module the
grader builds from its cells followed by its left-out cells (training runs, experiments:
where copied code often lives), each line mapped back to its cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from graders.batch import intake
from graders.core import notebooks
from graders.core.assignment import AssignmentSpec
from graders.core.submission import CONFIG_FILES, MAX_FOLDER_DEPTH, SKIPPED_DIRECTORIES
from graders.course_files import COURSE

#: A larger .py file is not a student's code (generated data, a pasted data set).
MAX_FILE_BYTES = 2**20
#: Files read per submission; a folder with more holds something other than lab work.
MAX_FILES = 200
#: The code students were given: the templates that come with nngrade (package data).
DEFAULT_TEMPLATE = COURSE / "student_template"


@dataclass
class SourceFile:
    """One file as compared, with where each of its lines is in what the student handed in."""

    label: str  # the file in the submission: "a3/mlp.py", "a3/mlp.ipynb"
    text: str  # the code read; for a notebook its module, then its left-out cells
    #: For a notebook, the cell and line of each line of ``text`` (None: made up by nngrade).
    places: list[notebooks.Place | None] | None = None

    def gutter(self, line: int) -> str:
        """Line ``line`` of ``text`` in a line-number column: "12", or "4:7" (cell 4, line 7)."""
        if self.places is None:
            return str(line)
        place = self.places[line - 1] if 0 < line <= len(self.places) else None
        return f"{place.cell}:{place.line}" if place else ""

    def span(self, first: int, last: int) -> str:
        """Lines ``first``..``last`` of ``text`` as the student sees them: "lines 12-30",
        "cell 4, lines 1-9", "cell 4, line 1 to cell 6, line 3"."""
        if self.places is None:
            return f"line {first}" if first == last else f"lines {first}-{last}"
        inside = [p for p in self.places[max(first, 1) - 1 : last] if p is not None]
        if not inside:
            return "lines added by nngrade"
        start, end = inside[0], inside[-1]
        if start.cell != end.cell:
            return f"cell {start.cell}, line {start.line} to cell {end.cell}, line {end.line}"
        lines = f"line {start.line}" if start.line == end.line else f"lines {start.line}-{end.line}"
        return f"cell {start.cell}, {lines}"


@dataclass
class StudentCode:
    student: str
    files: list[SourceFile]
    #: What was left out or could not be read, for the report.
    notices: list[str] = field(default_factory=list)


def assignment_files(root: Path, spec: AssignmentSpec) -> tuple[list[SourceFile], list[str]]:
    """The code in ``root/<assignment folder>/`` and notices of what was skipped."""
    folder = root / spec.folder
    files: list[SourceFile] = []
    notices: list[str] = []
    if not folder.is_dir() or folder.is_symlink():
        return files, notices
    for path in _code_paths(folder, root, notices):
        relative = path.relative_to(root).as_posix()
        if len(files) == MAX_FILES:
            notices.append(f"only the first {MAX_FILES} files were compared")
            break
        if path.suffix == notebooks.SUFFIX:
            module = notebooks.convert(path, relative)
            if module.error:
                notices.append(f"{relative} cannot be read as a notebook: {module.error}")
                continue
            files.append(SourceFile(relative, module.scan_text, list(module.places)))
        elif path.stat().st_size > MAX_FILE_BYTES:
            notices.append(f"{relative} is larger than {MAX_FILE_BYTES // 2**20} MiB; not compared")
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
            files.append(SourceFile(relative, text))
    return files, notices


def _code_paths(folder: Path, root: Path, notices: list[str], depth: int = 0) -> list[Path]:
    """The .py files and notebooks under ``folder`` that staging would take, sorted."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if entry.name in SKIPPED_DIRECTORIES:
                continue
            if depth >= MAX_FOLDER_DEPTH:
                notices.append(f"{entry.relative_to(root)}: folders nested too deeply; skipped")
                continue
            found += _code_paths(entry, root, notices, depth + 1)
        elif _is_code(entry):
            found.append(entry)
    return found


def _is_code(path: Path) -> bool:
    """A module or notebook that staging copies (never a test runner's configuration)."""
    if path.suffix not in (".py", notebooks.SUFFIX) or not path.is_file():
        return False
    return path.name not in CONFIG_FILES and f"{path.stem}.py" not in CONFIG_FILES


def class_code(
    spec: AssignmentSpec, submissions: Path, workdir: Path
) -> tuple[list[StudentCode], dict[str, str]]:
    """Every student's code for ``spec``, and why each of the others has none.

    Zips are unpacked into ``workdir``. Raises FileNotFoundError when ``submissions`` is
    not a folder."""
    found: list[StudentCode] = []
    skipped: dict[str, str] = {}
    for submission in intake.discover(submissions):
        try:
            folder, notices = intake.take_in(submission, workdir)
        except intake.RejectedSubmission as why:
            skipped[submission.student] = str(why)
            continue
        files, more = assignment_files(folder, spec)
        if files:
            found.append(StudentCode(submission.student, files, notices + more))
        else:
            reason = f"no code in {spec.folder}/"
            skipped[submission.student] = "; ".join([reason, *more])
    return found, skipped


def template_files(spec: AssignmentSpec, template: Path) -> list[SourceFile]:
    """The code students were given: ``template/<folder>/`` and its notebook version,
    ``template/notebooks/<folder>/``."""
    files, _ = assignment_files(template, spec)
    notebook_root = template / "notebooks"
    if notebook_root.is_dir():
        for source in assignment_files(notebook_root, spec)[0]:
            source.label = f"{notebook_root.name}/{source.label}"
            files.append(source)
    return files
