"""Linear systems of three equations in pure Python (standard library only).

Matrices are lists of rows, vectors are lists of floats. Every function works on
plain lists so that the arithmetic behind numpy's one-liners is visible.

Only the Python standard library may be imported in this file (no numpy).
"""

from __future__ import annotations

import os

Matrix = list[list[float]]
Vector = list[float]

SINGULAR_TOLERANCE = 1e-9


def load_system(path: str | os.PathLike[str]) -> tuple[Matrix, Vector]:
    """Read three equations in x, y, z from a text file and return (A, B).

    Row i of A holds the coefficients of x, y, z of equation i, B its right-hand
    side. Blank lines are skipped; line numbers in errors count every line of the
    file, so the offending line is easy to find in an editor.
    """
    raise NotImplementedError(
        "load_system: read the lines, skip blank ones, remove all whitespace, split at '=', "
        "match every signed term of the left-hand side with a regular expression (module re) "
        "and raise ValueError(f'line {n}: ...: {line}') for anything that does not match."
    )


def determinant(A: Matrix) -> float:
    """Determinant by Laplace (cofactor) expansion along the first row.

    Exponential in general, but exact and readable for the 3x3 case.
    """
    raise NotImplementedError(
        "determinant: sum A[0][j] * (-1)**j * det(minor without row 0 and column j) over "
        "the columns j, where the determinant of a 2x2 minor is a*d - b*c."
    )


def trace(A: Matrix) -> float:
    """Sum of the diagonal entries."""
    raise NotImplementedError("trace: add up the entries A[i][i] and return a float.")


def norm(B: Vector) -> float:
    """Euclidean length of a vector: the square root of the sum of squares."""
    raise NotImplementedError("norm: take math.sqrt of the sum of the squared entries.")


def transpose(A: Matrix) -> Matrix:
    """Swap rows and columns: entry (i, j) moves to (j, i)."""
    raise NotImplementedError("transpose: build a new matrix whose row j is column j of A.")


def multiply(A: Matrix, B: Vector) -> Vector:
    """Matrix times vector: each entry is a row of A dotted with B."""
    raise NotImplementedError(
        "multiply: entry i of the result is the dot product of row i of A with B."
    )


def solve_cramer(A: Matrix, B: Vector) -> Vector:
    """Solve A x = B with Cramer's rule: x_i = det(A_i) / det(A).

    A_i is A with column i replaced by B.
    """
    raise NotImplementedError(
        "solve_cramer: raise ValueError when abs(determinant(A)) < SINGULAR_TOLERANCE, otherwise "
        "divide the determinant of each column-replaced copy of A by determinant(A)."
    )


def solve_inverse(A: Matrix, B: Vector) -> Vector:
    """Solve A x = B as x = A^-1 B."""
    raise NotImplementedError(
        "solve_inverse: raise ValueError when abs(determinant(A)) < SINGULAR_TOLERANCE, build "
        "the inverse as the adjugate (transposed matrix of cofactors) divided by determinant(A) "
        "and multiply it by B."
    )
