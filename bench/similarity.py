"""`nngrade similarity` on a synthetic class of assignment 3: time and ranking quality.

The class (tests/similarity_class.py) is built from six independent correct solutions of
a3/mlp.py (the reference and five hand-written ones) and disguised copies of each: renamed
identifiers, reordered functions, rewritten comments and whitespace, swapped loop forms
(for <-> while), and combinations, each copy with its own seed. A pair is a copy when both
derive from the same solution. The run is timed end to end (reading the folders, template
subtraction, all pairs, fragments of the top 100, both report files).

Run: python bench/similarity.py [--size 300] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

import numpy as np  # noqa: E402
import similarity_class as sc  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.similarity.run import SimilarityOptions, SimilarityReport, run  # noqa: E402

FULL = "+".join(sc.COMBINATIONS[0])


def measure(
    root: Path, out: Path, repeat: int
) -> tuple[list[float], list[float], SimilarityReport]:
    """Wall and CPU seconds of each run, and the last run's report."""
    walls, cpus = [], []
    report = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        report = run(SimilarityOptions("a3", root, out))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert report is not None
    return walls, cpus, report


def quality(report: SimilarityReport, families: dict[str, str]) -> dict[str, object]:
    ranking = report.ranking
    names = [s.student for s in ranking.students]
    family = np.array([families[n] for n in names])
    first, second = np.triu_indices(len(names), k=1)
    scores = ranking.similarity[first, second]
    copy = family[first] == family[second]
    order = np.argsort(-scores, kind="stable")
    true_pairs = int(copy.sum())
    reference = names.index("reference")
    disguised = next(i for i, n in enumerate(names) if n.startswith("reference-") and FULL in n)
    pair_score = float(ranking.similarity[reference, disguised])
    return {
        "students": len(names),
        "pairs": len(scores),
        "true_pairs": true_pairs,
        "lowest_copy": float(scores[copy].min()),
        "highest_independent": float(scores[~copy].max()),
        "separated": bool(scores[copy].min() > scores[~copy].max()),
        "precision": float(copy[order[:true_pairs]].mean()),
        "reference_pair": (names[disguised], pair_score, int((scores > pair_score).sum()) + 1),
        "in_group": any(reference in g and disguised in g for g in ranking.groups),
        "groups": [len(g) for g in ranking.groups],
    }


def by_disguise(report: SimilarityReport, families: dict[str, str]) -> list[str]:
    """Rows: each combination of disguises, the similarity of a copy to its original."""
    ranking = report.ranking
    index = {s.student: i for i, s in enumerate(ranking.students)}
    rows = []
    for kinds in sc.COMBINATIONS:
        label = "+".join(kinds)
        scores = [
            float(ranking.similarity[index[families[name]], i])
            for name, i in index.items()
            if name != families[name] and name.endswith("-" + label)
        ]
        if scores:
            rows.append(
                f"| {label.replace('+', ', ')} | {len(scores)} | {min(scores):.2f} | "
                f"{statistics.mean(scores):.2f} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=300, help="submissions in the class")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as scratch:
        root = Path(scratch) / "class"
        started = time.perf_counter()
        families = sc.family_class(root, args.size)
        print(f"class of {args.size} built in {time.perf_counter() - started:.0f} s")
        walls, cpus, report = measure(root, Path(scratch) / "out", args.repeat)
        found = quality(report, families)
        disguises = by_disguise(report, families)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    load = os.getloadavg()[0]
    name, score, rank = found["reference_pair"]
    lines = [
        f"time: {wall:.1f} s wall, {cpu:.1f} s CPU (median of {args.repeat})",
        f"{found['pairs']:,} pairs, {found['true_pairs']:,} of them copies; lowest copy "
        f"{found['lowest_copy']:.3f}, highest independent {found['highest_independent']:.3f}; "
        f"every copy above every independent pair: {found['separated']}",
        f"precision at {found['true_pairs']:,}: {found['precision']:.3f}",
        f"reference vs {name}: {score:.3f}, rank {rank}, in a group: {found['in_group']}",
        f"groups: {found['groups']}",
    ]
    print("\n".join(lines + disguises))
    body = "\n".join(
        [
            f"`nngrade similarity a3` on a synthetic class of {found['students']} submissions: "
            f"{len(sc.SOLUTIONS)} independent correct solutions of `a3/mlp.py` (the reference "
            "and five hand-written ones in `tests/similarity_solutions/`) and disguised copies "
            "of each, every copy with its own seed (`tests/similarity_class.py`). Timed end to "
            "end: reading the folders, template subtraction, all pairs, fragments of the top "
            f"100 pairs, both report files. One process; the machine's load average was "
            f"{load:.1f} during the run (wall time beyond CPU time is waiting for a core).",
            "",
            "| submissions | pairs | wall s | CPU s |",
            "|---|---|---|---|",
            f"| {found['students']} | {found['pairs']:,} | {wall:.1f} | {cpu:.1f} |",
            "",
            "Ranking quality (a pair is a copy when both derive from the same solution; copies "
            "of one solution are copies of each other too):",
            "",
            "| measure | value |",
            "|---|---|",
            f"| pairs that are copies | {found['true_pairs']:,} of {found['pairs']:,} |",
            f"| lowest similarity of a copy pair | {found['lowest_copy']:.3f} |",
            f"| highest similarity of an independent pair | {found['highest_independent']:.3f} |",
            f"| every copy pair ranks above every independent pair | "
            f"{'yes' if found['separated'] else 'no'} |",
            f"| precision at {found['true_pairs']:,} (the number of copy pairs) | "
            f"{found['precision']:.3f} |",
            f"| reference vs its copy with every disguise | {score:.3f}: rank {rank:,} of "
            f"{found['pairs']:,}, {'among' if rank <= found['true_pairs'] else 'below'} the "
            f"copy pairs, {'in a group' if found['in_group'] else 'not grouped'} |",
            f"| groups (threshold 0.5) | {len(found['groups'])}, of "
            f"{', '.join(map(str, sorted(set(found['groups']))))} students |",
            "",
            "Similarity of a copy to its original, by disguise:",
            "",
            "| disguise | copies | lowest | mean |",
            "|---|---|---|---|",
            *disguises,
        ]
    )
    write_section("bench/similarity.py", body)


if __name__ == "__main__":
    main()
