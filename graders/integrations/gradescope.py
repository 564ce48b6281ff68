"""Gradescope: build an autograder bundle, and run it inside Gradescope's container.

``nngrade gradescope-bundle a3`` writes a zip for Gradescope's "Configure Autograder"
page. It holds the running nngrade as a source tree (:mod:`source_tree`: from a wheel or a
checkout alike; never the reference solutions), ``setup.sh``
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
from graders.core.stopping import Stopped, stopped_by_signals
from graders.integrations.source_tree import source_tree
from graders.render import encode
from graders.sandbox.left_behind import tidy_work_folders
from graders.sandbox.owners import owned_prefix

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built. Each stage says
# what it does in the build log, and the long installs show their progress line by line.
set -euo pipefail
cd /autograder/source
step() {{ echo; echo "nngrade setup: $*"; }}
step "[1/4] system packages (Python, bubblewrap, libseccomp)"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap libseccomp2 ca-certificates
step "[2/4] a virtual environment for nngrade"
python3 -m venv /autograder/nngrade-venv
PIP=(/autograder/nngrade-venv/bin/pip install --progress-bar off)
"${{PIP[@]}}" --upgrade pip
{torch}
step "[4/4] nngrade{extra_words}"
"${{PIP[@]}}" "{requirement}"
{prefetch}
step "done"
"""

#: PyTorch for a machine without a GPU: its CPU build (about 0.2 GB instead of the CUDA
#: build's 5 GB of libraries a container without a GPU cannot use). Another index can be
#: given with NNGRADE_TORCH_INDEX when the image is built ("" for pip's own configuration).
TORCH_CPU = """step "[3/4] PyTorch, CPU build (no GPU on this platform; bundle --torch cuda for one)"
INDEX=(--index-url "${{NNGRADE_TORCH_INDEX-https://download.pytorch.org/whl/cpu}}"
       --extra-index-url https://pypi.org/simple)
if [ "${{NNGRADE_TORCH_INDEX-unset}}" = "" ]; then INDEX=(); fi
"${{PIP[@]}}" "${{INDEX[@]}}" {packages}
"""
TORCH_DEFAULT = """step "[3/4] PyTorch with CUDA, as PyPI ships it (bundle --torch cpu for a CPU-only platform)"
"${{PIP[@]}}" {packages}
"""
TORCH_NONE = 'step "[3/4] no PyTorch (this assignment does not use it)"'

#: Torch builds a bundle can install: "cpu" (Gradescope's default machines have no GPU).
TORCH_BUILDS = ("cpu", "cuda")

PREFETCH = """if ls /autograder/source/data/MNIST/raw/train-images-idx3-ubyte* >/dev/null 2>&1; then
    echo "nngrade setup: MNIST ships in the bundle (data/MNIST/raw)"
else
    echo "nngrade setup: downloading MNIST into /autograder/source/data"
    /autograder/nngrade-venv/bin/python -c "from pathlib import Path; \\
from graders.data.mnist import load_mnist; \\
[load_mnist(s, Path('/autograder/source/data')) for s in ('train', 'test')]" || {
        echo "nngrade setup: MNIST could not be downloaded here; build the bundle with"
        echo "  nngrade gradescope-bundle ASSIGNMENT --with-data --data-dir PATH"
        echo "so that it carries the four files."
        exit 1
    }
fi"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must leave results/results.json behind.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{NNGRADE_PYTHON:-$ROOT/nngrade-venv/bin/python}}"
SECRETS=()
if [ -f "$ROOT/source/secrets.json" ]; then SECRETS=(--secrets "$ROOT/source/secrets.json"); fi
exec "$PYTHON" -m graders.integrations.gradescope run {assignment} --root "$ROOT" \\
    --data-dir "$ROOT/source/data" "${{SECRETS[@]}}"
"""


def setup_script(assignment: str, torch_build: str = "cpu") -> str:
    """``setup.sh`` for ``assignment``: PyTorch's ``torch_build`` where it needs PyTorch."""
    if torch_build not in TORCH_BUILDS:
        raise ValueError(f"unknown PyTorch build {torch_build!r}; choose from {TORCH_BUILDS}")
    spec = catalog.spec(assignment)
    requirement = f"./nngrade[{spec.extra}]" if spec.extra else "./nngrade"
    packages = " ".join(f'"{package}"' for package in torch_requirements(spec.extra))
    if packages:
        template = TORCH_CPU if torch_build == "cpu" else TORCH_DEFAULT
        torch = template.format(packages=packages).rstrip()
    else:
        torch = TORCH_NONE
    return SETUP_SH.format(
        requirement=requirement,
        torch=torch,
        extra_words=f" with the {spec.extra} extra" if spec.extra else "",
        prefetch=PREFETCH if spec.uses_mnist else "",
    )


def torch_requirements(extra: str | None) -> list[str]:
    """PyTorch's packages in ``extra`` as nngrade declares them (pyproject's ranges)."""
    if not extra:
        return []
    import importlib.metadata

    from packaging.requirements import Requirement

    found = []
    for line in importlib.metadata.requires("nngrade") or ():
        requirement = Requirement(line)
        marker = requirement.marker
        if requirement.name in ("torch", "torchvision") and (
            marker is not None and marker.evaluate({"extra": extra})
        ):
            found.append(f"{requirement.name}{requirement.specifier}")
    return found


def build_bundle(
    assignment: str,
    output: Path,
    secrets: Path | None = None,
    *,
    torch_build: str = "cpu",
    data_dir: Path | None = None,
) -> Path:
    """Write the autograder zip for ``assignment`` to ``output``; with ``data_dir``, the
    MNIST files found there travel in it (for a platform that cannot download them)."""
    spec = catalog.spec(assignment)
    files: dict[str, bytes] = {
        "setup.sh": setup_script(assignment, torch_build).encode(),
        "run_autograder": RUN_AUTOGRADER.format(assignment=assignment).encode(),
    }
    if data_dir is not None and spec.uses_mnist:
        files.update(mnist_files(data_dir))
    # The running nngrade, from a wheel or a checkout alike (never the reference solutions).
    files.update({f"nngrade/{name}": data for name, data in source_tree().items()})
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


def mnist_files(data_dir: Path) -> dict[str, bytes]:
    """The four MNIST files under ``data_dir`` (torchvision's layout), as bundle members."""
    from graders.data.mnist import FILE_NAMES

    raw = Path(data_dir) / "MNIST" / "raw"
    files: dict[str, bytes] = {}
    missing = []
    for name in (name for pair in FILE_NAMES.values() for name in pair):
        found = next((raw / n for n in (name, f"{name}.gz") if (raw / n).is_file()), None)
        if found is None:
            missing.append(name)
        else:
            files[f"data/MNIST/raw/{found.name}"] = found.read_bytes()
    if missing:
        raise FileNotFoundError(
            f"--with-data: {', '.join(missing)} (or .gz) not found in {raw}; point --data-dir "
            "at the folder that holds MNIST/raw/"
        )
    return files


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


def submitter(root: Path) -> str:
    """Who submitted, from Gradescope's ``submission_metadata.json`` (the first user's id,
    else e-mail): with a secret seed, each student's inputs are their own."""
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        user = metadata["users"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""
    if not isinstance(user, dict):
        return ""
    return str(user.get("id") or user.get("email") or "")[:200]


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
    options = GradeOptions(
        data_dir=data_dir, secrets_file=secrets, student_id=submitter(root)
    ).for_shared_grading()
    with tempfile.TemporaryDirectory(prefix=owned_prefix("gradescope")) as scratch:
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
    with stopped_by_signals(), tidy_work_folders():
        try:
            return run(args.assignment, args.root, args.data_dir, args.secrets)
        except KeyboardInterrupt as stopped:  # Gradescope's time limit: clean up, then go
            print(f"nngrade: {stopped or 'interrupted'}", file=sys.stderr)
            return stopped.exit_status if isinstance(stopped, Stopped) else 130


if __name__ == "__main__":
    sys.exit(main())
