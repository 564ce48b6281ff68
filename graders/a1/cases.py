"""Assignment 1's public inputs: the cases the grader uses when the course gives no secret
seed (a student's own check), and the shapes the secret ones are drawn in
(:mod:`graders.a1.inputs`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseCase:
    name: str
    text: str
    A: tuple
    B: tuple


@dataclass(frozen=True)
class MalformedCase:
    name: str
    text: str
    line: int  # 1-based, counting blank lines


STANDARD = ParseCase(
    "standard example",
    "2x + 3y - z = 5\nx - y + 4z = 6\n3x + y + 2z = 7\n",
    ((2, 3, -1), (1, -1, 4), (3, 1, 2)),
    (5, 6, 7),
)

PARSE_CASES = (
    STANDARD,
    ParseCase(
        "terms in any order",
        "3y + 2x - z = 5\n4z - y + x = 6\ny + 2z + 3x = 7\n",
        ((2, 3, -1), (1, -1, 4), (3, 1, 2)),
        (5, 6, 7),
    ),
    ParseCase(
        "omitted coefficient of 1 and signed first term",
        "x - y + z = 1\n-x + z = 2\n+ z = 4\n",
        ((1, -1, 1), (-1, 0, 1), (0, 0, 1)),
        (1, 2, 4),
    ),
    ParseCase(
        "missing variables",
        "2x - z = 3\n5y = 10\nx + y = 0\n",
        ((2, 0, -1), (0, 5, 0), (1, 1, 0)),
        (3, 10, 0),
    ),
    ParseCase(
        "decimals and negative right-hand sides",
        "0.5x - 2.25y = -3.5\n1.5y + 0.25z = 0.75\n-0.1x + z = -2\n",
        ((0.5, -2.25, 0), (0, 1.5, 0.25), (-0.1, 0, 1)),
        (-3.5, 0.75, -2),
    ),
    ParseCase(
        "free spacing",
        "2x+3y-z=5\n  2 x +  3 y -z =  5  \n- 2 x = 1\n",
        ((2, 3, -1), (2, 3, -1), (-2, 0, 0)),
        (5, 5, 1),
    ),
    ParseCase(
        "blank lines",
        "\n2x + 3y - z = 5\n   \nx - y + 4z = 6\n\n3x + y + 2z = 7\n\n",
        ((2, 3, -1), (1, -1, 4), (3, 1, 2)),
        (5, 6, 7),
    ),
)

_GOOD = ("2x + 3y - z = 5", "x - y + 4z = 6", "3x + y + 2z = 7")

MALFORMED_CASES = (
    MalformedCase("no '='", f"{_GOOD[0]}\n2x + 3y - z 5\n{_GOOD[2]}\n", 2),
    MalformedCase("two '='", f"{_GOOD[0]}\n{_GOOD[1]}\n2x + 3y = z = 5\n", 3),
    MalformedCase("unknown variable", f"2x + 3w - z = 5\n{_GOOD[1]}\n{_GOOD[2]}\n", 1),
    MalformedCase("repeated variable", f"{_GOOD[0]}\n2x + 3y + x = 5\n{_GOOD[2]}\n", 2),
    MalformedCase("dangling sign", f"{_GOOD[0]}\n2x + = 5\n{_GOOD[2]}\n", 2),
    MalformedCase(
        "non-numeric right-hand side", f"{_GOOD[0]}\n\n{_GOOD[1]}\n2x + 3y - z = abc\n", 4
    ),
    MalformedCase("malformed coefficient", f"2.5.1x + y = 1\n{_GOOD[1]}\n{_GOOD[2]}\n", 1),
)

WRONG_COUNT_CASES = (
    ("two equations", f"{_GOOD[0]}\n{_GOOD[1]}\n"),
    ("four equations", "\n".join(_GOOD + (_GOOD[0],)) + "\n"),
    ("empty file", ""),
)

MATRICES = (
    ((2.0, 3.0, -1.0), (1.0, -1.0, 4.0), (3.0, 1.0, 2.0)),
    ((4.0, -2.0, 1.0), (3.0, 6.0, -4.0), (2.0, 1.0, 8.0)),
    ((0.0, 2.0, 1.0), (1.0, 0.0, 3.0), (2.0, 1.0, 0.0)),  # needs a row swap in elimination
    ((1.5, -0.5, 2.0), (0.25, 3.0, -1.0), (-2.0, 1.0, 0.5)),
)
VECTORS = ((5.0, 6.0, 7.0), (1.0, -2.0, 3.0), (0.0, 0.0, 1.0), (-1.5, 2.5, 0.5))
SINGULAR = (
    ((1.0, 2.0, 3.0), (2.0, 4.0, 6.0), (1.0, 1.0, 1.0)),
    ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0)),
    ((0.0, 0.0, 0.0), (1.0, 2.0, 3.0), (4.0, 5.0, 7.0)),
)
