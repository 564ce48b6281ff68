"""Grade a notebook from inside it: ``from graders import notebook; notebook.check("a2")``.

The notebook's **saved** file is graded by ``nngrade check`` in a separate process, in the
same sandbox and with the same points as on the command line: no grader code runs in the
student's kernel, where student code could change it. ``check`` returns a report that
Jupyter and Colab show as a table (``_repr_html_``) and a terminal as text.

Which file: ``path=`` when given; else the notebook Jupyter says the kernel belongs to
(``JPY_SESSION_NAME``, set by Jupyter Server 2 and JupyterLab), or VS Code
(``__vsc_ipynb_file__``); in Colab the notebook is fetched from the Colab page, or must be
given as ``path=`` (in Google Drive: ``/content/drive/MyDrive/...``); else the one notebook
in the current folder named like a module of the assignment (``perceptron.ipynb``).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graders import catalog
from graders.core.progress import EventTail
from graders.core.results import AssignmentResult
from graders.core.submission import SKIPPED_DIRECTORIES
from graders.render import encode, html_section, terminal
from graders.render.live_notebook import NotebookProgress
from graders.sandbox.owners import make_folder

#: Folders never copied into the graded submission: staging's, plus Colab's sample data.
SKIPPED = SKIPPED_DIRECTORIES | {"sample_data"}
SAVE_REMINDER = (
    "nngrade graded the notebook as last saved: save it first (Ctrl+S, or File > Save) "
    "so that your latest changes count."
)
COLAB_REMINDER = "nngrade graded the notebook as Colab holds it now, your latest edits included."


class NotebookNotFound(Exception):
    """The notebook to grade could not be found; the message says how to name it."""


@dataclass
class Report:
    """What ``check`` found: the graded result, or why grading did not run."""

    assignment: str
    notebook: str = ""
    result: AssignmentResult | None = None
    error: str = ""
    #: What was graded: the saved file, or (in Colab) the notebook as the page holds it.
    reminder: str = SAVE_REMINDER

    @property
    def graded(self) -> bool:
        return self.result is not None and not self.error

    @property
    def points(self) -> float:
        return self.result.points if self.result else 0.0

    @property
    def max_points(self) -> float:
        return self.result.max_points if self.result else 0.0

    def __repr__(self) -> str:
        if self.result is None:
            return (
                f"nngrade could not grade {self.assignment}: {encode.terminal(self.error)}\n"
                f"{self.reminder}"
            )
        lines = [
            encode.terminal(self.notebook),
            *terminal.assignment_lines(self.result, 100, fancy=False),
        ]
        return "\n".join(lines + [self.reminder])

    def _repr_html_(self) -> str:
        e = encode.html
        if self.result is None:
            return (
                f"<div><p><b>nngrade could not grade {e(self.assignment)}:</b> "
                f"{e(self.error)}</p><p><i>{e(self.reminder)}</i></p></div>"
            )
        return (
            f"<div><style>{html_section.STYLE}</style><p>{e(self.notebook)}</p>"
            f"{html_section.assignment_section(self.result)}"
            f"<p><i>{e(self.reminder)}</i></p></div>"
        )


def module_names(assignment: str) -> list[str]:
    """The modules a student hands in for ``assignment``, e.g. ["pure", "vectorized"]."""
    spec = catalog.spec(assignment)
    return [Path(f).stem for f in spec.required_files if f.endswith(".py")]


def _colab_notebook() -> dict | None:
    """The open Colab notebook's contents, asked from the Colab page (None if that fails)."""
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        answer = _message.blocking_request("get_ipynb", timeout_sec=30)
        notebook = answer.get("ipynb") if isinstance(answer, dict) else None
        return notebook if isinstance(notebook, dict) else None
    except Exception:  # noqa: BLE001 - any failure: ask for the path instead
        return None


def _colab_name(contents: dict, assignment: str) -> str:
    """The file name Colab keeps in the notebook (``metadata.colab.name``), else the module's."""
    colab = contents.get("metadata", {}).get("colab", {})
    name = colab.get("name") if isinstance(colab, dict) else None
    if isinstance(name, str) and name.endswith(".ipynb") and "/" not in name:
        return name
    return f"{(module_names(assignment) or ['notebook'])[0]}.ipynb"


def find_notebook(assignment: str, caller_globals: dict | None = None) -> Path:
    """The notebook this kernel runs, as well as Jupyter, VS Code or the folder tell."""
    candidates: list[Path] = []
    vscode = (caller_globals or {}).get("__vsc_ipynb_file__")
    if isinstance(vscode, str):
        candidates.append(Path(vscode))
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        candidates += [Path(session), Path.cwd() / Path(session).name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    names = module_names(assignment)
    here = [Path.cwd() / f"{name}.ipynb" for name in names]
    here = [p for p in here if p.is_file()]
    if len(here) == 1:
        return here[0]
    expected = " or ".join(f"{n}.ipynb" for n in names) or "the notebook"
    raise NotebookNotFound(
        f"cannot tell which notebook to grade; pass its path: notebook.check({assignment!r}, "
        f'path="{expected.split(" or ")[0]}") (it must be named {expected})'
    )


def _module_name(notebook: Path, assignment: str) -> str:
    names = module_names(assignment)
    if notebook.stem in names or not names:
        return notebook.stem
    if len(names) == 1:
        return names[0]  # "Copy of perceptron.ipynb", "perceptron (1).ipynb": graded as the one
    raise NotebookNotFound(
        f"{notebook.name} is not a module of {assignment}: name it "
        + " or ".join(f"{n}.ipynb" for n in names)
    )


def build_submission(
    notebook: Path, assignment: str, target: Path, beside: Path | None = None
) -> Path:
    """``target/<assignment>/<module>.ipynb`` plus the other files of the folder ``beside``
    (default: the notebook's own), e.g. a5's ``agent.pt`` or a helper module."""
    folder = target / assignment
    folder.mkdir(parents=True)
    module = _module_name(notebook, assignment)
    for entry in sorted((beside or notebook.parent).iterdir()):
        if entry.name.startswith(".") or entry.name in SKIPPED or entry.is_symlink():
            continue
        if entry.resolve() == notebook.resolve() or entry.name in (f"{module}.py",):
            continue  # the notebook is copied below, as the module it stands for
        if entry.is_file() and entry.suffix in (".py", ".ipynb", ".pt", ".pth", ".npz", ".npy",
                                                ".json", ".txt", ".csv"):  # fmt: skip
            shutil.copy2(entry, folder / entry.name)
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            shutil.copytree(entry, folder / entry.name, ignore=shutil.ignore_patterns(*SKIPPED))
    shutil.copy2(notebook, folder / f"{module}.ipynb")
    return target


def _run_cli(assignment: str, submission: Path, report: Path, extra: list[str]) -> tuple[int, str]:
    """Run ``nngrade check`` on ``submission``; its exit status and what it said on stderr.
    In a notebook, the cell shows the criteria as they finish (see NotebookProgress)."""
    live = NotebookProgress.in_kernel()
    events = report.with_name("events.jsonl")
    watch = ["--events", str(events)] if live is not None else []
    command = [sys.executable, "-m", "graders.cli", "check", assignment, "--submission",
               str(submission), "--format", "json", "--output", str(report), *watch, *extra]  # fmt: skip
    tail = EventTail(events)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=errors, text=True)  # fmt: skip
        try:
            while True:
                try:
                    process.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    _show(tail, live)
        finally:
            if process.poll() is None:  # the cell was interrupted: stop grading too
                process.kill()
                process.wait()
            _show(tail, live)
            if live is not None:
                live.close()
        errors.seek(0)
        return process.returncode, errors.read()


def _show(tail: EventTail, live: NotebookProgress | None) -> None:
    """Pass the events written since the last look to the cell's display (if any)."""
    if live is not None:
        for event in tail.read():
            live(event)
        live.tick()


def check(
    assignment: str,
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    only: tuple[str, ...] | list[str] = (),
) -> Report:
    """Grade the saved notebook for ``assignment`` in nngrade's sandbox; returns the report.

    ``path``: the notebook (found automatically in Jupyter and VS Code; in Colab give the
    Drive path, e.g. "/content/drive/MyDrive/nn-lab/perceptron.ipynb"). ``data_dir``: the
    folder holding MNIST/raw/ (as ``nngrade check --data-dir``). ``only``: criteria to grade.
    """
    report = Report(assignment=assignment)
    if assignment not in catalog.assignment_keys():
        known = ", ".join(catalog.assignment_keys())
        report.error = f"unknown assignment {assignment!r}; one of {known}"
        return report
    scratch = make_folder("notebook")
    try:
        if path is not None:
            notebook = Path(path).expanduser()
            if not notebook.is_file():
                raise NotebookNotFound(f"{notebook} does not exist (or is not a file)")
        elif "google.colab" in sys.modules:
            contents = _colab_notebook()
            if contents is None:
                raise NotebookNotFound(
                    "in Colab, give the notebook's path: mount Google Drive (from "
                    "google.colab import drive; drive.mount('/content/drive')) and call "
                    f'notebook.check("{assignment}", path="/content/drive/MyDrive/.../'
                    f'{(module_names(assignment) or ["notebook"])[0]}.ipynb")'
                )
            notebook = scratch / "colab" / _colab_name(contents, assignment)
            notebook.parent.mkdir()
            notebook.write_text(json.dumps(contents), encoding="utf-8")
            report.reminder = COLAB_REMINDER
        else:
            caller = inspect.currentframe()
            caller_globals = caller.f_back.f_globals if caller and caller.f_back else {}
            notebook = find_notebook(assignment, caller_globals)
        report.notebook = str(notebook)
        # In Colab the notebook lives in the page; what it saved (agent.pt) is in /content.
        beside = Path.cwd() if report.reminder == COLAB_REMINDER else None
        submission = build_submission(notebook, assignment, scratch / "submission", beside)
        extra = ["--data-dir", str(data_dir)] if data_dir is not None else []
        extra += [arg for criterion in only for arg in ("--only", criterion)]
        output = scratch / "report.json"
        status, errors = _run_cli(assignment, submission, output, extra)
        if output.is_file():
            report.result = AssignmentResult.from_dict(
                json.loads(output.read_text(encoding="utf-8"))
            )
        if status != 0 and report.result is None:
            lines = [line for line in errors.strip().splitlines() if line.strip()]
            message = lines[-1] if lines else f"nngrade exited with status {status}"
            report.error = message.replace("nngrade: error: ", "").replace("nngrade: ", "")
    except NotebookNotFound as error:
        report.error = str(error)
    except (OSError, ValueError) as error:
        report.error = f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report
