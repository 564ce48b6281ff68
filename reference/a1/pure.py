"""Linear systems of three equations in pure Python (standard library only).

Matrices are lists of rows, vectors are lists of floats. Every function works on
plain lists so that the arithmetic behind numpy's one-liners is visible.
"""

from __future__ import annotations

import math
import os
import re

Matrix = list[list[float]]
Vector = list[float]

VARIABLES = "xyz"
SINGULAR_TOLERANCE = 1e-9

# A number in plain decimal notation: "3", "0.5", "2.", ".25".
_NUMBER = r"(?:\d+\.?\d*|\.\d+)"
# One term of the left-hand side, after all whitespace is removed: an optional
# sign, an optional coefficient and a single letter (checked against x, y, z later).
_TERM = re.compile(rf"([+-]?)({_NUMBER})?([A-Za-z])")
_RIGHT_HAND_SIDE = re.compile(rf"[+-]?{_NUMBER}")
# Whitespace between two parts of a number ("1 0x", "2 .5") would silently glue
# them together once whitespace is removed, so it is rejected up front.
_SPLIT_NUMBER = re.compile(r"[\d.]\s+[\d.]")


# --- parsing -------------------------------------------------------------------


def _parse_equation(text: str) -> tuple[Vector, float]:
    """Parse one equation into (coefficients of x, y, z; right-hand side).

    Raises ValueError with a reason only; the caller adds the line number.
    """
    if _SPLIT_NUMBER.search(text):
        raise ValueError("a number is split by whitespace")
    compact = "".join(text.split())
    if compact.count("=") != 1:
        raise ValueError(f"expected exactly one '=', found {compact.count('=')}")
    left, right = compact.split("=")

    # Cut the left-hand side before every sign, so each piece is one term.
    terms = re.split(r"(?=[+-])", left)
    if terms[0] == "":  # the left-hand side started with a sign
        terms = terms[1:]
    if not terms:
        raise ValueError("the left-hand side has no terms")

    coefficients = [0.0, 0.0, 0.0]
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


def load_system(path: str | os.PathLike[str]) -> tuple[Matrix, Vector]:
    """Read three equations in x, y, z from a text file and return (A, B).

    Row i of A holds the coefficients of x, y, z of equation i, B its right-hand
    side. Blank lines are skipped; line numbers in errors count every line of the
    file, so the offending line is easy to find in an editor.
    """
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()

    A: Matrix = []
    B: Vector = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            coefficients, rhs = _parse_equation(line)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}: {line}") from None
        A.append(coefficients)
        B.append(rhs)

    if len(A) != 3:
        raise ValueError(f"{os.fspath(path)}: expected 3 equations, found {len(A)}")
    return A, B


# --- basic operations ----------------------------------------------------------


def _minor(A: Matrix, row: int, col: int) -> Matrix:
    """A without the given row and column: the building block of cofactors."""
    return [[value for j, value in enumerate(r) if j != col] for i, r in enumerate(A) if i != row]


def _cofactor(A: Matrix, row: int, col: int) -> float:
    """Signed minor (-1)^(row+col) * det(minor), used by both Laplace and adjugate."""
    return (-1) ** (row + col) * determinant(_minor(A, row, col))


def determinant(A: Matrix) -> float:
    """Determinant by Laplace (cofactor) expansion along the first row.

    Exponential in general, but exact and readable for the 3x3 case.
    """
    if len(A) == 1:
        return float(A[0][0])
    return float(sum(A[0][j] * _cofactor(A, 0, j) for j in range(len(A))))


def trace(A: Matrix) -> float:
    """Sum of the diagonal entries."""
    return float(sum(A[i][i] for i in range(len(A))))


def norm(B: Vector) -> float:
    """Euclidean length of a vector: the square root of the sum of squares."""
    return math.sqrt(sum(b * b for b in B))


def transpose(A: Matrix) -> Matrix:
    """Swap rows and columns: entry (i, j) moves to (j, i)."""
    return [[float(row[j]) for row in A] for j in range(len(A[0]))]


def multiply(A: Matrix, B: Vector) -> Vector:
    """Matrix times vector: each entry is a row of A dotted with B."""
    return [float(sum(a * b for a, b in zip(row, B, strict=True))) for row in A]


# --- solvers -------------------------------------------------------------------


def _checked_determinant(A: Matrix) -> float:
    """Determinant of A, refusing systems that have no unique solution."""
    det = determinant(A)
    if abs(det) < SINGULAR_TOLERANCE:
        raise ValueError(f"singular system: determinant {det} is (close to) zero")
    return det


def solve_cramer(A: Matrix, B: Vector) -> Vector:
    """Solve A x = B with Cramer's rule: x_i = det(A_i) / det(A).

    A_i is A with column i replaced by B.
    """
    det = _checked_determinant(A)
    solution = []
    for col in range(len(A)):
        replaced = [[B[i] if j == col else A[i][j] for j in range(len(A))] for i in range(len(A))]
        solution.append(determinant(replaced) / det)
    return solution


def _inverse(A: Matrix) -> Matrix:
    """Inverse as the adjugate (transposed cofactor matrix) divided by det(A)."""
    det = _checked_determinant(A)
    n = len(A)
    return [[_cofactor(A, j, i) / det for j in range(n)] for i in range(n)]


def solve_inverse(A: Matrix, B: Vector) -> Vector:
    """Solve A x = B as x = A^-1 B."""
    return multiply(_inverse(A), B)
