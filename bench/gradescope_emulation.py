"""Grade each assignment as Gradescope would: a bare Debian root, the bundle's ``setup.sh``
and ``run_autograder`` run there as a default Docker container's root.

Gradescope builds an image from the bundle (``setup.sh``, as root) and runs
``run_autograder`` for each submission in a container with Docker's default capabilities
(no ``CAP_SYS_PTRACE``, no ``CAP_SYS_ADMIN``) and a seccomp profile that refuses new
namespaces, so bubblewrap cannot start and Landlock alone confines the workers. This
script does the same on this machine (root needed):

1. ``debootstrap --variant=minbase bookworm`` once, into ``--cache`` (reused after);
2. for each assignment, a fresh copy of that root with the host's CA bundle, pip's
   configuration and ``resolv.conf``; ``/proc`` and ``/dev`` mounted; the bundle (built
   from this checkout with ``--with-data``) unpacked in ``/autograder/source``;
3. ``setup.sh``, then ``run_autograder`` on the reference and on the stub, each under
   ``chroot`` with Docker's capabilities and namespaces refused (``tests/container.py``);
4. each ``results.json``: score, the sandbox named in its output, seconds.

The table is printed and written to ``bench/RESULTS.md`` (its own section).

    python bench/gradescope_emulation.py                 # all five
    python bench/gradescope_emulation.py a1 a3 --keep    # leave the roots for a look
    NNGRADE_TORCH_INDEX="" python bench/...              # PyTorch from pip's own index

``NNGRADE_TORCH_INDEX`` is passed to ``setup.sh`` (where PyTorch's CPU index cannot be
reached: "" installs what pip's configured index serves). ``--pin REQ`` (repeatable)
constrains pip inside the root, e.g. ``--pin torch==2.13.0`` to take a CPU build that a
local wheel folder of pip's configuration holds (``2.13.0+cpu`` satisfies ``==2.13.0``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from container import container_root  # noqa: E402

from graders import catalog  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
HOST_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pip.conf",
    "/root/.config/pip/pip.conf",
    "/etc/xdg/pip/constraints.txt",
    "/etc/resolv.conf",
)
#: Folders pip's configuration may point at (local indexes), mounted read-only.
LOCAL_INDEXES = ("/opt/wheels", "/opt/pypi", "/opt/pypi-more")


def mirror() -> str:
    """The Debian mirror apt already uses here."""
    for source in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        with contextlib.suppress(OSError):
            found = re.search(r"(?:URIs:|deb)\s+(https?://\S+/debian)\b", source.read_text())
            if found:
                return found.group(1)
    return "http://deb.debian.org/debian"


def base_root(cache: Path) -> Path:
    base = cache / "bookworm"
    if not (base / "etc" / "debian_version").is_file():
        shutil.rmtree(base, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        print(f"debootstrap into {base} ...", flush=True)
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(base), mirror()], check=True
        )
    return base


def prepare(base: Path, root: Path, bundle: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(root)], check=True)
    for name in HOST_FILES:
        if Path(name).is_file():
            target = root / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(name, target, follow_symlinks=True)
    # setup.sh's ca-certificates rebuilds the system bundle: the host's (which may hold a
    # proxy's authority) stays in force for pip through PIP_CERT, and for the rebuild.
    host_ca = Path(HOST_FILES[0])
    if host_ca.is_file():
        shutil.copy2(host_ca, root / "etc" / "ssl" / "host-ca.crt")
        local = root / "usr" / "local" / "share" / "ca-certificates"
        local.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host_ca, local / "host-ca.crt")
    source = root / "autograder" / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    for script in ("setup.sh", "run_autograder"):
        (source / script).chmod(0o755)
    shutil.copy2(source / "run_autograder", root / "autograder" / "run_autograder")


@contextlib.contextmanager
def mounted(root: Path):
    mounts = []
    try:
        for kind, source, target in [("proc", "proc", "proc"), ("bind", "/dev", "dev")] + [
            ("bind-ro", folder, folder.lstrip("/")) for folder in LOCAL_INDEXES
            if Path(folder).is_dir()
        ]:  # fmt: skip
            where = root / target
            where.mkdir(parents=True, exist_ok=True)
            if kind == "proc":
                subprocess.run(["mount", "-t", "proc", "proc", str(where)], check=True)
            else:
                subprocess.run(["mount", "--bind", source, str(where)], check=True)
                if kind == "bind-ro":
                    subprocess.run(["mount", "-o", "remount,bind,ro", str(where)], check=True)
            mounts.append(where)
        yield
    finally:
        for where in reversed(mounts):
            subprocess.run(["umount", "-l", str(where)], check=False)


#: Where ``--pin`` writes its constraints inside the root.
PINS = "/etc/nngrade-emulation-constraints.txt"


def in_container(root: Path, script: str, log: Path, timeout: int) -> tuple[int, float]:
    """``script`` in ``root`` as a default container's root; its output goes to ``log``."""
    environment = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PIP_CERT": "/etc/ssl/host-ca.crt",
    }
    if "NNGRADE_TORCH_INDEX" in os.environ:
        environment["NNGRADE_TORCH_INDEX"] = os.environ["NNGRADE_TORCH_INDEX"]
    if (root / PINS.lstrip("/")).is_file():
        environment["PIP_CONSTRAINT"] = PINS
    command = container_root(["chroot", str(root), "/bin/bash", "-c", script])
    started = time.monotonic()
    with log.open("w") as output:
        try:
            done = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment,
                timeout=timeout, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = 124
    return code, time.monotonic() - started


def grade(root: Path, key: str, folder: str, logs: Path) -> dict:
    submission = root / "autograder" / "submission"
    results = root / "autograder" / "results"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(results, ignore_errors=True)
    submission.mkdir(parents=True)
    shutil.copytree(REPO / folder / key, submission / key)
    code, seconds = in_container(
        root, "cd /autograder && ./run_autograder", logs / f"{key}-{folder}.log", 3600
    )
    try:
        document = json.loads((results / "results.json").read_text())
    except (OSError, ValueError) as error:
        return {"code": code, "seconds": seconds, "error": str(error)}
    output = document.get("output", "")
    layer = re.search(r"sandboxed: (\w+)", output)
    return {
        "code": code,
        "seconds": seconds,
        "score": document.get("score"),
        "max": sum(t.get("max_score", 0) for t in document.get("tests", [])),
        "layer": layer.group(1) if layer else "?",
        "grader_errors": sum(
            "internal grader error" in t.get("output", "") for t in document.get("tests", [])
        ),  # fmt: skip
    }


def emulate(key: str, base: Path, work: Path, data_dir: Path, keep: bool, pins: list[str]) -> dict:
    root = work / key
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bundle = work / f"{key}.zip"
    command = [sys.executable, "-m", "graders.cli", "gradescope-bundle", key, "--output",
               str(bundle)]  # fmt: skip
    if catalog.spec(key).uses_mnist:
        command += ["--with-data", "--data-dir", str(data_dir)]
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    prepare(base, root, bundle)
    if pins:
        (root / PINS.lstrip("/")).write_text("\n".join(pins) + "\n")
    row: dict = {"assignment": key, "points": catalog.spec(key).points}
    try:
        with mounted(root):
            code, seconds = in_container(
                root, "cd /autograder/source && ./setup.sh", logs / f"{key}-setup.log", 3600
            )
            row["setup"] = {"code": code, "seconds": seconds}
            if code == 0:
                row["reference"] = grade(root, key, "reference", logs)
                row["stub"] = grade(root, key, "student_template", logs)
        row["size_mb"] = _size_mb(root)  # unmounted: the image alone
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(row), flush=True)
    return row


def _size_mb(root: Path) -> int:
    done = subprocess.run(["du", "-sm", "-x", str(root)], capture_output=True, text=True)
    return int(done.stdout.split()[0]) if done.returncode == 0 else -1


def table(rows: list[dict]) -> str:
    lines = [
        "| assignment | setup.sh | image | reference | stub | sandbox | grader errors | "
        "reference s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        setup = row.get("setup", {})
        reference, stub = row.get("reference", {}), row.get("stub", {})
        lines.append(
            f"| {row['assignment']} | exit {setup.get('code')}, {setup.get('seconds', 0):.0f} s "
            f"| {row.get('size_mb', '?')} MB "
            f"| {reference.get('score', '-')}/{row['points']} | {stub.get('score', '-')} "
            f"| {reference.get('layer', '-')} "
            f"| {reference.get('grader_errors', '-')}, {stub.get('grader_errors', '-')} "
            f"| {reference.get('seconds', 0):.0f} |"
        )
    return "\n".join(lines)


def write_results(text: str) -> None:
    results = REPO / "bench" / "RESULTS.md"
    heading = "## Gradescope, emulated (bench/gradescope_emulation.py)"
    current = results.read_text() if results.exists() else "# Benchmarks\n"
    start = current.find(heading)
    if start >= 0:
        end = current.find("\n## ", start + len(heading))
        current = current[:start].rstrip() + ("\n" + current[end:] if end >= 0 else "\n")
    results.write_text(current.rstrip() + "\n\n" + heading + "\n\n" + text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", default=list(catalog.assignment_keys()))
    parser.add_argument("--cache", type=Path, default=Path("/var/tmp/nngrade-gradescope"))
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--keep", action="store_true", help="leave each root for a look")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md")
    parser.add_argument("--pin", action="append", default=[], metavar="REQ",
                        help="a pip constraint inside the root, e.g. torch==2.13.0")  # fmt: skip
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: debootstrap, chroot and mounts need it")
    base = base_root(args.cache)
    work = Path(tempfile.mkdtemp(prefix="runs-", dir=args.cache))
    rows = [
        emulate(key, base, work, args.data_dir, args.keep, args.pin) for key in args.assignments
    ]
    text = table(rows)
    print(text)
    if not args.no_write:
        index = os.environ.get("NNGRADE_TORCH_INDEX")
        torch_note = (
            "PyTorch's CPU index"
            if index is None
            else ("pip's configured index" if index == "" else f"index {index}")
        )
        note = (
            f"{time.strftime('%Y-%m-%d')}: Debian bookworm minbase, Docker's default "
            "capabilities (CapEff a80425fb), namespaces refused, bundles built with "
            f"--with-data; PyTorch from {torch_note}"
            + (f", pinned {', '.join(args.pin)}" if args.pin else "")
            + "."
        )
        write_results(note + "\n\n" + text)


if __name__ == "__main__":
    main()
