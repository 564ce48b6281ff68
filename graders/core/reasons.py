"""One criterion's reason line from the reasons of its parts and calls.

A criterion that calls a function five times gets five reasons, and when the module does
not even import they are the same five times over: the student reads each once, with how
often it happened ("could not import a1/pure.py: SyntaxError ... (x5)").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: Between the reasons of one criterion.
SEPARATOR = "; "


def join_reasons(reasons: Iterable[str]) -> str:
    """The distinct reasons in the order they first occurred, a repeated one with its count."""
    counts = Counter(reasons)
    return SEPARATOR.join(
        reason if count == 1 else f"{reason} (x{count})" for reason, count in counts.items()
    )
