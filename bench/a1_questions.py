"""The questions ``nngrade check a1`` asks of a1/pure.py and a1/vectorized.py, asked directly.

bench/otter_side_by_side.py pastes this file, after an ``INPUTS`` literal taken from
graders.a1 (the public cases, and the agreement property's systems with their equation
texts as the grader writes them), into every Otter test
file it writes and into the bare-numpy floor script, so that Otter, the floor and nngrade
ask the same questions and compare the answers the same way: the same types and shapes
demanded (``graders.core.expect``), numpy's answers, ``np.allclose`` with rtol 1e-6 and
atol 1e-9, a ValueError (or a subclass) for bad files and singular systems, and the line
named in a malformed file's message (``graders/a1/grader.py``).

It imports only numpy and the standard library, and has no ``from __future__`` import:
it is pasted below other code.
"""

import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

RTOL, ATOL = 1e-6, 1e-9
OPERATIONS = ("determinant", "trace", "norm", "transpose", "multiply")
AGREEMENT_FUNCTIONS = (
    "load_system", "determinant", "trace", "norm", "transpose", "multiply", "solve_cramer",
    "solve_inverse",
)  # fmt: skip


class Failed(AssertionError):
    """A question answered wrongly (Otter fails a test case on any exception)."""


class Counted:
    """A module whose function calls are counted (the floor reports how many it asked)."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.calls = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(self._module, name)

        def call(*args: Any) -> Any:
            self.calls += 1
            return function(*args)

        return call


# -- the answer checks of graders.core.expect -----------------------------------------------
def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Failed(f"{what} returned {describe(value)}; expected a number")
    return float(value)


def array(value: Any, shape: tuple[int, ...], what: str, *, numpy_only: bool) -> np.ndarray:
    if numpy_only and not isinstance(value, np.ndarray):
        raise Failed(f"{what} returned {describe(value)}; expected a numpy array of shape {shape}")
    if not numpy_only and not isinstance(value, (list, tuple)):
        raise Failed(f"{what} returned {describe(value)}; expected a list")
    try:
        result = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Failed(f"{what} returned {describe(value)}; expected numbers") from None
    if result.shape != shape:
        raise Failed(f"{what} returned shape {result.shape}; expected {shape}")
    return result


def close(actual: Any, expected: Any, what: str) -> None:
    if not np.allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=False):
        raise Failed(f"{what}: got {actual!r}, expected {expected!r}")


def raises_value_error(call: Callable[[], Any], what: str) -> ValueError:
    try:
        value = call()
    except ValueError as error:
        return error
    except Exception as error:
        raise Failed(f"{what}: expected ValueError, but it raised {error!r}") from None
    raise Failed(f"{what}: expected ValueError, but it returned {describe(value)}")


# -- the criteria's checks of graders/a1/grader.py ------------------------------------------
def check_parser(module: Any, inputs: dict[str, Any], *, numpy_only: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, text, A, B) in enumerate(inputs["parse_cases"]):
            answer = module.load_system(_put(folder, f"system_{index}.txt", text))
            if not isinstance(answer, (tuple, list)) or len(answer) != 2:
                raise Failed(f"load_system returned {describe(answer)}; expected a pair (A, B)")
            what = f"load_system ({name})"
            close(array(answer[0], (3, 3), f"{what} A", numpy_only=numpy_only), A, f"{what}: A")
            close(array(answer[1], (3,), f"{what} B", numpy_only=numpy_only), B, f"{what}: B")
        for index, (name, text, line) in enumerate(inputs["malformed_cases"]):
            path = _put(folder, f"malformed_{index}.txt", text)
            error = raises_value_error(lambda p=path: module.load_system(p), name)
            line_text = text.splitlines()[line - 1].strip()
            if f"line {line}" not in str(error) or line_text not in str(error):
                raise Failed(f"load_system ({name}): the ValueError does not name line {line}")
        for index, (name, text) in enumerate(inputs["wrong_count_cases"]):
            path = _put(folder, f"count_{index}.txt", text)
            raises_value_error(lambda p=path: module.load_system(p), f"load_system ({name})")


def check_operation(module: Any, name: str, inputs: dict[str, Any], *, numpy_only: bool) -> None:
    for matrix, vector in zip(inputs["matrices"], inputs["vectors"], strict=True):
        A = np.array(matrix)
        args = (np.array(matrix), np.array(vector)) if numpy_only else _lists(matrix, vector)
        what = f"{name} of {matrix}"
        if name == "determinant":
            close(number(module.determinant(args[0]), name), np.linalg.det(A), what)
        elif name == "trace":
            close(number(module.trace(args[0]), name), np.trace(A), what)
        elif name == "norm":
            close(number(module.norm(args[1]), name), np.linalg.norm(vector), what)
        elif name == "transpose":
            got = array(module.transpose(args[0]), (3, 3), name, numpy_only=numpy_only)
            close(got, A.T, what)
        elif name == "multiply":
            got = array(module.multiply(*args), (3,), name, numpy_only=numpy_only)
            close(got, A @ np.array(vector), what)


def check_solver(module: Any, name: str, inputs: dict[str, Any], *, numpy_only: bool) -> None:
    solver = getattr(module, name)
    for matrix, vector in zip(inputs["matrices"], inputs["vectors"], strict=True):
        A, B = np.array(matrix), np.array(vector)
        args = (A, B) if numpy_only else _lists(matrix, vector)
        got = array(solver(*args), (3,), name, numpy_only=numpy_only)
        close(got, np.linalg.solve(A, B), f"{name} for A={matrix}, B={vector}")
    for matrix in inputs["singular"]:
        args = (np.array(matrix), np.ones(3)) if numpy_only else _lists(matrix, (1.0, 1.0, 1.0))
        raises_value_error(lambda a=args: solver(*a), f"{name} on the singular {matrix}")


def check_agreement(pure: Any, vectorized: Any, inputs: dict[str, Any]) -> None:
    systems = inputs["systems"]
    with tempfile.TemporaryDirectory() as folder:
        from_numpy = _answers(vectorized, folder, systems, as_arrays=True)
        from_pure = _answers(pure, folder, systems, as_arrays=False)
    for (A, B, _), pure_answers, numpy_answers in zip(systems, from_pure, from_numpy, strict=True):
        numpy_A, numpy_B = np.array(A, dtype=float), np.array(B, dtype=float)
        solution = np.linalg.solve(numpy_A, numpy_B)
        correct = {
            "load_system": (numpy_A, numpy_B), "determinant": np.linalg.det(numpy_A),
            "trace": np.trace(numpy_A), "norm": np.linalg.norm(numpy_B),
            "transpose": numpy_A.T, "multiply": numpy_A @ numpy_B,
            "solve_cramer": solution, "solve_inverse": solution,
        }  # fmt: skip
        for name in AGREEMENT_FUNCTIONS:
            pair = name == "load_system"
            try:
                left = _flatten(pure_answers[name], pair)
                right = _flatten(numpy_answers[name], pair)
            except (TypeError, ValueError, OverflowError):
                raise Failed(f"{name}: answers are not numeric for the system {A}, {B}") from None
            expected = _flatten(correct[name], pair)
            if left.shape != right.shape or not np.allclose(left, right, rtol=RTOL, atol=ATOL):
                raise Failed(f"{name} disagrees for the system {A}, {B}")
            if left.shape != expected.shape or not np.allclose(
                left, expected, rtol=RTOL, atol=ATOL
            ):
                raise Failed(f"{name} is wrong in both modules for the system {A}, {B}")


def _answers(module: Any, folder: str, systems: list, *, as_arrays: bool) -> list[dict[str, Any]]:
    answers = []
    for A, B, text in systems:
        floats_A, floats_B = [[float(v) for v in row] for row in A], [float(v) for v in B]
        matrix, vector = (
            (np.array(floats_A), np.array(floats_B)) if as_arrays else (floats_A, floats_B)
        )
        path = _put(folder, "random.txt", text)
        answers.append(
            {
                "load_system": module.load_system(path),
                "determinant": module.determinant(matrix),
                "trace": module.trace(matrix),
                "norm": module.norm(vector),
                "transpose": module.transpose(matrix),
                "multiply": module.multiply(matrix, vector),
                "solve_cramer": module.solve_cramer(matrix, vector),
                "solve_inverse": module.solve_inverse(matrix, vector),
            }
        )
    return answers


def _flatten(value: Any, pair: bool) -> np.ndarray:
    if pair and not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise TypeError("not a pair")
    parts = list(value) if pair else [value]
    return np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in parts])


def _lists(matrix: Any, vector: Any) -> tuple[list[list[float]], list[float]]:
    return [list(row) for row in matrix], list(vector)


def _put(folder: str, name: str, text: str) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path
