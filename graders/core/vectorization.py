"""Detect a Python loop over samples, two ways that must both agree it is absent.

The executed student lines are counted inside the worker (see probes): that names the
loop's line, and catches even a cheap loop, but student code can blind it. The CPU time
the kernel counts for the worker on a tiny problem (:mod:`graders.core.sample_cost`) it
cannot: a loop that costs what loops over samples cost is caught there whatever the
worker says. Either one seeing a loop loses the point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.core import sample_cost
from graders.core.plugin import CriterionFailed
from graders.sandbox.sandbox import Sandbox, StudentCodeError

COUNT_LINES = "graders.sandbox.inside.probes:count_student_lines"
#: Extra lines allowed for 10x more samples (a few data-dependent branches are fine).
SLACK = 25


def _probe(sandbox: Sandbox, probe: str, args: tuple, what: str, timeout: float | None = None):
    """Call a line-count probe; a probe that student code switched off scores 0."""
    try:
        return sandbox.call(probe, args, label=what, timeout=timeout)
    except StudentCodeError as error:
        if error.raised("ProbeDisabled"):
            detail = error.student_raised.message if error.student_raised else ""
            raise CriterionFailed(
                f"{what}: the grader's probe was disabled ({detail}); the grader measures how "
                "many lines your code runs, so it must not change sys.settrace/sys.setprofile"
            ) from None
        raise


#: CPU time per sample above which a function on a tiny problem loops over samples.
LOOP_COST_S = 2.5e-6
#: Arguments of a function for ``n`` samples of a tiny problem, drawn afresh each time.
TinyProblem = sample_cost.TinyProblem


def require_flat_cost(
    sandbox: Sandbox,
    target: str,
    tiny: TinyProblem,
    what: str,
    rng: np.random.Generator,
    limit_s: float = LOOP_COST_S,
    comparable: Callable[[Any], bool] = lambda answer: True,
    check: sample_cost.AnswerCheck | None = None,
    real: tuple | None = None,
) -> None:
    """Fail when ``target`` on ``tiny(n, draw)`` costs more CPU per extra sample than
    ``limit_s``, as the kernel counts it for the worker (see sample_cost.measure), or
    fails on the tiny problem, or answers it otherwise than ``check`` expects while it
    answers the real problem's arguments ``real`` right (a function that is wrong
    everywhere loses its points where its answers are graded, not here)."""
    large = int(rng.integers(*sample_cost.LARGE))
    try:
        cost = sample_cost.measure(sandbox, target, tiny, large, what, limit_s, comparable, check)
    except sample_cost.TinyProblemFailed as failure:
        wrong_everywhere = (
            failure.wrong_answer
            and real is not None
            and check is not None
            and not _answers_right(sandbox, target, real, check, what)
        )
        if wrong_everywhere:
            return
        raise CriterionFailed(failure.reason) from None
    if cost is not None and cost.per_sample_s > limit_s:
        raise CriterionFailed(sample_cost.loop_reason(what, cost, limit_s))


def require_no_sample_loop(
    sandbox: Sandbox,
    target: str,
    small: tuple,
    large: tuple,
    what: str,
    tiny: TinyProblem | None = None,
    rng: np.random.Generator | None = None,
    check: sample_cost.AnswerCheck | None = None,
) -> None:
    """Fail when ``target`` runs many more student lines on ``large`` than on ``small``,
    or (given a ``tiny`` problem) costs the CPU time of a loop per extra sample, fails on
    it or answers it otherwise than ``check`` expects while it answers ``small`` (the
    real problem's shape) right (see :func:`require_flat_cost`)."""
    few = _probe(sandbox, COUNT_LINES, (target, list(small), {}), what)
    many = _probe(sandbox, COUNT_LINES, (target, list(large), {}), what)
    if not isinstance(few, int) or not isinstance(many, int):
        raise CriterionFailed(f"{what}: could not count the lines it executes")
    if many > few + SLACK:
        raise CriterionFailed(
            f"{what} loops over samples in Python: it ran {few} lines of your code for the "
            f"small batch and {many} for a batch 10x larger; use matrix operations instead"
        )
    if tiny is not None:
        require_flat_cost(
            sandbox, target, tiny, what, rng or np.random.default_rng(0),
            check=check, real=small,
        )  # fmt: skip


def _answers_right(
    sandbox: Sandbox, target: str, args: tuple, check: sample_cost.AnswerCheck, what: str
) -> bool:
    """Whether ``target`` answers ``args`` as ``check`` expects (asked only when its answers
    on the tiny problem were wrong)."""
    try:
        answer = sandbox.call(target, args, label=what)
    except StudentCodeError:
        return False
    return check(args, answer) == ""


PROFILE_LINES = "graders.sandbox.inside.probes:line_profile"
CALL_WITH_CONSTANTS = "graders.sandbox.inside.probes:call_with_constants"
#: A short train of ten batches, traced: a second or less for any train that trains.
PROFILE_TIMEOUT_S = 20.0
#: A train that ignores a constant runs exactly the same lines when the constant changes
#: (same samples, same seed); one that reads it runs at least a loop line per extra batch,
#: ten of them on the small run.
IGNORED_SLACK = 5
#: How each required constant is changed to see whether train reads it: half the batch
#: size or twice the epochs both double the number of batches of a train that does.
CHANGES = {"EPOCHS": lambda epochs: epochs * 2, "BATCH_SIZE": lambda size: max(1, size // 2)}


def require_no_sample_loop_in_train(
    sandbox: Sandbox,
    target: str,
    runs: tuple[tuple[tuple, dict], tuple[tuple, dict]],
    what: str = "train",
    tiny: Callable[[int, int], tuple[tuple, dict]] | None = None,
    rng: np.random.Generator | None = None,
    limit_s: float = LOOP_COST_S,
    comparable: Callable[[Any], bool] = lambda answer: True,
    check: sample_cost.AnswerCheck | None = None,
) -> None:
    """Fail when a short ``train`` runs more lines for the same number of batches of 10x
    more samples each; name the line whose count grew most (the loop over samples), or the
    constant that train ignored when that, not a loop, explains the growth.

    ``runs`` holds (args, module constants) for the small and the large run, e.g.
    ``EPOCHS = 1`` and ``BATCH_SIZE`` 20 and 200 for 200 and 2,000 samples. ``tiny(n, draw)``
    gives (args, constants) of a run on ``n`` samples of a tiny problem, ten batches, whose
    CPU time per extra sample the kernel measures (see :func:`require_flat_cost`);
    ``comparable`` tells from the shapes train returned whether it solved that problem.
    """
    profiles = []
    for run in runs:
        profile = _train_profile(sandbox, target, run, what)
        if profile is None:
            # A train that fails is judged (and loses its points) where it is trained;
            # it shows no loop here, so this criterion does not charge for it again.
            return
        profiles.append(profile)
    few, many = profiles[0]["total"], profiles[1]["total"]
    if many <= few + SLACK:
        if tiny is not None:
            require_flat_cost(
                sandbox,
                CALL_WITH_CONSTANTS,
                lambda n, draw: with_constants(target, *tiny(n, draw)),
                what,
                rng or np.random.default_rng(0),
                limit_s,
                comparable,
                check,
            )
        return
    # Only a failing verdict pays for these probes: they say why the count grew.
    ignored = _ignored_constants(sandbox, target, runs[0], few, what)
    if "BATCH_SIZE" in ignored:
        # More batches, not more lines per sample: the runs' batch sizes were not used.
        raise CriterionFailed(_ignored_reason(what, ignored))
    raise CriterionFailed(
        f"{what} loops over samples in Python{_grown_line(profiles)}: for the same number of "
        f"batches it ran {few} lines of your code with batches of {_batch(runs[0])} samples "
        f"and {many} with batches of {_batch(runs[1])}; use matrix operations on whole "
        f"batches{_also_ignored(ignored)}"
    )


def with_constants(target: str, args: tuple, constants: dict) -> tuple:
    """Arguments of the probe that runs ``target(*args, seed=0)`` with ``constants`` set."""
    return (target, list(args), {"seed": 0}, constants)


def _train_profile(
    sandbox: Sandbox, target: str, run: tuple[tuple, dict], what: str
) -> dict | None:
    """The line profile of one short train, or None when train raised."""
    args, constants = run
    try:
        profile = _probe(
            sandbox,
            PROFILE_LINES,
            (target, list(args), {"seed": 0}, constants),
            what,
            PROFILE_TIMEOUT_S,
        )
    except StudentCodeError:
        return None
    if not isinstance(profile, dict) or not isinstance(profile.get("total"), int):
        raise CriterionFailed(f"{what}: could not count the lines it executes")
    return profile


def _grown_line(profiles: list[dict]) -> str:
    """`` at FILE:LINE`` for the line whose count grew most between the two runs."""
    counts: dict[tuple[str, int], list[int]] = {}
    for position, profile in enumerate(profiles):
        for entry in profile.get("lines", [])[:5000]:
            if isinstance(entry, list) and len(entry) == 3:
                key = (str(entry[0])[:200], int(entry[1]))
                counts.setdefault(key, [0, 0])[position] = int(entry[2])
    grown = max(counts.items(), key=lambda item: item[1][1] - item[1][0], default=None)
    return f" at {grown[0][0]}:{grown[0][1]}" if grown else ""


def _ignored_constants(
    sandbox: Sandbox, target: str, run: tuple[tuple, dict], total: int, what: str
) -> dict[str, tuple[int, int]]:
    """The constants of ``run`` that train ignores, each with the two values it was run with.

    ``total`` is the line count of ``run`` as given. A run that raises or whose count is not
    a number tells nothing, so that constant is not named.
    """
    args, constants = run
    ignored = {}
    for name, change in CHANGES.items():
        value = constants.get(name)
        if not isinstance(value, int) or change(value) == value:
            continue
        new = change(value)
        profile = _train_profile(sandbox, target, (args, {**constants, name: new}), what)
        if profile is not None and abs(profile["total"] - total) <= IGNORED_SLACK:
            ignored[name] = (min(value, new), max(value, new))
    return ignored


def _ignored_reason(what: str, ignored: dict[str, tuple[int, int]]) -> str:
    """Which constants train ignored, the runs that show it, and what the statement asks."""
    return (
        f"{what} ignores {' and '.join(ignored)} (it ran the same number of lines of your "
        f"code with {_ignored_runs(ignored)}): "
        "read the module constants EPOCHS and BATCH_SIZE when it runs, as the statement asks "
        "(a default argument such as batch_size=BATCH_SIZE is a copy made once), so the "
        "grader can run a short train"
    )


def _also_ignored(ignored: dict[str, tuple[int, int]]) -> str:
    """A short note (reasons are cut at 400 characters) for a loop over samples in a train
    that also ignores a constant that does not change the batches' size (EPOCHS)."""
    if not ignored:
        return ""
    return (
        f"; it also ignores {' and '.join(ignored)} (the same lines with "
        f"{_ignored_runs(ignored)}): read it when train runs, as the statement asks"
    )


def _ignored_runs(ignored: dict[str, tuple[int, int]]) -> str:
    """``EPOCHS 1 and 2, and with BATCH_SIZE 10 and 20``: the runs that showed it."""
    return ", and with ".join(f"{name} {low} and {high}" for name, (low, high) in ignored.items())


def _batch(run: tuple[tuple, dict]) -> str:
    return str(run[1].get("BATCH_SIZE", "?"))
