"""Reading a ``.ipynb`` file: its code cells, numbered as a student counts cells, and a
digest of what grading reads from it (cell types and sources; outputs and execution counts
never change a grade). The rest of the package starts from what is read here; a notebook
that cannot be read is refused here, with the reason a student can act on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SUFFIX = ".ipynb"
#: Larger notebooks are refused before reading: outputs (plots) are what makes them large.
MAX_NOTEBOOK_BYTES = 64 * 2**20


class NotebookError(Exception):
    """The file is not a notebook that can be read."""


def read_code_cells(path: Path) -> list[tuple[int, str]]:
    """(cell number among all cells, source) of every code cell; NotebookError if unreadable."""
    import nbformat

    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"it is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; clear its outputs (Edit > "
            "Clear all outputs) and save it"
        )
    try:
        notebook = nbformat.read(str(path), as_version=4)
        cells = notebook.get("cells")
        if not isinstance(cells, list):
            raise NotebookError("it has no list of cells")
        found = []
        for number, cell in enumerate(cells, start=1):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                raise NotebookError(f"cell {number} is not a notebook cell")
            if cell["cell_type"] != "code":
                continue
            source = cell.get("source", "")
            if isinstance(source, list) and all(isinstance(s, str) for s in source):
                source = "".join(source)
            if not isinstance(source, str):
                raise NotebookError(f"cell {number} has no text")
            found.append((number, source))
        return found
    except NotebookError:
        raise
    except UnicodeDecodeError:
        raise NotebookError("it is not UTF-8 text") from None
    except Exception as error:  # nbformat raises many kinds: bad JSON, a wrong schema
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise NotebookError(
            f"not a Jupyter notebook ({type(error).__name__}: {message[:150]}); open and save "
            "it again in Jupyter or Colab"
        ) from None


def content_digest(path: Path) -> str:
    """A digest of what grading reads from a notebook: each cell's type and source, in
    order. Outputs, execution counts and metadata change whenever a cell is re-run; they
    never change a grade. A file that is not a readable notebook is digested whole."""
    data = path.read_bytes()
    if len(data) > MAX_NOTEBOOK_BYTES:  # refused at grading anyway: never parsed
        return hashlib.sha256(data).hexdigest()
    try:
        cells = json.loads(data)["cells"]
        shown = [[c["cell_type"], c.get("source", "")] for c in cells]
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()
    except (ValueError, KeyError, TypeError, RecursionError):
        return hashlib.sha256(data).hexdigest()
