"""A notebook cell's output that updates while ``notebook.check`` grades: the criteria
finished so far with their points, and the one running with its time and CPU budget.

It is an IPython display with an id, updated in place (Jupyter, JupyterLab, Colab and
VS Code show it); outside an IPython kernel there is nothing to update and nothing is
shown. The report itself is the cell's result, shown below it when grading ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from graders.core.progress import CriterionFinished, CriterionStarted, Event
from graders.core.results import format_points
from graders.render import encode, html_section
from graders.render.live_status import LiveStatus


class _Snapshot:
    """What the display shows now, as HTML for notebooks and text for the rest."""

    def __init__(self, status: LiveStatus, rows: bool = True):
        self.line = status.line()
        self.rows = [
            (e.status, f"{format_points(e.points)}/{format_points(e.max_points)}",
             e.criterion, e.title, f"{e.duration_s:.1f} s")
            for e in (status.finished if rows else [])
        ]  # fmt: skip

    def _repr_html_(self) -> str:
        e = encode.html
        rows = "".join(
            f"<tr class='{e(status)}'><td>{e(points)}</td><td><code>{e(criterion)}</code> "
            f"{e(title)}</td><td>{e(seconds)}</td></tr>"
            for status, points, criterion, title, seconds in self.rows
        )
        table = (
            f"<style>{html_section.STYLE}</style><table class='nngrade'>{rows}</table>"
            if rows
            else ""
        )
        return f"<div class='nngrade-live'><p>nngrade: {e(self.line)}</p>{table}</div>"

    def __repr__(self) -> str:
        lines = [f"  {points:>9}  {criterion}" for _, points, criterion, _, _ in self.rows]
        return "\n".join([f"nngrade: {encode.terminal(self.line)}", *lines])


def _kernel_display() -> Callable[..., Any] | None:
    """IPython's ``display`` when this runs in a kernel that has a front end, else None
    (plain Python, or a terminal IPython, where an updated display prints again)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return display


class NotebookProgress:
    """A progress listener for a notebook cell; call :meth:`tick` while waiting, so that
    the clocks move, and :meth:`close` at the end (it leaves a one-line summary)."""

    #: Seconds between updates: each is a message to the front end.
    UPDATE_EVERY_S = 1.0

    def __init__(self, display: Callable[..., Any]):
        self._status = LiveStatus()
        self._shown_at = time.monotonic()
        self._handle = display(_Snapshot(self._status), display_id=True)

    @classmethod
    def in_kernel(cls) -> NotebookProgress | None:
        """A display in this notebook cell, or None outside an IPython kernel."""
        display = _kernel_display()
        return cls(display) if display is not None else None

    def __call__(self, event: Event) -> None:
        """Take ``event``; a criterion that starts or finishes is shown as soon as the
        update interval allows, not only at the next look (a1's criteria all finish
        within one look)."""
        self._status.handle(event)
        if isinstance(event, (CriterionStarted, CriterionFinished)):
            self.tick()

    def tick(self) -> None:
        """Show the state now, at most once per ``UPDATE_EVERY_S``."""
        now = time.monotonic()
        if now - self._shown_at >= self.UPDATE_EVERY_S:
            self._shown_at = now
            self._handle.update(_Snapshot(self._status))

    def close(self) -> None:
        """One line is left: the report below the cell shows every criterion."""
        snapshot = _Snapshot(self._status, rows=False)
        if self._status.outcome is None:
            snapshot.line = "grading stopped; see below why"
        self._handle.update(snapshot)
