"""Notebook versions of the assignment modules, generated from the ``.py`` files.

``python -m graders.notebook_templates`` writes ``student_template/notebooks/aN/<module>.ipynb``
for every ``student_template/aN/<module>.py`` (``__init__.py`` and other files are copied
as they are), so the module and notebook templates never drift; ``--check`` only compares
and exits 1 when a committed notebook differs from what would be written. ``--source`` and
``--target`` convert any folder shaped like ``student_template/`` (e.g. ``reference/``).

The notebooks live in their own folder because a submission may not hold both
``a2/perceptron.py`` and ``a2/perceptron.ipynb``: a notebook student copies
``student_template/notebooks/a2/`` as ``a2/``.

Each notebook: a markdown cell with the assignment's title and summary (from
``assignments/aN.md``) and the module's docstring; one code cell per top-level block of
the module, in order (the docstring with the imports, each ``def`` and ``class`` on its
own, consecutive constants together, each with the comments above it); a last cell that
grades the notebook. The code cells hold the module's lines unchanged, so the module nngrade
builds from the notebook is the module itself. Output is deterministic: cell ids are
numbered, there are no outputs or execution counts.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

import nbformat

from graders.core.assignment import ASSIGNMENT_KEY

REPO = Path(__file__).resolve().parents[1]
CHECK_CELL = 'from graders import notebook\n\nnotebook.check("{key}")'


def _summary(key: str, assignments: Path) -> tuple[str, str]:
    """The statement's title and first paragraph of prose, or ("", "") without it."""
    path = assignments / f"{key}.md"
    if not path.is_file():
        return "", ""
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((line.lstrip("# ").strip() for line in lines if line.startswith("# ")), "")
    paragraph: list[str] = []
    for line in lines[1:]:
        if line.startswith(("#", "|")) or not line.strip():
            if paragraph:
                break
            continue
        if line.startswith(("* ", "- ")) and not paragraph:
            continue
        paragraph.append(line.strip())
    return title, " ".join(paragraph)


def code_blocks(text: str) -> list[str]:
    """The module's lines cut into cells: one per def/class, imports together, constants
    together; comments above a statement go with it, blank lines between cells dropped."""
    tree = ast.parse(text)
    lines = text.split("\n")
    blocks: list[tuple[str, list[str]]] = []
    start = 0  # first line (0-based) not yet in a cell
    for node in tree.body:
        end = node.end_lineno or node.lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = f"def{len(blocks)}"  # never merged
        elif isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and not blocks
        ):
            kind = "imports"
        else:
            kind = "constants"
        chunk = lines[start:end]
        if blocks and blocks[-1][0] == kind and not kind.startswith("def"):
            blocks[-1][1].extend(chunk)
        else:
            blocks.append((kind, chunk))
        start = end
    if blocks and lines[start:]:
        blocks[-1][1].extend(lines[start:])
    return ["\n".join(chunk).strip("\n") for _, chunk in blocks]


def module_notebook(
    text: str, key: str, module: str, assignments: Path = REPO / "assignments"
) -> nbformat.NotebookNode:
    """The notebook of one module (``module`` like "perceptron") of assignment ``key``."""
    title, summary = _summary(key, assignments)
    docstring = ast.get_docstring(ast.parse(text)) or ""
    intro = [
        f"# {title or key}",
        "",
        f"This notebook is your `{key}/{module}.ipynb`, handed in instead of `{key}/{module}.py`.",
        "",
        *([summary, ""] if summary else []),
        *([docstring.split("\n\n")[0].replace("\n", " "), ""] if docstring else []),
        f"Replace every `NotImplementedError`, save the notebook (Ctrl+S), then run the last "
        f"cell: it grades the **saved** notebook in nngrade's sandbox, exactly as "
        f"`nngrade check {key}` grades `{key}/{module}.py`. Only imports, `def`, `class` and "
        "constants are graded; other top-level code (training runs, plots, prints) runs only "
        "here and is listed as left out.",
    ]
    cells = [nbformat.v4.new_markdown_cell("\n".join(intro))]
    cells += [nbformat.v4.new_code_cell(block) for block in code_blocks(text)]
    cells.append(nbformat.v4.new_code_cell(CHECK_CELL.format(key=key)))
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index + 1}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook, version=4).rstrip("\n") + "\n"


def planned_files(source: Path, assignments: Path = REPO / "assignments") -> dict[str, bytes]:
    """Relative path -> bytes of everything a conversion of ``source`` writes."""
    files: dict[str, bytes] = {}
    for folder in sorted(source.iterdir()):
        if not (folder.is_dir() and ASSIGNMENT_KEY.fullmatch(folder.name)):
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            relative = path.relative_to(source)
            if path.suffix == ".py" and path.name != "__init__.py":
                notebook = module_notebook(
                    path.read_text(encoding="utf-8"), folder.name, path.stem, assignments
                )
                files[relative.with_suffix(".ipynb").as_posix()] = notebook_text(notebook).encode()
            elif path.suffix not in (".pyc", ".ipynb"):
                files[relative.as_posix()] = path.read_bytes()
    return files


def convert_folder(
    source: Path, target: Path, assignments: Path = REPO / "assignments"
) -> list[str]:
    """Write the notebooks of every ``source/aN/*.py`` (other files copied) under ``target``."""
    written = []
    for relative, data in planned_files(source, assignments).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(relative)
    return written


def differences(source: Path, target: Path, assignments: Path = REPO / "assignments") -> list[str]:
    """Files under ``target`` that are missing or differ from what conversion would write."""
    return [
        relative
        for relative, data in planned_files(source, assignments).items()
        if not (target / relative).is_file() or (target / relative).read_bytes() != data
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graders.notebook_templates",
        description="Write notebook versions of the assignment modules.",
    )
    parser.add_argument("--source", type=Path, default=REPO / "student_template")
    parser.add_argument("--target", type=Path, default=None,
                        help="default: SOURCE/notebooks")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook differs from its module")  # fmt: skip
    args = parser.parse_args(argv)
    target = args.target or args.source / "notebooks"
    if not args.source.is_dir():
        print(f"error: {args.source} is not a folder", file=sys.stderr)
        return 2
    if args.check:
        stale = differences(args.source, target)
        for relative in stale:
            print(f"out of date: {target / relative}", file=sys.stderr)
        if stale:
            print("run: python -m graders.notebook_templates", file=sys.stderr)
        return 1 if stale else 0
    if target.exists() and args.target is None:
        shutil.rmtree(target)  # the default folder is wholly generated: drop stale notebooks
    for relative in convert_folder(args.source, target):
        print(f"wrote {target / relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
