"""Trusted probes: functions from the graders package that run inside the worker.

They observe how student code runs (not just what it returns) and send back plain data.
Whatever they return is still treated as untrusted by the grader.
"""

from __future__ import annotations

import importlib
import sys

from graders.sandbox import runtime


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def count_student_lines(target: str, args: list, kwargs: dict) -> int:
    """Run ``target`` and count the Python lines executed in the student's files.

    Vectorized code executes the same number of lines for 100 samples as for 1000;
    a Python loop over samples executes a number proportional to the batch size.
    """
    function = _resolve(target)
    root = runtime.STUDENT_ROOT
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(root) else None

    sys.settrace(tracer)
    try:
        function(*args, **kwargs)
    finally:
        sys.settrace(None)
    return count


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
