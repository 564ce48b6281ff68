"""The grader's own memory while it grades each reference solution, against its bound.

A batch job bounds its own private writable memory (``RLIMIT_DATA``,
``graders.core.own_memory.GRADER_DATA_BYTES``); this measures what the grading process of
``nngrade check aN`` holds at its peak (sampled 10 times a second from ``/proc``): VmData
is what the bound counts, VmSize the address space an ``RLIMIT_AS`` would have counted.
Workers are separate processes with their own limits: the last column adds their resident
memory to the grader's (the peak of the sum, what one batch job takes of the machine's
memory; ``--jobs auto`` reads it from ``AssignmentSpec.job_memory_bytes``).

    python bench/grader_memory.py            # writes its section of bench/RESULTS.md
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

from graders import catalog  # noqa: E402
from graders.core.own_memory import GRADER_DATA_BYTES  # noqa: E402
from graders.sandbox import processes  # noqa: E402

FIELDS = ("VmData", "VmRSS", "VmSize")


def status_fields(pid: int) -> dict[str, int]:
    """The memory fields (KiB) of ``pid``'s status; empty when it is gone or unreadable."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in FIELDS:
            found[key] = int(value.split()[0])
    return found


def peak_of(command: list[str]) -> tuple[int, dict[str, int]]:
    """The exit status of ``command``, the peak of each field (KiB) of its process, and
    (``tree``) the peak of the resident memory of it and all its descendants together."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = dict.fromkeys((*FIELDS, "tree"), 0)
    while process.poll() is None:
        for key, value in status_fields(process.pid).items():
            peak[key] = max(peak[key], value)
        tree = {process.pid} | processes.descendants(process.pid)
        peak["tree"] = max(peak["tree"], sum(status_fields(p).get("VmRSS", 0) for p in tree))
        time.sleep(0.1)
    return process.returncode, peak


def main() -> None:
    data = REPO.parent / "shared" / "data"
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for key in catalog.assignment_keys():
            command = [sys.executable, "-m", "graders.cli", "check", key,
                       "--submission", str(REPO / "reference"), "--data-dir", str(data),
                       "--no-download", "--no-progress", "--format", "json",
                       "--output", str(Path(scratch, f"{key}.json"))]  # fmt: skip
            status, peak = peak_of(command)
            row = (
                f"| {key} | {status} | "
                + " | ".join(f"{peak[f] / 1024:.0f}" for f in FIELDS)
                + f" | {peak['VmData'] * 1024 / GRADER_DATA_BYTES:.0%} | {peak['tree'] / 1024:.0f} |"
            )
            print(row, flush=True)
            rows.append(row)
    body = (
        f"The grading process of `nngrade check aN reference`; its bound in a batch job: "
        f"{GRADER_DATA_BYTES / 2**30:g} GiB of VmData (`RLIMIT_DATA`). The last column is the "
        "peak of the grader's and its workers' resident memory together.\n\n"
        "| assignment | exit | peak VmData MiB | peak VmRSS MiB | peak VmSize MiB | of the bound "
        "| with workers, peak RSS MiB |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("bench/grader_memory.py", body)


if __name__ == "__main__":
    main()
