"""A grader stopped from outside unwinds as Ctrl+C does.

SIGTERM is what ``timeout``, a CI's cancel button and Gradescope's time limit send; SIGHUP
comes with a closed terminal. Python's default for both ends the process at once, so no
``finally`` runs: the workers of a submission and every folder the grader made (its
sandboxes, the staged copy) stayed behind. Under :func:`stopped_by_signals` they raise
:class:`Stopped`, a ``KeyboardInterrupt``, and everything that cleans up after Ctrl+C
cleans up after them too.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: The signals that stop a grader the way Ctrl+C (SIGINT) does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """The grader was stopped by ``signal_number``."""

    def __init__(self, signal_number: int):
        super().__init__(f"stopped by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number

    @property
    def exit_status(self) -> int:
        """The status a shell gives a process ended by that signal (143 for SIGTERM)."""
        return 128 + self.signal_number


def _stop(signal_number: int, _frame: object) -> None:
    for number in STOP_SIGNALS:  # once: the clean-up that follows is not interrupted
        signal.signal(number, signal.SIG_IGN)
    raise Stopped(signal_number)


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Within it, SIGTERM and SIGHUP raise :class:`Stopped` in the main thread (elsewhere,
    where no handler can be set, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, _stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
