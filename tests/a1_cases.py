"""Assignment 1's expected points and seeded bugs, shared by its grader tests, the
synthetic class of the batch tests and the sandbox tests."""

from __future__ import annotations

from helpers import inject_at_start, replace_once

FULL = {
    "pure.load_system": 1.5,
    "pure.basic_ops": 1.5,
    "pure.solve_cramer": 1.0,
    "pure.solve_inverse": 1.0,
    "vectorized.load_system": 1.0,
    "vectorized.basic_ops": 1.0,
    "vectorized.solvers": 1.0,
    "agreement": 2.0,
}


def drop_missing_variable(text: str) -> str:
    """The classic bug: a row only holds the variables that appear in the equation."""
    text = replace_once("def load_system(", "def _original_load_system(")(text)
    return text + (
        "\n\ndef load_system(path):\n"
        "    A, B = _original_load_system(path)\n"
        "    return [[c for c in row if c != 0] for row in A], B\n"
    )


def hide_line_numbers(text: str) -> str:
    """Error messages that quote the line but not its number."""
    text = replace_once("def load_system(", "def _original_load_system(")(text)
    return text + (
        "\n\ndef load_system(path):\n"
        "    import re\n"
        "    try:\n"
        "        return _original_load_system(path)\n"
        "    except ValueError as error:\n"
        "        raise ValueError(re.sub(r'line \\d+', 'a line', str(error))) from None\n"
    )


# Each seeded bug: the edits, then the points of every criterion it breaks (others stay full).
SEEDED_BUGS = {
    "cofactor sign ignores the column (pure determinant)": (
        {"a1/pure.py": replace_once("(-1) ** (row + col)", "(-1) ** row")},
        {"pure.basic_ops": 1.2, "pure.solve_cramer": 0, "pure.solve_inverse": 0, "agreement": 0},
    ),
    "negated determinant (numpy)": (
        {"a1/vectorized.py": replace_once(
            "return float(np.linalg.det(_matrix(A)))", "return -float(np.linalg.det(_matrix(A)))")},
        {"vectorized.basic_ops": 0.8, "agreement": 0},
    ),
    "parser drops a missing variable (pure)": (
        {"a1/pure.py": drop_missing_variable},
        {"pure.load_system": 0, "agreement": 0},
    ),
    "transpose returns the input unchanged (numpy)": (
        {"a1/vectorized.py": replace_once("return _matrix(A).T.copy()", "return _matrix(A).copy()")},
        {"vectorized.basic_ops": 0.8, "agreement": 0},
    ),
    "solver misses the singular check (numpy inverse)": (
        {"a1/vectorized.py": replace_once(
            "    _checked_determinant(A)\n    return np.linalg.inv(A) @ B",
            "    return np.linalg.pinv(A) @ B")},
        {"vectorized.solvers": 0},
    ),
    "both modules return the same wrong trace": (
        {"a1/pure.py": inject_at_start("trace", "return 0.0"),
         "a1/vectorized.py": inject_at_start("trace", "return 0.0")},
        {"pure.basic_ops": 1.2, "vectorized.basic_ops": 0.8, "agreement": 0},
    ),
    "malformed line reported without its number (pure)": (
        {"a1/pure.py": hide_line_numbers},
        {"pure.load_system": 0},
    ),
}  # fmt: skip


#: What a numpy import in pure.py costs.
PURE_RULE_LOSS = {"pure.load_system": 0, "pure.basic_ops": 0, "pure.solve_cramer": 0,
                  "pure.solve_inverse": 0, "agreement": 0}  # fmt: skip
