"""A soak of a real class: 300 a1 submissions, 10 of them hostile, graded with ``--jobs 2``.

The hostile ones try, each in its own way, to take the grading server down: an answer that
decodes to gigabytes (one blob referred to a thousand times), the disk filled by each route
the scratch watcher counts (files, a burst of reservations, files deleted but held open,
files below a path longer than PATH_MAX, folders swollen and emptied), memory filled, a
fork and an exec, an endless loop and an endless flood of output. While the class is graded, the grader's own processes
(the driver and its jobs; the workers are the students' and have their own limits) are
sampled from ``/proc`` 4 times a second, and so is the disk of the work folder.

Run once per strong layer this machine has (bubblewrap: the scratch is a tmpfs, in memory;
Landlock: a folder on disk, as on Gradescope). What must hold, and is printed and written
to ``bench/RESULTS.md``: every honest student has
full marks; every hostile one is graded (an outcome, not a lost job) with less; the grader's
peak memory stays within its jobs' bound and the disk within ``--jobs`` scratch limits;
nothing is left behind (no folder of the grader's, no process).

    python bench/soak.py [--honest 290] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

import attacks  # noqa: E402
from helpers import inject_at_start  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.a1 import ASSIGNMENT as A1  # noqa: E402
from graders.batch.records import StudentRecord  # noqa: E402
from graders.batch.run import BatchOptions, grade_class  # noqa: E402
from graders.core.options import GradeOptions  # noqa: E402
from graders.core.own_memory import GRADER_DATA_BYTES  # noqa: E402
from graders.sandbox import confinement  # noqa: E402
from graders.sandbox.workspace import base_folder  # noqa: E402

#: What each hostile student puts first in a1's ``trace`` (pure.py, or vectorized.py for the
#: reply forgery): the attacks of the hostile-submission tests (``tests/attacks.py``), and
#: a few of the soak's own.
HOSTILE = {
    "alias bomb (1 MiB on the wire, 1 GiB decoded)": ("a1/vectorized.py", attacks.ALIAS_BOMB),
    "disk: 40 files of 60 MiB": ("a1/pure.py", attacks.FILL_SCRATCH),
    "disk: a burst of reservations": ("a1/pure.py", attacks.DISK_BURST),
    "disk: deleted files held open": ("a1/pure.py", attacks.HIDDEN_DISK["deleted, held open"]),
    "disk: below PATH_MAX": ("a1/pure.py", attacks.HIDDEN_FROM_A_WALK["below PATH_MAX"]),
    "disk: swollen and emptied folders": (
        "a1/pure.py",
        attacks.HIDDEN_FROM_A_WALK["in emptied folders"],
    ),
    "memory fill": ("a1/pure.py", "_hog = []\n    while True: _hog.append(bytearray(2**26))"),
    "fork and exec": (
        "a1/pure.py",
        "import os\n    os.fork() or os.execv('/bin/sh', ['sh', '-c', 'sleep 100'])",
    ),
    "endless loop": ("a1/pure.py", "while True: pass"),
    "output flood": ("a1/pure.py", "while True: print('x' * 10000)"),
}


def build_class(root: Path, honest: int) -> dict[str, str]:
    """The class folder; student -> what kind of submission it is."""
    kinds = {}
    for index in range(honest):
        student = f"honest-{index:03d}"
        shutil.copytree(REPO / "reference" / "a1", root / student / "a1")
        kinds[student] = "honest"
    for index, (what, (file, code)) in enumerate(HOSTILE.items()):
        student = f"hostile-{index:02d}"
        shutil.copytree(REPO / "reference" / "a1", root / student / "a1")
        path = root / student / file
        path.write_text(inject_at_start("trace", code)(path.read_text()))
        kinds[student] = what
    return kinds


@dataclass
class Peaks:
    """What the grader's own processes and the work folder's disk reached."""

    grader_rss: int = 0
    job_data: int = 0
    disk: int = 0
    tmpfs: int = 0
    samples: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def _status(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmData"):
                values[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return values


def _grader_processes() -> list[int]:
    """This driver and its grading jobs (``python -m graders.batch.job``)."""
    found = [os.getpid()]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"graders.batch.job" in command:
            found.append(int(entry))
    return found


def _disk_used(folder: Path) -> int:
    usage = os.statvfs(folder)
    return (usage.f_blocks - usage.f_bfree) * usage.f_frsize


def _shared_memory() -> int:
    """The machine's tmpfs and shared memory (``Shmem`` in /proc/meminfo), in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(peaks: Peaks, folder: Path) -> None:
    baseline, shared = _disk_used(folder), _shared_memory()
    while not peaks.stop.wait(0.25):
        peaks.tmpfs = max(peaks.tmpfs, _shared_memory() - shared)
        statuses = [_status(pid) for pid in _grader_processes()]
        peaks.grader_rss = max(peaks.grader_rss, sum(s.get("VmRSS", 0) for s in statuses))
        jobs = [s.get("VmData", 0) for s in statuses[1:]]
        peaks.job_data = max([peaks.job_data, *jobs])
        peaks.disk = max(peaks.disk, _disk_used(folder) - baseline)
        peaks.samples += 1


def leftovers(before: set[str]) -> list[str]:
    folders = sorted(p.name for p in base_folder().glob("nngrade-*") if p.name not in before)
    processes = [pid for pid in _grader_processes() if pid != os.getpid()]
    return folders + [f"process {pid}" for pid in processes]


@dataclass
class Soak:
    """One class graded under one confinement: what held, and what it reached."""

    layer: str
    seconds: float
    graded: int
    honest_full: int
    honest_total: int
    hostile: dict[str, tuple[str, float | None]]
    peaks: Peaks
    left: list[str]


def soak(layer: str, honest: int, jobs: int) -> Soak:
    before = {p.name for p in base_folder().glob("nngrade-*")}
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        root = Path(scratch)
        kinds = build_class(root / "class", honest)
        peaks = Peaks()
        sampler = threading.Thread(target=sample, args=(peaks, base_folder()), daemon=True)
        sampler.start()
        started = time.monotonic()
        report = grade_class(
            BatchOptions(
                ("a1",),
                root / "class",
                root / "out",
                jobs=jobs,
                grading=GradeOptions(confinement=layer).for_shared_grading(),
                force=True,
                progress=False,
            )  # fmt: skip
        )
        seconds = time.monotonic() - started
        peaks.stop.set()
        sampler.join()
        time.sleep(1)
        hostile, full, total = {}, 0, 0
        for student, kind in kinds.items():
            record = StudentRecord.load(root / "out" / "students" / f"{student}.json")
            outcome = record.outcomes.get("a1") if record else None
            points = (outcome.result or {}).get("points") if outcome else None
            if kind == "honest":
                total += 1
                full += points == A1.points
            else:
                hostile[kind] = (outcome.status.value if outcome else "missing", points)
    return Soak(layer, seconds, report.graded, full, total, hostile, peaks, leftovers(before))


def verdicts(run: Soak, jobs: int) -> dict[str, bool]:
    # Per job: the limit and what a worker can write between two looks of its watcher (the
    # size of bubblewrap's tmpfs, which the kernel enforces).
    bound = jobs * A1.limits.scratch_tmpfs_bytes
    return {
        "every honest student full marks": run.honest_full == run.honest_total,
        "every hostile student graded, with less": all(
            status == "ok" and points is not None and points < A1.points
            for status, points in run.hostile.values()
        ),
        f"each job within its {GRADER_DATA_BYTES / 2**30:g} GiB bound": run.peaks.job_data
        <= GRADER_DATA_BYTES,
        f"scratch (disk and tmpfs) within {jobs} x {bound // jobs // 2**20} MiB": max(
            run.peaks.disk, run.peaks.tmpfs
        )
        <= bound,
        "nothing left behind": not run.left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--honest", type=int, default=290)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--layers", nargs="+", default=None,
                        help="default: every strong layer this machine has")  # fmt: skip
    args = parser.parse_args()
    layers = args.layers or [
        kind for kind in ("bubblewrap", "landlock")
        if confinement.available(kind)
        and not confinement.build(kind).missing(confinement.STRICT_LAYERS)
    ]  # fmt: skip
    runs = [soak(layer, args.honest, args.jobs) for layer in layers]
    mib = 2**20
    head = "| | " + " | ".join(r.layer for r in runs) + " |\n|---|" + "---|" * len(runs) + "\n"
    rows = [
        ("seconds", [f"{r.seconds:.0f}" for r in runs]),
        ("graded", [str(r.graded) for r in runs]),
        ("honest students with full marks", [f"{r.honest_full} of {r.honest_total}" for r in runs]),
        ("grader's peak memory (driver and jobs, RSS)", [f"{r.peaks.grader_rss / mib:.0f} MiB" for r in runs]),
        ("largest job's VmData (bound 4096 MiB)", [f"{r.peaks.job_data / mib:.0f} MiB" for r in runs]),
        ("disk at its peak, above the start", [f"{r.peaks.disk / mib:.0f} MiB" for r in runs]),
        ("tmpfs (shared memory) at its peak", [f"{r.peaks.tmpfs / mib:.0f} MiB" for r in runs]),
        ("left behind", [", ".join(r.left) or "nothing" for r in runs]),
    ]  # fmt: skip
    rows += [
        (f"hostile: {kind}", [f"{r.hostile[kind][0]}, {r.hostile[kind][1]}" for r in runs])
        for kind in HOSTILE
    ]
    checks = {layer: verdicts(r, args.jobs) for layer, r in zip(layers, runs, strict=True)}
    body = (
        f"`nngrade grade` of a1 for {args.honest} honest and {len(HOSTILE)} hostile "
        f"submissions, `--jobs {args.jobs}`, every strict layer required, once per layer. "
        "Under bubblewrap the scratch is a tmpfs (memory), under Landlock a folder on disk; "
        "hostile rows give the outcome and the points (of 10).\n\n"
        + head
        + "\n".join(f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows)
        + "\n\n"
        + "\n".join(
            f"- {layer}: " + "; ".join(f"{'yes' if ok else 'NO'}: {what}" for what, ok in c.items())
            for layer, c in checks.items()
        )
    )
    print(body)
    write_section("bench/soak.py", body)
    sys.exit(0 if all(all(c.values()) for c in checks.values()) else 1)


if __name__ == "__main__":
    main()
