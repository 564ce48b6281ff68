"""What students start from, as nngrade ships it: the assignments' templates (modules and
notebooks), their statements and the GitHub workflow.

They are package data (``graders/course/``): in a checkout that folder links to the
repository's ``student_template/`` and ``assignments/``; a wheel or sdist holds the files
themselves. So ``pip install nngrade`` is enough to start an assignment (``nngrade init``),
read it (``nngrade statement``) or compare a class against what it was given
(``nngrade similarity``); the reference solutions are never shipped.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path

from graders import catalog

COURSE = Path(__file__).resolve().parent / "course"
WORKFLOW = Path(".github") / "workflows" / "nngrade.yml"


class CourseFilesMissing(FileNotFoundError):
    """This installation of nngrade lacks the course files (a broken or partial install)."""


def _existing(path: Path) -> Path:
    if not path.exists():
        raise CourseFilesMissing(
            f"{path} is missing from this installation of nngrade; reinstall it "
            '(pip install --force-reinstall "nngrade")'
        )
    return path


def templates() -> Path:
    """The folder students' assignment folders are copied from (``student_template/``)."""
    return _existing(COURSE / "student_template")


def statement_path(assignment: str) -> Path:
    """The statement of ``assignment`` (Markdown)."""
    catalog.spec(assignment)  # an unknown key says which keys there are
    return _existing(COURSE / "assignments" / f"{assignment}.md")


@dataclass(frozen=True)
class Started:
    """What ``nngrade init`` wrote."""

    folder: Path
    files: tuple[Path, ...]


class WouldOverwrite(FileExistsError):
    """``nngrade init`` never replaces a file: a student's work may be in it."""


def start_assignment(
    assignment: str, target: Path, *, notebook: bool = False, workflow: bool = False
) -> Started:
    """Write ``target/<assignment>/`` as a student starts it: the template's modules (or
    notebooks), the statement beside them, and with ``workflow`` the GitHub workflow that
    grades every push. Nothing that exists is replaced (:class:`WouldOverwrite`)."""
    source = templates() / ("notebooks" if notebook else "") / assignment
    if not source.is_dir():
        raise CourseFilesMissing(f"{source} is missing from this installation of nngrade")
    planned: dict[Path, Path] = {
        target / assignment / path.name: path
        for path in sorted(source.iterdir())
        if path.is_file() and path.suffix in (".py", ".ipynb")
    }
    planned[target / assignment / f"{assignment}.md"] = statement_path(assignment)
    if workflow:
        planned[target / WORKFLOW] = _existing(templates() / WORKFLOW)
    present = [path for path in planned if path.exists() or path.is_symlink()]
    if present:
        one = len(present) == 1
        raise WouldOverwrite(
            f"{', '.join(str(p) for p in present)} already exist{'s' if one else ''}; nngrade "
            f"init never replaces a file. Move {'it' if one else 'them'} away, or start in "
            f"another folder (nngrade init {assignment} OTHER_FOLDER)"
        )
    for destination, origin in planned.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, destination)
    return Started(target / assignment, tuple(planned))


def statement_html(assignment: str) -> str:
    """The statement as a page of its own (tables and code blocks kept)."""
    import markdown

    spec = catalog.spec(assignment)
    body = markdown.markdown(
        statement_path(assignment).read_text(encoding="utf-8"),
        extensions=["tables", "fenced_code", "toc"],
    )
    title = html.escape(f"{spec.key}: {spec.title}")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}pre,code{background:#f4f4f4}pre{padding:.6rem;"
        "overflow-x:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        f"padding:.2rem .5rem}}</style></head><body>\n{body}\n</body></html>\n"
    )
