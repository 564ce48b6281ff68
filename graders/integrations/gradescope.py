"""Gradescope: build an autograder bundle, and run it inside Gradescope's container.

``nngrade gradescope-bundle a3`` writes a zip for Gradescope's "Configure Autograder"
page. It holds nngrade's own source (never the reference solutions), ``setup.sh``
(installs nngrade with the assignment's extra, prefetches MNIST when the assignment
needs it) and ``run_autograder`` (grades ``/autograder/submission`` and writes
``/autograder/results/results.json``), plus the instructor's secrets when given.

``python -m graders.integrations.gradescope run a3`` is what ``run_autograder`` calls: it
accepts a submission uploaded as the repository (``a3/mlp.py``) or as bare files
(``mlp.py``), and writes a valid ``results.json`` whatever happens, so a student always
sees a result and a reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from graders import catalog
from graders.batch.records import write_atomically
from graders.render import encode

REPO_FILES = ("pyproject.toml", "README.md")
PACKAGE = "graders"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built.
set -euo pipefail
cd /autograder/source
apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip bubblewrap libseccomp2 >/dev/null
python3 -m venv /autograder/nngrade-venv
/autograder/nngrade-venv/bin/pip install --quiet "{requirement}"
{prefetch}
"""

PREFETCH = (
    '/autograder/nngrade-venv/bin/python -c "from pathlib import Path; '
    "from graders.data.mnist import load_mnist; "
    "[load_mnist(s, Path('/autograder/source/data')) for s in ('train', 'test')]\""
)

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must leave results/results.json behind.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{NNGRADE_PYTHON:-$ROOT/nngrade-venv/bin/python}}"
SECRETS=()
if [ -f "$ROOT/source/secrets.json" ]; then SECRETS=(--secrets "$ROOT/source/secrets.json"); fi
exec "$PYTHON" -m graders.integrations.gradescope run {assignment} --root "$ROOT" \\
    --data-dir "$ROOT/source/data" "${{SECRETS[@]}}"
"""


def build_bundle(assignment: str, output: Path, repo: Path, secrets: Path | None = None) -> Path:
    """Write the autograder zip for ``assignment`` to ``output``."""
    spec = catalog.spec(assignment)
    requirement = f"./nngrade[{spec.extra}]" if spec.extra else "./nngrade"
    files: dict[str, bytes] = {
        "setup.sh": SETUP_SH.format(
            requirement=requirement, prefetch=PREFETCH if spec.uses_mnist else ""
        ).encode(),
        "run_autograder": RUN_AUTOGRADER.format(assignment=assignment).encode(),
    }
    for name in REPO_FILES:
        files[f"nngrade/{name}"] = (repo / name).read_bytes()
    for path in sorted((repo / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[f"nngrade/{path.relative_to(repo).as_posix()}"] = path.read_bytes()
    if secrets is not None:
        files["secrets.json"] = Path(secrets).read_bytes()
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)
    os.replace(temporary, output)
    return output


def arrange_submission(uploaded: Path, assignment: str, target: Path) -> Path:
    """A folder shaped like student_template/: as uploaded, or bare files put in <assignment>/."""
    from graders.batch.intake import repository_root

    root = repository_root(uploaded)
    if (root / assignment).is_dir():
        return root
    folder = target / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for entry in root.iterdir():
        if entry.is_symlink() or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, folder / entry.name)
    return target


def _failure_results(message: str) -> dict:
    return {
        "score": 0,
        "output": f"The submission could not be graded: {message}",
        "tests": [],
        "stdout_visibility": "hidden",
    }


def run(assignment: str, root: Path, data_dir: Path | None, secrets: Path | None) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json`` in every case."""
    from graders.core.options import GradeOptions
    from graders.core.runner import grade
    from graders.render import FORMATS

    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    # Points that count for a grade: the full sandbox, always.
    options = GradeOptions(data_dir=data_dir, secrets_file=secrets).for_shared_grading()
    with tempfile.TemporaryDirectory(prefix="nngrade-gradescope-") as scratch:
        try:
            submission = arrange_submission(root / "submission", assignment, Path(scratch))
            report = catalog.lab_result([grade(catalog.spec(assignment), submission, options)])
            document = FORMATS["gradescope"](report, False)
        except Exception as error:  # noqa: BLE001 - Gradescope must always get a results.json
            print(f"nngrade: error: {encode.terminal(error)}", file=sys.stderr)
            document = json.dumps(_failure_results(str(error) or type(error).__name__))
    write_atomically(results, document)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders.integrations.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="grade inside Gradescope's container")
    run_parser.add_argument("assignment", choices=catalog.assignment_keys())
    run_parser.add_argument("--root", type=Path, default=Path("/autograder"))
    run_parser.add_argument("--data-dir", type=Path, default=None)
    run_parser.add_argument("--secrets", type=Path, default=None)
    args = parser.parse_args(argv)
    return run(args.assignment, args.root, args.data_dir, args.secrets)


if __name__ == "__main__":
    sys.exit(main())
