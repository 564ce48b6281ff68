"""Grading a whole class: intake, isolated jobs, gradebook, feedback and summary."""

#: Where jobs run (``graders.batch.engines``): named here so that the command line offers
#: them without importing the engines.
ENGINES = ("local", "dask")


def jobs_argument(text: str) -> int | str:
    """``--jobs``: a number of at least 1, or ``auto`` (:mod:`graders.batch.auto_jobs`)."""
    import argparse

    if text == "auto":
        return text
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, not {text!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs
