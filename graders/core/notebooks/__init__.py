"""A Jupyter or Colab notebook as a submission: the module it stands for, and where its lines are.

``a2/perceptron.ipynb`` may be handed in instead of ``a2/perceptron.py``. The notebook is
read with nbformat (any v4 notebook; older ones are upgraded) and the module is built from
its code cells, keeping only what a module runs when it is imported. Each top-level
statement of each code cell is decided on its AST (graders.core.notebooks.kept has the
rules): imports, ``def`` and ``class``, docstrings and module constants are kept; training
runs, loops, plots, IPython's own syntax, ``%%`` cell magics, cells that do not parse and
the cell that calls ``notebook.check`` are left out, and every left-out piece is reported
with its cell and line.

A cell is read as the kernel runs it: a cell that is not plain Python is first rewritten
as IPython rewrites it (:func:`ipython_transform`: ``%time import torch`` becomes
``get_ipython().run_line_magic('time', 'import torch')``, ``;exec import torch`` becomes
``exec("import torch")``, a pasted ``>>>`` session loses its prompts), and only a cell that
still does not parse is left out as such. The static scan reads the **full** code of every
cell in that form, the body of a ``%%`` cell included, and reads the code in those calls'
string arguments (graders.core.static_scan): a forbidden import in a left-out cell runs in
the student's kernel, so it breaks the rule. A cell nested too deeply for Python's parser
could hide any import: it is marked for the scan (UNSCANNABLE_MARK), which counts it as
breaking the rules. The scan text is the module followed by the left-out statements, so
that one line map serves both.

**Cell numbers** count every cell of the notebook from 1, markdown cells included: the
position a student sees when scrolling (Jupyter shows no other cell number; execution
counts change on every run). Lines count from 1 within the cell. Every ``file:line`` in a
report about the module is mapped back by :func:`relocate_location` to
``perceptron.ipynb, cell 4, line 7``.

A notebook that cannot be read (not JSON, not a notebook, over 64 MiB) becomes a module
that raises ImportError with the reason: every criterion that needs it says why in one
line, and a notice says it too.

Nothing here runs student code: cells are parsed, never executed. Leaving code out keeps
training runs from slowing grading down; it is not what keeps grading safe (what is kept
still runs, like any module, in the sandbox with its limits).

One job per module, each importing only those above it in this list:

* ``reading``: a ``.ipynb`` file's code cells and the digest of what grading reads;
* ``ipython_syntax``: a cell as IPython rewrites it (by IPython when installed);
* ``ipython_reimplemented``: the same rewrites without IPython, held to its output;
* ``cells``: a code cell parsed as the kernel runs it;
* ``kept``: which statements the module keeps and which it leaves out;
* ``building``: the module, its scan text and its line map, built from the cells;
* ``twin_files``: notebooks handed in beside a module of the same name;
* ``relocation``: module locations in a result mapped back to notebook cells and lines.

The names below are this package's interface; import them from here.
"""

from __future__ import annotations

from graders.core.notebooks.building import (
    UNSCANNABLE_MARK,
    NotebookModule,
    Place,
    build,
    convert,
)
from graders.core.notebooks.cells import ParsedCell, parse_cell
from graders.core.notebooks.ipython_syntax import (
    IPYTHON_WORK,
    NESTED_TOO_DEEPLY,
    TRANSFORM_LOOP_LIMIT,
    TooDeep,
    Transformed,
    Work,
    ipython_text,
    ipython_transform,
    normalise,
    parse,
)
from graders.core.notebooks.kept import (
    PURE_CALLS,
    LeftOut,
    is_check_cell_statement,
    is_constant_assignment,
    is_constant_value,
    keeps,
)
from graders.core.notebooks.reading import (
    MAX_NOTEBOOK_BYTES,
    SUFFIX,
    NotebookError,
    content_digest,
    read_code_cells,
)
from graders.core.notebooks.relocation import (
    MAX_RELOCATED_CHARS,
    relocate_location,
    relocate_text,
    relocate_violations,
)
from graders.core.notebooks.twin_files import twins

__all__ = [
    "IPYTHON_WORK",
    "MAX_NOTEBOOK_BYTES",
    "MAX_RELOCATED_CHARS",
    "NESTED_TOO_DEEPLY",
    "PURE_CALLS",
    "SUFFIX",
    "TRANSFORM_LOOP_LIMIT",
    "UNSCANNABLE_MARK",
    "LeftOut",
    "NotebookError",
    "NotebookModule",
    "ParsedCell",
    "Place",
    "TooDeep",
    "Transformed",
    "Work",
    "build",
    "content_digest",
    "convert",
    "ipython_text",
    "ipython_transform",
    "is_check_cell_statement",
    "is_constant_assignment",
    "is_constant_value",
    "keeps",
    "normalise",
    "parse",
    "parse_cell",
    "read_code_cells",
    "relocate_violations",
    "relocate_location",
    "relocate_text",
    "twins",
]
