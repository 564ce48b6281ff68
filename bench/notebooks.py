"""Grading a notebook against grading the module it stands for (assignment 2).

The notebook is the reference converted by the template script, plus what students keep
in notebooks: a training run on MNIST, a plot and a long sleep at top level. Those cells
are left out of the graded module, so grading should take as long as for the module.

Run: python bench/notebooks.py [--repeat N] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import nbformat  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.a2 import ASSIGNMENT  # noqa: E402
from graders.core.options import GradeOptions  # noqa: E402
from graders.core.runner import grade  # noqa: E402
from graders.notebook_templates import convert_folder  # noqa: E402

TOP_LEVEL_WORK = (
    "from google.colab import drive\ndrive.mount('/content/drive')",
    "import time\ntime.sleep(600)",
    "for epoch in range(EPOCHS):\n    print(epoch)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])",
    "!pip install tqdm",
)


def notebook_submission(target: Path) -> Path:
    """The a2 reference as a notebook with training, plots and shell lines at top level."""
    convert_folder(REPO / "reference", target)
    path = target / "a2" / "perceptron.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for index, source in enumerate(TOP_LEVEL_WORK):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"work-{index}"
        notebook.cells.insert(len(notebook.cells) - 1, cell)
    nbformat.write(notebook, path)
    (target / "a2" / "perceptron.py").unlink(missing_ok=True)
    return target


def measure(submission: Path, options: GradeOptions, repeat: int) -> tuple[float, float, float]:
    times, points = [], 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        points = grade(ASSIGNMENT, submission, options).points
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    options = GradeOptions(data_dir=args.data_dir, download=False)
    rows = ["| a2 submission | median s | best s | points |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as scratch:
        notebook = notebook_submission(Path(scratch) / "notebook")
        for name, folder in (("module (reference)", REPO / "reference"), ("notebook", notebook)):
            median, best, points = measure(folder, options, args.repeat)
            row = f"| {name} | {median:.2f} | {best:.2f} | {points:g}/15 |"
            print(row)
            rows.append(row)
    body = (
        f"Grading assignment 2 end to end, median of {args.repeat} runs. The notebook holds "
        "the reference's code plus top-level cells a module must not run (Colab's Drive mount, "
        "a 600 s sleep, a training loop, a matplotlib plot, `%matplotlib`, `!pip`); they are "
        "left out of the graded "
        "module and listed in the report.\n\n" + "\n".join(rows)
    )
    write_section("bench/notebooks.py", body)


if __name__ == "__main__":
    main()
