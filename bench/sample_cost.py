"""Sample cost: the CPU time per extra sample the kernel counts for a worker, which decides
the vectorization criteria of a2 and a3 together with the line counter
(graders/core/sample_cost.py). The limits must sit well above whole-array code and well
below loops over samples, alone and on a busy machine.

For the references, correct a3 solutions in five other styles (tests/similarity_solutions)
and loops over samples of several costs (the seeded loops of the tests), each function is
measured REPEATS times, on new inputs each time as grading measures, on the graders' own tiny problems, alone
and beside 2 CPU hogs; the table gives the lowest and highest µs per extra sample and
the limit. Only the fastest of up to three measures counts in grading, so a loop must
stay over the limit at its lowest and whole-array code under it at its highest.

Run: python bench/sample_cost.py [--repeats 5] [--hogs 2] [--no-write]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from helpers import REFERENCE, build_submission, replace_once  # noqa: E402
from results_file import write_section  # noqa: E402
from threads import hogs  # noqa: E402

from graders.a2 import ASSIGNMENT as A2  # noqa: E402
from graders.a2.grader import MODULE as A2_MODULE  # noqa: E402
from graders.a2.grader import TinyPerceptron  # noqa: E402
from graders.a3 import ASSIGNMENT as A3  # noqa: E402
from graders.a3.grader import MODULE as A3_MODULE  # noqa: E402
from graders.a3.grader import PROBES as A3_PROBES  # noqa: E402
from graders.a3.grader import TinyNetwork  # noqa: E402
from graders.core import sample_cost  # noqa: E402
from graders.core.context import GradingContext  # noqa: E402
from graders.core.submission import stage  # noqa: E402
from graders.core.vectorization import CALL_WITH_CONSTANTS, LOOP_COST_S, with_constants  # noqa: E402
from graders.sandbox.confinement import select  # noqa: E402

A2_GRADIENTS = "    error = P - Y\n    return X.T @ error / len(X), error.mean(axis=0)\n"
#: name -> (assignment, edits of its module), as the tests seed them.
SUBMISSIONS: dict[str, tuple[str, Callable[[str], str] | None]] = {
    "a2 reference": ("a2", None),
    "a2 forward: a row at a time": (
        "a2",
        replace_once(
            "    return softmax(X @ W + b)\n",
            "    return np.array([softmax(x @ W + b) for x in X])\n",
        ),
    ),
    "a2 gradients: np.outer per sample": (
        "a2",
        replace_once(
            A2_GRADIENTS,
            "    dW = np.zeros((X.shape[1], P.shape[1]))\n    db = np.zeros(P.shape[1])\n"
            "    for i in range(len(X)):\n        dW += np.outer(X[i], P[i] - Y[i])\n"
            "        db += P[i] - Y[i]\n    return dW / len(X), db / len(X)\n",
        ),
    ),
    "a2 train: a running loss per sample": (
        "a2",
        replace_once(
            "            P = forward(X[batch], W, b)\n",
            "            P = forward(X[batch], W, b)\n            for i in range(len(batch)):\n"
            "                _loss = -np.log(P[i, y[batch[i]]] + 1e-12)\n",
        ),
    ),
    "a3 reference": ("a3", None),
    "a3 backward: db as a sum of rows": (
        "a3",
        replace_once(
            '        grads[f"db{i}"] = delta.sum(axis=0)\n',
            '        grads[f"db{i}"] = sum(delta[n] for n in range(len(delta)))\n',
        ),
    ),
    "a3 train: a running loss per sample": (
        "a3",
        replace_once(
            "            P, cache = forward(params, X[batch], train=True, rng=rng)\n",
            "            P, cache = forward(params, X[batch], train=True, rng=rng)\n"
            "            for i in range(len(batch)):\n"
            "                _sample_loss = -np.log(P[i, y[batch[i]]] + 1e-12)\n",
        ),
    ),
}


#: Correct a3 solutions written in other styles (the similarity tests' independent ones):
#: whole-array code however it is organised must stay well under the limits.
STYLES = REPO / "tests" / "similarity_solutions"
SUBMISSIONS.update(
    {
        f"a3 {path.stem.removeprefix('a3_')} style (correct)": (
            "a3",
            lambda _text, path=path: path.read_text(),
        )
        for path in sorted(STYLES.glob("a3_*.py"))
    }
)


def probes(assignment: str, rng: np.random.Generator) -> dict[str, tuple[str, Callable, float]]:
    """function -> (target, tiny problem, limit), as the graders measure them."""
    if assignment == "a2":
        tiny = TinyPerceptron(rng)
        return {
            "forward": (f"{A2_MODULE}:forward", tiny.forward, LOOP_COST_S),
            "gradients": (f"{A2_MODULE}:gradients", tiny.gradients, LOOP_COST_S),
            "train": (CALL_WITH_CONSTANTS, _train(f"{A2_MODULE}:train", tiny.train), LOOP_COST_S),
        }
    tiny = TinyNetwork(rng)
    return {
        "forward/backward": (f"{A3_PROBES}:forward_backward", tiny.forward_backward, LOOP_COST_S),
        "train": (
            CALL_WITH_CONSTANTS,
            _train(f"{A3_MODULE}:train", tiny.train),
            TinyNetwork.TRAIN_LOOP_COST_S,
        ),
    }


def _train(target: str, tiny: Callable) -> Callable[[int, int], tuple]:
    """The probe's arguments for ``n`` samples (new ones each ``draw``), built as the
    graders build them."""
    return lambda n, draw: with_constants(target, *tiny(n, draw))


def measure_all(folder: Path, repeats: int) -> dict[tuple[str, str], list[float]]:
    """(submission, function) -> µs per extra sample of each repeat."""
    costs: dict[tuple[str, str], list[float]] = {}
    for name, (assignment, edit) in SUBMISSIONS.items():
        edits = {f"{assignment}/{'perceptron' if assignment == 'a2' else 'mlp'}.py": edit}
        submission = build_submission(
            folder / name.replace(" ", "_").replace(":", ""),
            REFERENCE,
            assignment,
            edits if edit else None,
        )
        spec = A2 if assignment == "a2" else A3
        staged = stage(submission, spec)
        context = GradingContext(spec, staged, select("auto"))
        try:
            sandbox = context.sandbox("numpy")
            rng = np.random.default_rng(0)
            for function, (target, tiny, _) in probes(assignment, rng).items():
                large = int(rng.integers(*sample_cost.LARGE))
                for _ in range(repeats):
                    cost = sample_cost.measure(sandbox, target, tiny, large, function, math.inf)
                    costs.setdefault((name, function), []).append(
                        cost.microseconds if cost else math.nan
                    )
        finally:
            context.close()
            staged.cleanup()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        alone = measure_all(Path(folder) / "alone", args.repeats)
        with hogs(args.hogs):
            busy = measure_all(Path(folder) / "busy", args.repeats)
    limits = {
        (assignment, function): limit * 1e6
        for assignment in ("a2", "a3")
        for function, (_, _, limit) in probes(assignment, np.random.default_rng(0)).items()
    }
    rows = [
        "| submission | function | alone, µs per sample (min–max) | "
        f"beside {args.hogs} hogs (min–max) | limit |",
        "|---|---|---|---|---|",
    ]
    for (name, function), values in alone.items():
        hogged = busy[name, function]
        rows.append(
            f"| {name} | {function} | {min(values):.2f}–{max(values):.2f} | "
            f"{min(hogged):.2f}–{max(hogged):.2f} | {limits[name[:2], function]:.1f} |"
        )
    table = "\n".join(rows)
    print(table)
    if not args.no_write:
        write_section(
            "bench/sample_cost.py",
            f"CPU time per extra sample counted by the kernel for the worker, {args.repeats} "
            "measures each (between ~2,000 and ~200,000 samples of the graders' tiny "
            "problems; a2: 4 features, 3 classes; a3: a 4-8-3 network, a 4-8-10 one in "
            "train). A loop over samples loses the point when even its fastest measure is "
            "over the limit; whole-array code must stay under it at its slowest. The loops "
            "under the limit (a sum of rows, a running loss of one scalar expression) are "
            "caught by the line counter, which student code could blind (README, Known "
            "limits).\n\n" + table,
        )


if __name__ == "__main__":
    main()
