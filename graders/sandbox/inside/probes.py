"""Trusted probes: functions from the graders package that run inside the worker.

They observe how student code runs (not just what it returns) and send back plain data.
Whatever they return is still treated as untrusted by the grader. A probe whose
instrumentation student code switches off raises :class:`ProbeDisabled`, which the
grader scores as 0 with the place where it happened.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

from graders.sandbox.inside import audit

#: The student's folder as the worker sees it (set by the worker before student code runs).
STUDENT_ROOTS: tuple[str, ...] = ()
#: The tracing functions as they were before any student code ran.
_SETTRACE = sys.settrace
_GETTRACE = sys.gettrace


class ProbeDisabled(Exception):
    """Student code removed or replaced the grader's instrumentation during a probe."""


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _run_traced(function, args: list, kwargs: dict) -> dict[tuple[str, int], int]:
    """Run ``function`` under the grader's line tracer; executed student lines by place.

    Raises :class:`ProbeDisabled` when student code switched the tracer off or replaced it
    (the audit hook refuses it and says where).
    """
    roots = STUDENT_ROOTS
    watcher = audit.CURRENT
    per_line: dict[tuple[str, int], int] = {}

    def local(frame, event, arg):
        if event == "line":
            key = (frame.f_code.co_filename, frame.f_lineno)
            per_line[key] = per_line.get(key, 0) + 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(roots) else None

    if watcher is not None:
        watcher.probe_disabled = ""
        watcher.probe_running = True
    still_tracing = True
    _SETTRACE(tracer)
    try:
        function(*args, **kwargs)
        still_tracing = _GETTRACE() is tracer
    except BaseException:
        if watcher is None or not watcher.probe_disabled:
            raise
    finally:
        _SETTRACE(None)
        if watcher is not None:
            watcher.probe_running = False
    disabled = watcher.probe_disabled if watcher is not None else ""
    if disabled or not still_tracing:
        raise ProbeDisabled(disabled or "the line tracer was replaced")
    return per_line


@contextlib.contextmanager
def module_constants_set(module, constants: dict):
    """Set a student module's constants (e.g. OPTION, EPOCHS) for a while, then restore them;
    the statements require constants to be read when functions run."""
    missing = object()
    saved = {name: getattr(module, name, missing) for name in constants}
    try:
        for name, value in constants.items():
            setattr(module, name, value)
        yield module
    finally:
        for name, value in saved.items():
            if value is missing:
                delattr(module, name)
            else:
                setattr(module, name, value)


def count_student_lines(target: str, args: list, kwargs: dict) -> int:
    """Run ``target`` and count the Python lines executed in the student's files.

    Vectorized code executes the same number of lines for 100 samples as for 1000;
    a Python loop over samples executes a number proportional to the batch size.
    """
    return sum(_run_traced(_resolve(target), args, kwargs).values())


def line_profile(target: str, args: list, kwargs: dict, constants: dict) -> dict:
    """Run ``target`` with its module's constants set to ``constants`` (then restored) and
    count the lines executed in the student's files, in total and per line.

    The grader runs a short ``train`` twice with the same number of batches, once with
    10x more samples per batch: vectorized code runs the same lines both times.
    """
    module = importlib.import_module(target.partition(":")[0])
    with module_constants_set(module, constants):
        per_line = _run_traced(_resolve(target), args, kwargs)
    lines = []
    for (file, line), count in per_line.items():
        root = next((r for r in STUDENT_ROOTS if file.startswith(r)), "")
        lines.append([file[len(root) :], line, count])
    return {"total": sum(per_line.values()), "lines": lines}


def module_constants(module: str, names: list[str]) -> dict:
    """Simple module-level constants (str, int, float, bool, None) the student declared."""
    loaded = importlib.import_module(module)
    found = {}
    for name in names:
        value = getattr(loaded, name, None)
        if value is None or isinstance(value, (str, int, float, bool)):
            found[name] = value
        else:
            found[name] = repr(value)[:100]
    return found


def call_with_constants(target: str, args: list, kwargs: dict, constants: dict) -> dict:
    """Run ``target`` with its module's constants set (then restored), untraced: the grader
    measures the CPU time the kernel counts for it, so the probe only sets the scene. The
    answer's array shapes come back (not the arrays), so a run's cost is its own."""
    module = importlib.import_module(target.partition(":")[0])
    with module_constants_set(module, constants):
        answer = _resolve(target)(*args, **kwargs)
    return {"shapes": _shapes(answer)}


def _shapes(value, depth: int = 0):
    """The shapes of the arrays in ``value`` (nested tuples, lists and dicts), by position."""
    if depth > 3:
        return None
    if hasattr(value, "shape") and isinstance(getattr(value, "shape", None), tuple):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shapes(item, depth + 1) for item in value[:20]]
    if isinstance(value, dict):
        return {str(key): _shapes(item, depth + 1) for key, item in list(value.items())[:20]}
    return None
