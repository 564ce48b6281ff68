"""The inputs of assignment 1's criteria: the public ones, or the course's secret ones.

The grader ships with nngrade, so its constants are anyone's to read: a submission could
hold a table of every public matrix, vector and equation text with numpy's answers. When
the course grades with a secret seed (``{"seed": N}`` in the secrets file), every input is
drawn from that seed and the student's id instead, with the structure of the public cases
(the same kinds of matrix, of spacing, missing variables, signs, decimals and malformed
lines), so that a table of public inputs, or of a classmate's, is worth nothing. Expected
answers always come from numpy, in the grader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graders.a1.cases import (
    MALFORMED_CASES,
    MATRICES,
    PARSE_CASES,
    SINGULAR,
    VECTORS,
    WRONG_COUNT_CASES,
    MalformedCase,
    ParseCase,
)

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Inputs:
    """Every input the criteria use."""

    parse_cases: tuple[ParseCase, ...]
    malformed_cases: tuple[MalformedCase, ...]
    wrong_count_cases: tuple[tuple[str, str], ...]
    matrices: tuple[Matrix, ...]
    vectors: tuple[tuple[float, ...], ...]
    singular: tuple[Matrix, ...]
    #: The agreement property's systems (integers).
    systems: tuple[tuple[tuple[tuple[int, ...], ...], tuple[int, ...]], ...]


#: The agreement's public systems, drawn once by hypothesis (see graders/a1/drawn_systems.py).
PUBLIC_SYSTEMS = tuple(
    (tuple(map(tuple, system["A"])), tuple(system["B"]))
    for system in json.loads(Path(__file__).with_name("agreement_systems.json").read_text())
)

PUBLIC = Inputs(
    PARSE_CASES, MALFORMED_CASES, WRONG_COUNT_CASES, MATRICES, VECTORS, SINGULAR, PUBLIC_SYSTEMS
)


def secret_inputs(rng: np.random.Generator) -> Inputs:
    """Inputs of the public cases' structure, drawn from ``rng``."""
    systems = tuple(_integer_system(rng) for _ in range(24))
    good = tuple(_render(*systems[0], rng, "plain").split("\n"))
    return Inputs(
        parse_cases=tuple(_parse_case(kind, rng) for kind in _PARSE_KINDS),
        malformed_cases=tuple(_malformed(kind, good, rng) for kind in _MALFORMED_KINDS),
        wrong_count_cases=(
            ("two equations", "\n".join(good[:2]) + "\n"),
            ("four equations", "\n".join((*good, good[0])) + "\n"),
            ("empty file", ""),
        ),
        matrices=tuple(_matrix(rng, swap=index == 2) for index in range(4)),
        vectors=tuple(tuple(float(v) for v in rng.integers(-40, 41, 3) / 4) for _ in range(4)),
        singular=_singular(rng),
        systems=systems[1:],
    )


# -- systems ---------------------------------------------------------------------------------
def _integer_system(
    rng: np.random.Generator,
) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """A well-conditioned 3x3 system of small integers (no row of zeros)."""
    while True:
        A = rng.integers(-9, 10, (3, 3))
        if abs(np.linalg.det(A)) >= 1 and np.linalg.cond(A) < 100 and all(A.any(axis=1)):
            B = rng.integers(-20, 21, 3)
            return tuple(tuple(int(v) for v in row) for row in A), tuple(int(v) for v in B)


def _matrix(rng: np.random.Generator, swap: bool) -> Matrix:
    """A well-conditioned matrix of quarters; ``swap``: its top-left entry is 0, so
    elimination needs a row swap."""
    while True:
        A = rng.integers(-16, 17, (3, 3)) / 4
        if swap:
            A[0, 0] = 0.0
        if abs(np.linalg.det(A)) >= 0.5 and np.linalg.cond(A) < 200:
            return tuple(tuple(float(v) for v in row) for row in A)


def _singular(rng: np.random.Generator) -> tuple[Matrix, ...]:
    """Three singular matrices: two equal rows up to a factor, a row that is the sum of the
    others, a row of zeros (in a random place)."""
    found = []
    for kind in ("multiple", "sum", "zero"):
        A = rng.integers(-9, 10, (3, 3)).astype(float)
        if kind == "multiple":
            A[1] = A[0] * float(rng.integers(2, 4))
        elif kind == "sum":
            A[2] = A[0] + A[1]
        else:
            A[int(rng.integers(0, 3))] = 0.0
        A = A[rng.permutation(3)]
        found.append(tuple(tuple(float(v) for v in row) for row in A))
    return tuple(found)


# -- equation texts --------------------------------------------------------------------------
_PARSE_KINDS = (
    "standard example", "terms in any order", "omitted coefficient of 1 and signed first term",
    "missing variables", "decimals and negative right-hand sides", "free spacing",
    "blank lines",
)  # fmt: skip


def _parse_case(kind: str, rng: np.random.Generator) -> ParseCase:
    if kind == "decimals and negative right-hand sides":
        A = rng.integers(-12, 13, (3, 3)) / 4
        A[int(rng.integers(0, 3)), int(rng.integers(0, 3))] = 0
        B = -(rng.integers(1, 40, 3) / 4)
    else:
        A = rng.integers(-9, 10, (3, 3)).astype(float)
        B = rng.integers(-20, 21, 3).astype(float)
        if kind == "omitted coefficient of 1 and signed first term":
            A[rng.random((3, 3)) < 0.5] = 1.0
            A[rng.random((3, 3)) < 0.3] = -1.0
        if kind == "missing variables":
            for row in A:
                row[int(rng.integers(0, 3))] = 0
    for row in A:
        if not row.any():
            row[int(rng.integers(0, 3))] = 1.0
    style = {"terms in any order": "shuffled", "free spacing": "spacing",
             "omitted coefficient of 1 and signed first term": "signed"}.get(kind, "plain")  # fmt: skip
    lines = [_equation(A[i], float(B[i]), rng, style) for i in range(3)]
    if kind == "blank lines":
        text = "\n" + "\n   \n".join(lines) + "\n\n"
    else:
        text = "\n".join(lines) + "\n"
    return ParseCase(kind, text, _tuple(A), tuple(float(v) for v in B))


def _render(
    A: tuple[tuple[int, ...], ...], B: tuple[int, ...], rng: np.random.Generator, style: str
) -> str:
    rows = zip(A, B, strict=True)
    return "\n".join(_equation(np.array(row, float), float(b), rng, style) for row, b in rows)


def _equation(row: np.ndarray, rhs: float, rng: np.random.Generator, style: str) -> str:
    """One equation as a person writes it: zero terms left out, a coefficient of 1 not
    written. ``shuffled``: the terms in any order; ``signed``: the first term's sign
    written too; ``spacing``: spaces anywhere between the parts, or none."""
    terms = [(c, v) for c, v in zip(row, "xyz", strict=True) if c != 0]
    if style == "shuffled":
        terms = [terms[i] for i in rng.permutation(len(terms))]

    def gap() -> str:
        return " " * int(rng.integers(0, 3)) if style == "spacing" else " "

    def tight() -> str:
        return " " * int(rng.integers(0, 2)) if style == "spacing" else ""

    text = tight()
    for index, (coefficient, variable) in enumerate(terms):
        sign = "-" if coefficient < 0 else "+"
        number = "" if abs(coefficient) == 1 else _number(abs(coefficient))
        if index == 0 and sign == "+" and style != "signed":
            text += f"{number}{tight()}{variable}"
        elif index == 0:
            text += f"{sign}{' ' if sign == '+' else tight()}{number}{tight()}{variable}"
        else:
            text += f"{gap()}{sign}{gap()}{number}{tight()}{variable}"
    return f"{text}{gap()}={gap()}{_number(rhs)}{tight()}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _tuple(A: np.ndarray) -> Matrix:
    return tuple(tuple(float(v) for v in row) for row in A)


# -- malformed lines -------------------------------------------------------------------------
_MALFORMED_KINDS = (
    "no '='", "two '='", "unknown variable", "repeated variable", "dangling sign",
    "non-numeric right-hand side", "malformed coefficient",
)  # fmt: skip


def _malformed(kind: str, good: tuple[str, ...], rng: np.random.Generator) -> MalformedCase:
    """Three equations, one of them broken the way ``kind`` says, at a random line; the
    "non-numeric right-hand side" case also holds a blank line before its bad line (the
    line number counts it)."""
    lines = list(good)
    at = int(rng.integers(0, 3))
    line = lines[at]
    left, _, right = line.partition(" = ")
    if kind == "no '='":
        bad = f"{left} {right}"
    elif kind == "two '='":
        bad = f"{left} = z = {right}"
    elif kind == "unknown variable":
        bad = f"{left} + {int(rng.integers(2, 9))}w = {right}"
    elif kind == "repeated variable":
        present = [v for v in "xyz" if v in left]
        bad = f"{left} + {int(rng.integers(2, 9))}{present[-1]} = {right}"
    elif kind == "dangling sign":
        bad = f"{left} + = {right}"
    elif kind == "non-numeric right-hand side":
        bad = f"{left} = {rng.choice(['abc', 'five', 'x1', '--'])}"
    else:
        digits = ".".join(str(int(d)) for d in rng.integers(1, 10, 3))
        bad = f"{digits}{left.lstrip('-+ 0123456789.')} = {right}"
    lines[at] = bad
    if kind == "non-numeric right-hand side":
        lines.insert(at, "")
        at += 1
    return MalformedCase(kind, "\n".join(lines) + "\n", at + 1)
