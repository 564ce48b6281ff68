"""``nngrade init`` and ``nngrade statement``: what a student needs before the first check,
from the installed package alone (:mod:`graders.course_files`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import webbrowser
from pathlib import Path

from graders import catalog, course_files


def add_parsers(commands: argparse._SubParsersAction) -> None:
    keys = catalog.assignment_keys()
    init = commands.add_parser(
        "init", help="start an assignment: its template and statement in DIR/<assignment>/"
    )
    init.add_argument("assignment", choices=keys, help=f"{keys[0]} ... {keys[-1]}")
    init.add_argument(
        "folder", nargs="?", type=Path, default=Path.cwd(), metavar="DIR",
        help="your repository (default: the current folder)",
    )  # fmt: skip
    init.add_argument("--notebook", action="store_true",
                      help="Jupyter notebooks instead of Python modules")  # fmt: skip
    init.add_argument("--workflow", action="store_true",
                      help="also the GitHub workflow that grades every push "
                      "(.github/workflows/nngrade.yml)")  # fmt: skip
    statement = commands.add_parser("statement", help="print an assignment's statement")
    statement.add_argument("assignment", choices=keys, help=f"{keys[0]} ... {keys[-1]}")
    statement.add_argument("--open", action="store_true",
                           help="open it as a web page in your browser instead")  # fmt: skip


def run_init(args: argparse.Namespace) -> int:
    started = course_files.start_assignment(
        args.assignment, args.folder, notebook=args.notebook, workflow=args.workflow
    )
    for path in started.files:
        print(f"wrote {path}")
    spec = catalog.spec(args.assignment)
    print(
        f"\nNext: read {started.folder / (spec.key + '.md')}, replace every "
        f"NotImplementedError, then run\n  nngrade check {spec.key}"
        + (f" --submission {args.folder}" if args.folder.resolve() != Path.cwd() else "")
    )
    return 0


def run_statement(args: argparse.Namespace) -> int:
    if not args.open:
        sys.stdout.write(course_files.statement_path(args.assignment).read_text(encoding="utf-8"))
        return 0
    page = Path(tempfile.gettempdir()) / f"nngrade-statement-{args.assignment}.html"
    page.write_text(course_files.statement_html(args.assignment), encoding="utf-8")
    if not webbrowser.open(page.as_uri()):
        print(f"no browser could be started here; the statement is at {page}")
    else:
        print(f"opened {page}")
    return 0
