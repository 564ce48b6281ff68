"""Gradient checking for graders: a student's backward pass against finite differences.

CS231n style: central differences in float64 on every entry of each parameter (or a random
sample of a large one), scored by the largest relative error, and summarised in one line a
student can act on ("dW1 wrong (relative error 3.2e-01), db1 correct, ...").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

# --- the numbers ----------------------------------------------------------------------


def numerical_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    *,
    h: float = 1e-5,
    indices: Iterable[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """df/dx by central differences, perturbing ``x`` in place (``f`` reads it from there).

    Returns float64 of ``x``'s shape; entries not in ``indices`` are NaN. Each entry is
    restored exactly afterwards, even when ``f`` raises. The step is measured after the
    write, so a float32 ``x`` is not biased by rounding of ``x + h`` (float64 is still best).
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a numpy array of floats, perturbed in place")
    if not x.flags.writeable:
        raise ValueError("x is read-only; it must be perturbed in place")
    grad = np.full(x.shape, np.nan, dtype=np.float64)
    for index in np.ndindex(x.shape) if indices is None else indices:
        index = tuple(index)
        if len(index) != x.ndim:
            raise IndexError(
                f"index {index} does not name one entry of an array of shape {x.shape}"
            )
        old = x[index]
        try:
            x[index] = old + h
            at_plus, f_plus = float(x[index]), float(f())
            x[index] = old - h
            at_minus, f_minus = float(x[index]), float(f())
        finally:
            x[index] = old
        if at_plus == at_minus:
            raise ValueError(f"h={h} is below the precision of {x.dtype} at index {index}")
        grad[index] = (f_plus - f_minus) / (at_plus - at_minus)
    return grad


def sample_indices(
    shape: tuple[int, ...],
    max_entries: int,
    rng: np.random.Generator,
    *,
    skip: np.ndarray | None = None,
) -> list[tuple[int, ...]]:
    """Every index of ``shape`` (minus ``skip``), or ``max_entries`` distinct ones at random.

    Large tensors are sampled because each entry costs two forward passes.
    """
    shape = tuple(shape)
    if max_entries < 1:
        raise ValueError(f"max_entries must be at least 1, not {max_entries}")
    if skip is None:
        allowed = np.arange(math.prod(shape))
    else:
        skip = np.asarray(skip, dtype=bool)
        if skip.shape != shape:
            raise ValueError(f"skip mask has shape {skip.shape}; expected {shape}")
        allowed = np.flatnonzero(~skip)
    if allowed.size > max_entries:
        allowed = np.sort(rng.choice(allowed, size=max_entries, replace=False))
    return [tuple(int(i) for i in np.unravel_index(int(k), shape)) for k in allowed]


def relative_error(analytic: np.ndarray, numeric: np.ndarray, *, floor: float = 1e-8) -> float:
    """max |a - n| / max(floor, |a| + |n|) over the entries where ``numeric`` is not NaN.

    Relative, so the verdict does not depend on the scale of the loss; 0.0 if nothing
    was computed. A NaN in ``analytic`` makes the result NaN, which fails any tolerance.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numeric has shape {n.shape}")
    checked = ~np.isnan(n)
    if not checked.any():
        return 0.0
    a, n = a[checked], n[checked]
    return float(np.max(np.abs(a - n) / np.maximum(floor, np.abs(a) + np.abs(n))))


def kink_mask(pre_activation: np.ndarray, h: float) -> np.ndarray:
    """True where a step of size ``h`` can push a pre-activation across 0 (a ReLU kink).

    Finite differences across a kink average the two slopes, so a correct backward pass
    looks wrong there. A grader runs its reference forward pass, masks the pre-activation
    ``z = x @ W1 + b1`` and skips the parameters that move a masked unit. Perturbing
    ``W1[i, j]`` moves ``z[:, j]`` by up to ``h * max|x|``, and ``b1[j]`` by ``h``::

        unit = kink_mask(z, h * max(1.0, np.abs(x).max())).any(axis=0)   # (H,)
        skip = {"W1": np.broadcast_to(unit, W1.shape), "b1": unit}

    Later layers' parameters do not move this ``z``. With several hidden layers a step in
    an early layer also moves every later pre-activation, so deeper networks are better
    checked at parameters drawn away from all kinks (as the assignment 3 grader does).
    """
    return np.abs(np.asarray(pre_activation)) < h


# --- the verdict ----------------------------------------------------------------------


@dataclass(frozen=True)
class TensorCheck:
    """The verdict on one gradient; ``problem`` follows its name in a sentence, "" if ok."""

    name: str
    ok: bool
    relative_error: float | None
    checked: int
    problem: str

    def describe(self) -> str:
        return f"d{self.name} {self.problem or 'correct'}"


@dataclass(frozen=True)
class GradientReport:
    """Every tensor's verdict, in the order of the params dict."""

    checks: tuple[TensorCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def fraction_ok(self) -> float:
        """Share of tensors that passed, for partial credit."""
        if not self.checks:
            return 1.0
        return sum(check.ok for check in self.checks) / len(self.checks)

    def __getitem__(self, name: str) -> TensorCheck:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def summary(self) -> str:
        """One line for the student, e.g. "dW1 wrong (relative error 3.2e-01), db1 correct"."""
        return ", ".join(check.describe() for check in self.checks)


#: Entries smaller than this fraction of a tensor's largest gradient are judged on its scale.
SCALE_FLOOR = 1e-3


def check_gradients(
    loss: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    *,
    h: float = 1e-5,
    tolerance: float = 1e-5,
    max_entries: int = 200,
    seed: int = 0,
    skip: dict[str, np.ndarray] | None = None,
    second_opinion: Callable[[str, list[tuple[int, ...]]], np.ndarray] | None = None,
) -> GradientReport:
    """Check ``analytic[name]`` against finite differences of ``loss(params)`` for each param.

    The params' arrays are perturbed in place and restored exactly, so ``loss`` may read
    them from the dict or from a model holding the same arrays. Use float64 params: h=1e-5
    is below float32's resolution. ``skip[name]`` marks entries not to check (ReLU kinks,
    see :func:`kink_mask`). Mistakes in the grader's own inputs raise; mistakes in the
    student's gradients or errors from ``loss`` become failed checks.

    ``second_opinion(name, indices)``, when given, returns other finite differences at the
    same entries (e.g. of the student's own forward pass); a tensor that misses the first
    passes when it matches these.
    """
    skip = skip or {}
    unknown = sorted(set(skip) - set(params))
    if unknown:
        raise ValueError(f"skip names tensors that are not params: {unknown}")
    for name, param in params.items():
        if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
            raise TypeError(f"params[{name!r}] must be a numpy array of floats")
    rng = np.random.default_rng(seed)
    checks = []
    for name, param in params.items():
        indices = sample_indices(param.shape, max_entries, rng, skip=skip.get(name))
        check = _check_tensor(name, loss, params, analytic, indices, h, tolerance)
        if not check.ok and check.checked and second_opinion is not None:
            check = _second_opinion(check, analytic[name], indices, second_opinion, tolerance)
        checks.append(check)
    return GradientReport(tuple(checks))


def _second_opinion(
    check: TensorCheck,
    analytic: np.ndarray,
    indices: list[tuple[int, ...]],
    opinion: Callable[[str, list[tuple[int, ...]]], np.ndarray],
    tolerance: float,
) -> TensorCheck:
    """Re-judge a failed tensor against the second set of finite differences."""
    try:
        other = np.asarray(opinion(check.name, indices), dtype=np.float64)
    except Exception:  # noqa: BLE001 - the first verdict stands when the second cannot be had
        return check
    grad = np.asarray(analytic, dtype=np.float64)
    if other.shape != (len(indices),) or not np.isfinite(other).all():
        return check
    numeric = np.full_like(grad, np.nan)
    for index, value in zip(indices, other, strict=True):
        numeric[index] = value
    floor = max(1e-8, SCALE_FLOOR * float(np.max(np.abs(other))))
    error = relative_error(grad, numeric, floor=floor)
    return TensorCheck(check.name, True, error, check.checked, "") if error <= tolerance else check


def _check_tensor(
    name: str,
    loss: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    indices: list[tuple[int, ...]],
    h: float,
    tolerance: float,
) -> TensorCheck:
    """Shape first, then values: a wrong shape says more than any relative error."""

    def fail(problem: str, error: float | None = None, checked: int = 0) -> TensorCheck:
        return TensorCheck(name, False, error, checked, problem)

    param = params[name]
    if name not in analytic:
        return fail("missing")
    if analytic[name] is None:  # np.array(None, float) would be a quiet NaN
        return fail("is None, not an array of numbers")
    try:
        grad = np.array(analytic[name], dtype=np.float64)
    except (TypeError, ValueError):
        return fail(f"is {type(analytic[name]).__name__}, not an array of numbers")
    if grad.shape != param.shape:
        return fail(f"has shape {grad.shape}; expected {param.shape}")
    if not np.isfinite(grad).all():
        return fail("contains NaN or inf")
    if not indices:
        return TensorCheck(name, True, None, 0, "")
    try:
        numeric = numerical_gradient(lambda: loss(params), param, h=h, indices=indices)
    except Exception as exc:  # student code behind the loss may raise anything
        message = (str(exc).strip().splitlines() or [""])[0]
        return fail(f"could not be checked (the loss raised {type(exc).__name__}: {message})")
    if not np.isfinite([numeric[index] for index in indices]).all():
        return fail("could not be checked (the loss is not finite near these parameters)")
    # Entries far smaller than the tensor's largest gradient are dominated by the rounding
    # noise of the finite differences; compare those on the tensor's scale instead.
    checked = np.array([numeric[index] for index in indices])
    floor = max(1e-8, SCALE_FLOOR * float(np.max(np.abs(checked))))
    error = relative_error(grad, numeric, floor=floor)
    if error <= tolerance:
        return TensorCheck(name, True, error, len(indices), "")
    return fail(f"wrong (relative error {error:.1e})", error, len(indices))
