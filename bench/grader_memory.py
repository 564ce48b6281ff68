"""The grader's own memory while it grades each reference solution, against its bound.

A batch job bounds its own private writable memory (``RLIMIT_DATA``,
``graders.core.own_memory.GRADER_DATA_BYTES``); this measures what the grading process of
``nngrade check aN`` holds at its peak (sampled 10 times a second from ``/proc``): VmData
is what the bound counts, VmSize the address space an ``RLIMIT_AS`` would have counted.
Workers are separate processes with their own limits and are not included.

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

FIELDS = ("VmData", "VmRSS", "VmSize")


def peak_of(command: list[str]) -> tuple[int, dict[str, int]]:
    """The exit status of ``command`` and the peak of each field (KiB) of its process."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = dict.fromkeys(FIELDS, 0)
    while process.poll() is None:
        try:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in peak:
                    peak[key] = max(peak[key], int(value.split()[0]))
        except OSError:
            pass
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
                + f" | {peak['VmData'] * 1024 / GRADER_DATA_BYTES:.0%} |"
            )
            print(row, flush=True)
            rows.append(row)
    body = (
        f"The grading process of `nngrade check aN reference` (workers not included); its bound "
        f"in a batch job: {GRADER_DATA_BYTES / 2**30:g} GiB of VmData (`RLIMIT_DATA`).\n\n"
        "| assignment | exit | peak VmData MiB | peak VmRSS MiB | peak VmSize MiB | of the bound |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("bench/grader_memory.py", body)


if __name__ == "__main__":
    main()
