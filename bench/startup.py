"""What ``nngrade check`` pays before it grades: the imports of the command line, read with
``python -X importtime`` (the heaviest top-level packages, by cumulative time, median of
``--runs`` fresh interpreters), and whether batch grading or similarity is among them (a
check never uses either); and what a check served by a warm grader pays before it hands
over: the imports of ``graders.launch`` and the computation of its key.

    python bench/startup.py [--runs 7]      # writes its section of bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

#: Packages shown on their own; the rest of ``graders`` and of the standard library is summed.
SHOWN = ("numpy", "pytest", "_pytest", "hypothesis", "graders.batch", "graders.similarity",
         "graders.render", "graders.core", "graders.sandbox", "nbformat", "markdown")  # fmt: skip


def import_times(module: str = "graders.cli") -> tuple[float, dict[str, float]]:
    """Total seconds of ``import MODULE`` and each top-level module's own share."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    own: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if not fields[0].isdigit():
            continue
        seconds, name = int(fields[0]) / 1e6, fields[2].strip()
        group = next((s for s in SHOWN if name == s or name.startswith(s + ".")), None)
        own[group or ("graders (other)" if name.startswith("graders") else "everything else")] += (
            seconds
        )
        total += seconds
    return total, own


def key_seconds() -> float:
    """Seconds of one :func:`graders.warm.key.server_key` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", "import time; from graders.warm.key import server_key; "
         "t = time.perf_counter(); server_key(); print(time.perf_counter() - t)"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    totals, shares = [], defaultdict(list)
    for _ in range(args.runs):
        total, own = import_times()
        totals.append(total)
        for name, seconds in own.items():
            shares[name].append(seconds)
    launch = statistics.median(import_times("graders.launch")[0] for _ in range(args.runs))
    key = statistics.median(key_seconds() for _ in range(args.runs))
    rows = sorted(
        ((name, statistics.median(v + [0.0] * (args.runs - len(v)))) for name, v in shares.items()),
        key=lambda item: -item[1],
    )
    body = (
        f"`python -X importtime -c 'import graders.cli'`: what every `nngrade` command imports "
        f"before it starts, median of {args.runs} fresh interpreters (each module's own time, "
        f"summed by package): {statistics.median(totals):.3f} s in all.\n\n"
        "| package | seconds |\n|---|---|\n"
        + "\n".join(f"| {name} | {seconds:.3f} |" for name, seconds in rows)
        + f"\n\nA check served by a warm grader (`graders.launch`, README) imports "
        f"{launch:.3f} s before it hands over (`import graders.launch`, the standard "
        f"library's socket, json and subprocess included) and computes its key in "
        f"{key * 1000:.1f} ms (a stat of every file of the package and of every sys.path "
        "folder; medians as above)."
    )
    print(body)
    write_section("bench/startup.py", body)


if __name__ == "__main__":
    main()
