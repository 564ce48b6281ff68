"""Checks that turn a student's answer into a pass or a one-line reason.

Answers come from an untrusted worker and may be of any shape or type, so every helper
validates before comparing and fails with :class:`CriterionFailed`, never with a
traceback from inside the grader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graders.core.plugin import CriterionFailed
from graders.sandbox.inside.codec import Opaque
from graders.sandbox.sandbox import StudentCodeError


def __getattr__(name: str) -> Any:
    """``PROPERTY_SETTINGS``: hypothesis settings for graders (the same examples every run,
    no database, no deadline), made on first use: only a grader with a property imports
    hypothesis (a tenth of a second of every check otherwise)."""
    if name != "PROPERTY_SETTINGS":
        raise AttributeError(name)
    from hypothesis import HealthCheck, settings

    value = settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=40,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    globals()[name] = value
    return value


def describe(value: Any) -> str:
    """A short, readable description of an answer for a reason line."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def number(value: Any, what: str) -> float:
    """``value`` as a float, or fail saying that ``what`` did not return a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CriterionFailed(f"{what} returned {describe(value)}; expected a number")
    return float(value)


def array(value: Any, shape: tuple[int, ...] | None, what: str, *, numpy_only: bool) -> np.ndarray:
    """``value`` as a float array of ``shape`` (None: any shape): a numpy array, or nested
    lists when allowed."""
    if numpy_only and not isinstance(value, np.ndarray):
        raise CriterionFailed(
            f"{what} returned {describe(value)}; expected a numpy array of shape {shape}"
        )
    if not numpy_only and not isinstance(value, (list, tuple)):
        raise CriterionFailed(f"{what} returned {describe(value)}; expected a list")
    try:
        result = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CriterionFailed(
            f"{what} returned {describe(value)}; expected numbers of shape {shape}"
        ) from None
    if shape is not None and result.shape != shape:
        raise CriterionFailed(f"{what} returned shape {result.shape}; expected {shape}")
    return result


def close(actual: Any, expected: Any, what: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless ``actual`` matches ``expected`` within tolerance, showing both."""
    if not np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False):
        raise CriterionFailed(f"{what}: got {_show(actual)}, expected {_show(expected)}")


def _show(value: Any) -> str:
    array_value = np.asarray(value, dtype=float)
    text = np.array2string(array_value, precision=6, separator=", ", suppress_small=True)
    return " ".join(text.split())


def raises(call: Callable[[], Any], exception: str, what: str) -> StudentCodeError:
    """Fail unless the student's call raises the exception class named ``exception``."""
    try:
        value = call()
    except StudentCodeError as error:
        if error.raised(exception):
            return error
        raise CriterionFailed(f"{what}: expected {exception}, but {error.reason}") from None
    raise CriterionFailed(f"{what}: expected {exception}, but it returned {describe(value)}")
