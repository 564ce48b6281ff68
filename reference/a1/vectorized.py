"""Linear systems of three equations with numpy.

Functions accept numpy arrays or nested lists and return float arrays
(matrices of shape (3, 3), vectors of shape (3,)) or Python floats.
"""

from __future__ import annotations

import os
import re

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

VARIABLES = "xyz"
SINGULAR_TOLERANCE = 1e-9

# A number in plain decimal notation: "3", "0.5", "2.", ".25".
_NUMBER = r"(?:\d+\.?\d*|\.\d+)"
# One term of the left-hand side, after all whitespace is removed: an optional
# sign, an optional coefficient and a single letter (checked against x, y, z later).
_TERM = re.compile(rf"([+-]?)({_NUMBER})?([A-Za-z])")
_RIGHT_HAND_SIDE = re.compile(rf"[+-]?{_NUMBER}")
# Whitespace inside a number ("1 0x") would glue it together once whitespace is
# removed, so it is rejected up front.
_SPLIT_NUMBER = re.compile(r"[\d.]\s+[\d.]")


# --- parsing -------------------------------------------------------------------


def _parse_equation(text: str) -> tuple[FloatArray, float]:
    """Parse one equation into (coefficients of x, y, z; right-hand side).

    Raises ValueError with a reason only; the caller adds the line number.
    """
    if _SPLIT_NUMBER.search(text):
        raise ValueError("a number is split by whitespace")
    compact = re.sub(r"\s+", "", text)
    if compact.count("=") != 1:
        raise ValueError(f"expected exactly one '=', found {compact.count('=')}")
    left, right = compact.split("=")

    # Cut the left-hand side before every sign, so each piece is one term.
    terms = re.split(r"(?=[+-])", left)
    if terms[0] == "":  # the left-hand side started with a sign
        terms = terms[1:]
    if not terms:
        raise ValueError("the left-hand side has no terms")

    coefficients = np.zeros(3)
    seen: set[str] = set()
    for term in terms:
        match = _TERM.fullmatch(term)
        if match is None:
            raise ValueError(f"cannot read the term '{term}'")
        sign, number, variable = match.groups()
        if variable not in VARIABLES:
            raise ValueError(f"unknown variable '{variable}'")
        if variable in seen:
            raise ValueError(f"variable '{variable}' appears more than once")
        seen.add(variable)
        value = float(number) if number else 1.0
        coefficients[VARIABLES.index(variable)] = -value if sign == "-" else value

    if not _RIGHT_HAND_SIDE.fullmatch(right):
        raise ValueError(f"the right-hand side '{right}' is not a number")
    return coefficients, float(right)


def load_system(path: str | os.PathLike[str]) -> tuple[FloatArray, FloatArray]:
    """Read three equations in x, y, z from a text file and return (A, B).

    A has shape (3, 3) with the coefficients of x, y, z per row, B shape (3,).
    Line numbers in errors count every line of the file, blank ones included.
    """
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()

    rows = []
    rhs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            coefficients, value = _parse_equation(line)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}: {line}") from None
        rows.append(coefficients)
        rhs.append(value)

    if len(rows) != 3:
        raise ValueError(f"{os.fspath(path)}: expected 3 equations, found {len(rows)}")
    return np.array(rows, dtype=float), np.array(rhs, dtype=float)


# --- basic operations ----------------------------------------------------------


def _matrix(A: npt.ArrayLike) -> FloatArray:
    """A as a float array of shape (3, 3); lists are accepted too."""
    A = np.asarray(A, dtype=float)
    if A.shape != (3, 3):
        raise ValueError(f"expected a 3x3 matrix, got shape {A.shape}")
    return A


def _vector(B: npt.ArrayLike) -> FloatArray:
    """B as a float array of shape (3,); lists are accepted too."""
    B = np.asarray(B, dtype=float)
    if B.shape != (3,):
        raise ValueError(f"expected a vector of 3 entries, got shape {B.shape}")
    return B


def determinant(A: npt.ArrayLike) -> float:
    """Determinant via numpy's LU factorisation."""
    return float(np.linalg.det(_matrix(A)))


def trace(A: npt.ArrayLike) -> float:
    """Sum of the diagonal entries."""
    return float(np.trace(_matrix(A)))


def norm(B: npt.ArrayLike) -> float:
    """Euclidean length of a vector."""
    return float(np.linalg.norm(_vector(B)))


def transpose(A: npt.ArrayLike) -> FloatArray:
    """Swap rows and columns; a copy, so changing the result leaves A alone."""
    return _matrix(A).T.copy()


def multiply(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Matrix times vector."""
    return _matrix(A) @ _vector(B)


# --- solvers -------------------------------------------------------------------


def _checked_determinant(A: FloatArray) -> float:
    """Determinant of A, refusing systems that have no unique solution."""
    det = float(np.linalg.det(A))
    if abs(det) < SINGULAR_TOLERANCE:
        raise ValueError(f"singular system: determinant {det} is (close to) zero")
    return det


def solve_cramer(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Solve A x = B with Cramer's rule: x_i = det(A_i) / det(A).

    A_i is A with column i replaced by B.
    """
    A, B = _matrix(A), _vector(B)
    det = _checked_determinant(A)
    solution = np.empty(3)
    for col in range(3):
        replaced = A.copy()
        replaced[:, col] = B
        solution[col] = np.linalg.det(replaced) / det
    return solution


def solve_inverse(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Solve A x = B as x = A^-1 B."""
    A, B = _matrix(A), _vector(B)
    _checked_determinant(A)
    return np.linalg.inv(A) @ B
