"""Detect a Python loop over samples by counting executed student lines (see probes)."""

from __future__ import annotations

from graders.core.plugin import CriterionFailed
from graders.sandbox.sandbox import Sandbox, StudentCodeError

COUNT_LINES = "graders.sandbox.inside.probes:count_student_lines"
#: Extra lines allowed for 10x more samples (a few data-dependent branches are fine).
SLACK = 25


def _probe(sandbox: Sandbox, probe: str, args: tuple, what: str):
    """Call a line-count probe; a probe that student code switched off scores 0."""
    try:
        return sandbox.call(probe, args, label=what)
    except StudentCodeError as error:
        if error.raised("ProbeDisabled"):
            detail = error.student_raised.message if error.student_raised else ""
            raise CriterionFailed(
                f"{what}: the grader's probe was disabled ({detail}); the grader measures how "
                "many lines your code runs, so it must not change sys.settrace/sys.setprofile"
            ) from None
        raise


def require_no_sample_loop(
    sandbox: Sandbox, target: str, small: tuple, large: tuple, what: str
) -> None:
    """Fail when ``target`` runs many more student lines on ``large`` than on ``small``."""
    few = _probe(sandbox, COUNT_LINES, (target, list(small), {}), what)
    many = _probe(sandbox, COUNT_LINES, (target, list(large), {}), what)
    if not isinstance(few, int) or not isinstance(many, int):
        raise CriterionFailed(f"{what}: could not count the lines it executes")
    if many > few + SLACK:
        raise CriterionFailed(
            f"{what} loops over samples in Python: it ran {few} lines of your code for the "
            f"small batch and {many} for a batch 10x larger; use matrix operations instead"
        )


PROFILE_LINES = "graders.sandbox.inside.probes:line_profile"


def require_no_sample_loop_in_train(
    sandbox: Sandbox,
    target: str,
    runs: tuple[tuple[tuple, dict], tuple[tuple, dict]],
    what: str = "train",
) -> None:
    """Fail when a short ``train`` runs more lines for the same number of batches of 10x
    more samples each; name the line whose count grew most (the loop over samples).

    ``runs`` holds (args, module constants) for the small and the large run, e.g.
    ``EPOCHS = 1`` and ``BATCH_SIZE`` 20 and 200 for 200 and 2,000 samples.
    """
    profiles = []
    for args, constants in runs:
        try:
            profile = _probe(
                sandbox, PROFILE_LINES, (target, list(args), {"seed": 0}, constants), what
            )
        except StudentCodeError:
            # A train that fails is judged (and loses its points) where it is trained;
            # it shows no loop here, so this criterion does not charge for it again.
            return
        if not isinstance(profile, dict) or not isinstance(profile.get("total"), int):
            raise CriterionFailed(f"{what}: could not count the lines it executes")
        profiles.append(profile)
    few, many = profiles[0]["total"], profiles[1]["total"]
    if many <= few + SLACK:
        return
    counts: dict[tuple[str, int], list[int]] = {}
    for position, profile in enumerate(profiles):
        for entry in profile.get("lines", [])[:5000]:
            if isinstance(entry, list) and len(entry) == 3:
                key = (str(entry[0])[:200], int(entry[1]))
                counts.setdefault(key, [0, 0])[position] = int(entry[2])
    grown = max(counts.items(), key=lambda item: item[1][1] - item[1][0], default=None)
    where = f" at {grown[0][0]}:{grown[0][1]}" if grown else ""
    raise CriterionFailed(
        f"{what} loops over samples in Python{where}: for the same number of batches it ran "
        f"{few} lines of your code with batches of {_batch(runs[0])} samples and {many} with "
        f"batches of {_batch(runs[1])}; use matrix operations on whole batches"
    )


def _batch(run: tuple[tuple, dict]) -> str:
    return str(run[1].get("BATCH_SIZE", "?"))
