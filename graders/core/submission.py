"""Stage a submission for grading: a filtered, grader-owned copy that workers start from.

Files that could change the grader or shadow a module the grader relies on never reach a
worker; each one ignored is reported with the reason, so a student knows what happened.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graders.core import notebooks
from graders.core.assignment import ASSIGNMENT_KEY, AssignmentSpec
from graders.failures import Location
from graders.sandbox.owners import make_folder
from graders.sandbox.workspace import base_folder

#: Files that configure test runners or the interpreter: never taken from a submission.
CONFIG_FILES = frozenset(
    {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "sitecustomize.py", "usercustomize.py"}
)
SKIPPED_DIRECTORIES = frozenset(
    {"__pycache__", ".git", ".venv", "venv", "env", "node_modules", ".ipynb_checkpoints",
     ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
)  # fmt: skip
HARNESS_NAMES = frozenset({"graders", "nngrade", "pytest", "_pytest", "hypothesis", "numpy"})
MAX_SUBMISSION_BYTES = 256 * 2**20


class SubmissionError(Exception):
    """The submission cannot be graded at all (missing folder, too large)."""


@dataclass
class StagedSubmission:
    source: Path
    root: Path
    local_modules: frozenset[str]
    notices: list[str] = field(default_factory=list)
    #: Modules built from notebooks, by module path ("a2/perceptron.py"), with their line maps.
    notebooks: dict[str, notebooks.NotebookModule] = field(default_factory=dict)

    def locate(self, location: Location) -> Location:
        """A place in the built submission as the student knows it: a notebook's module line
        as the notebook's cell and line (a lookup), any other place as it is."""
        return notebooks.relocate_location(location, self.notebooks)

    def scan_sources(self) -> dict[Path, str]:
        """What the static scan reads instead of a built module: every cell's code."""
        return {self.root / name: built.scan_text for name, built in self.notebooks.items()}

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@functools.cache
def protected_module_names() -> frozenset[str]:
    """Top-level names a submission must not define: stdlib, installed packages, harness."""
    return frozenset(set(sys.stdlib_module_names) | _installed_top_level_names() | HARNESS_NAMES)


def _installed_top_level_names() -> set[str]:
    """The names an installed package can be imported by: the entries of site-packages
    (modules, packages, namespace folders, extension modules), read from the folders
    themselves. Asking importlib.metadata instead reads every distribution's file list, a
    third of a second on each grading."""
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    names = set()
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            name = entry.split(".", 1)[0]
            if name.isidentifier() and not entry.endswith((".dist-info", ".egg-info", ".pth")):
                names.add(name)
    return names


def _top_level_name(path: Path) -> str | None:
    if path.is_file() and path.suffix == ".py":
        return path.stem
    if path.is_dir() and (path / "__init__.py").is_file():
        return path.name
    return None


def stage(source: Path, assignment: AssignmentSpec) -> StagedSubmission:
    """Copy what the assignment needs from ``source`` into a fresh grader-owned folder."""
    source = source.resolve()
    if not source.is_dir():
        raise SubmissionError(f"submission folder {source} does not exist")
    for module, notebook in notebooks.twins(source / assignment.folder, SKIPPED_DIRECTORIES):
        module, notebook = module.relative_to(source), notebook.relative_to(source)
        raise SubmissionError(
            f"both {module} and {notebook} are in the submission: hand in one of them (delete "
            f"{module} to have the notebook graded, or {notebook} to have the module graded)"
        )
    root = make_folder("submission", base_folder())
    try:
        return _fill(source, assignment, root)
    except BaseException:  # also Ctrl+C or a stop signal: no half-made copy is left
        shutil.rmtree(root, ignore_errors=True)
        raise


def _fill(source: Path, assignment: AssignmentSpec, root: Path) -> StagedSubmission:
    """Copy the submission into ``root`` (see :func:`stage`)."""
    os.chmod(root, 0o755)
    staged = StagedSubmission(source=source, root=root, local_modules=frozenset())
    protected = protected_module_names()
    local: set[str] = set()
    total = 0
    for entry in sorted(source.iterdir()):
        name = _top_level_name(entry)
        is_assignment = entry.name == assignment.folder and entry.is_dir()
        if ASSIGNMENT_KEY.fullmatch(entry.name) and not is_assignment:
            continue  # other assignments are graded on their own
        if entry.name in CONFIG_FILES:
            staged.notices.append(
                f"ignored {entry.name}: the grader never uses configuration from a submission"
            )
            continue
        if name is None and not is_assignment:
            continue
        if entry.is_symlink():
            staged.notices.append(f"ignored {entry.name}: symbolic links are not followed")
            continue
        if name is not None and name in protected and not is_assignment:
            staged.notices.append(
                f"ignored {entry.name}: it would shadow the module '{name}' that the grader or "
                "Python needs; rename it"
            )
            continue
        total += _copy(entry, root / entry.name, staged)
        local.add(name or entry.name)
        if total > MAX_SUBMISSION_BYTES:
            staged.cleanup()
            raise SubmissionError(
                f"submission is larger than {MAX_SUBMISSION_BYTES // 2**20} MiB; remove data "
                "sets, virtual environments and outputs from it"
            )
    staged.local_modules = frozenset(local)
    return staged


#: Folders nested deeper than this are not code anyone hands in (and a deep enough tree
#: would exhaust the recursion of every walk over it): left out with a notice.
MAX_FOLDER_DEPTH = 32


def _copy(source: Path, target: Path, staged: StagedSubmission, depth: int = 0) -> int:
    if source.is_file():
        shutil.copy2(source, target)
        return target.stat().st_size
    if depth > MAX_FOLDER_DEPTH:
        relative = source.relative_to(staged.source)
        staged.notices.append(
            f"ignored {relative}: folders nested more than {MAX_FOLDER_DEPTH} levels deep"
        )
        return 0
    target.mkdir()
    size = 0
    for entry in sorted(source.iterdir()):
        relative = entry.relative_to(staged.source)
        if entry.is_symlink():
            staged.notices.append(f"ignored {relative}: symbolic links are not followed")
        elif entry.is_dir():
            if entry.name not in SKIPPED_DIRECTORIES:
                size += _copy(entry, target / entry.name, staged, depth + 1)
        elif entry.name in CONFIG_FILES or (
            entry.suffix == notebooks.SUFFIX and f"{entry.stem}.py" in CONFIG_FILES
        ):
            staged.notices.append(
                f"ignored {relative}: the grader never uses configuration from a submission"
            )
        elif entry.suffix in (".pyc", ".pyo", ".pth"):
            continue
        elif entry.suffix == notebooks.SUFFIX and entry.is_file():
            built = notebooks.convert(entry, relative.as_posix())
            (target / entry.name).with_suffix(".py").write_text(built.text, encoding="utf-8")
            staged.notebooks[built.module] = built
            size += entry.stat().st_size
            staged.notices += built.notices()
        elif entry.is_file():
            shutil.copy2(entry, target / entry.name)
            size += entry.stat().st_size
    return size
