"""Linear systems of three equations with numpy.

Functions accept numpy arrays or nested lists and return float arrays
(matrices of shape (3, 3), vectors of shape (3,)) or Python floats.

numpy and the standard library may be imported here; no machine-learning framework.
This module must not import a1.pure: it stands on its own.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SINGULAR_TOLERANCE = 1e-9


def load_system(path: str | os.PathLike[str]) -> tuple[FloatArray, FloatArray]:
    """Read three equations in x, y, z from a text file and return (A, B).

    A has shape (3, 3) with the coefficients of x, y, z per row, B shape (3,).
    Line numbers in errors count every line of the file, blank ones included.
    """
    raise NotImplementedError(
        "load_system: parse every line with the same rules as in pure.py (written again here, "
        "not imported) and return the rows and right-hand sides as float arrays of shape "
        "(3, 3) and (3,)."
    )


def determinant(A: npt.ArrayLike) -> float:
    """Determinant via numpy's LU factorisation."""
    raise NotImplementedError(
        "determinant: convert A with np.asarray(A, dtype=float), use np.linalg and return a "
        "Python float."
    )


def trace(A: npt.ArrayLike) -> float:
    """Sum of the diagonal entries."""
    raise NotImplementedError(
        "trace: convert A to a float array and use numpy's diagonal sum, returned as a float."
    )


def norm(B: npt.ArrayLike) -> float:
    """Euclidean length of a vector."""
    raise NotImplementedError(
        "norm: convert B to a float array and use np.linalg, returned as a Python float."
    )


def transpose(A: npt.ArrayLike) -> FloatArray:
    """Swap rows and columns; a copy, so changing the result leaves A alone."""
    raise NotImplementedError(
        "transpose: convert A to a float array and return a copy of its transposed view."
    )


def multiply(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Matrix times vector."""
    raise NotImplementedError(
        "multiply: convert both arguments to float arrays and use the matrix product operator."
    )


def solve_cramer(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Solve A x = B with Cramer's rule: x_i = det(A_i) / det(A).

    A_i is A with column i replaced by B.
    """
    raise NotImplementedError(
        "solve_cramer: raise ValueError when abs(det(A)) < SINGULAR_TOLERANCE, otherwise copy A, "
        "assign B to column i (copy[:, i] = B) and divide that determinant by det(A)."
    )


def solve_inverse(A: npt.ArrayLike, B: npt.ArrayLike) -> FloatArray:
    """Solve A x = B as x = A^-1 B."""
    raise NotImplementedError(
        "solve_inverse: raise ValueError when abs(det(A)) < SINGULAR_TOLERANCE, otherwise "
        "multiply np.linalg.inv(A) by B."
    )
