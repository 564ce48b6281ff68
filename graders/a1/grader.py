"""Grader of assignment 1: linear systems in pure Python (a1/pure.py) and numpy (a1/vectorized.py).

Every criterion calls the student's functions through the sandbox; the expected answers
are computed here, in the grader, with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from graders.a1.inputs import PUBLIC, Inputs, secret_inputs
from graders.kit import (
    Credit,
    CriterionFailed,
    GradingContext,
    RemoteModule,
    Sandbox,
    ask_all,
    criterion,
    expect,
)

OPERATIONS = ("determinant", "trace", "norm", "transpose", "multiply")


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture
def pure(grading: GradingContext) -> RemoteModule:
    return grading.module("a1.pure", sandbox="pure")


@pytest.fixture
def vectorized(grading: GradingContext) -> RemoteModule:
    return grading.module("a1.vectorized", sandbox="vectorized")


@pytest.fixture
def inputs(request: pytest.FixtureRequest, grading: GradingContext) -> Inputs:
    """The public inputs, or (when the course grades with a secret seed) this student's
    own, drawn for the requesting criterion."""
    rng = grading.secret_rng(request.node.get_closest_marker("criterion").kwargs["id"])
    return PUBLIC if rng is None else secret_inputs(rng)


# -- shared checks ------------------------------------------------------------------------
def check_parser(
    module: RemoteModule, grading: GradingContext, sandbox: str, numpy_only: bool, inputs: Inputs
) -> None:
    files = grading.sandbox(sandbox)
    paths = [
        files.put_file(f"inputs/system_{index}.txt", case.text)
        for index, case in enumerate(inputs.parse_cases)
    ]
    paths += [
        files.put_file(f"inputs/malformed_{index}.txt", case.text)
        for index, case in enumerate(inputs.malformed_cases)
    ]
    paths += [
        files.put_file(f"inputs/count_{index}.txt", text)
        for index, (_, text) in enumerate(inputs.wrong_count_cases)
    ]
    # One batch; some questions must raise, so a raise does not end it. The answers are
    # judged in the order a loop of calls would have met them.
    answers = iter(ask_all(module, [module.load_system.ask(p) for p in paths], until_error=False))
    for case in inputs.parse_cases:
        answer = next(answers).get()
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise CriterionFailed(
                f"load_system returned {expect.describe(answer)}; expected a pair (A, B)"
            )
        what = f"load_system ({case.name})"
        A = expect.array(answer[0], (3, 3), f"{what} A", numpy_only=numpy_only)
        B = expect.array(answer[1], (3,), f"{what} B", numpy_only=numpy_only)
        expect.close(A, case.A, f"{what}: A")
        expect.close(B, case.B, f"{what}: B")
    for case in inputs.malformed_cases:
        error = expect.raises(next(answers).get, "ValueError", f"load_system ({case.name})")
        line_text = case.text.splitlines()[case.line - 1].strip()
        message = error.student_raised.message if error.student_raised else ""
        if f"line {case.line}" not in message or line_text not in message:
            raise CriterionFailed(
                f"load_system ({case.name}): the ValueError must name the line, with 'line {case.line}' "
                f"and its text {line_text!r}; the message was {message!r}"
            )
    for name, _ in inputs.wrong_count_cases:
        expect.raises(next(answers).get, "ValueError", f"load_system ({name})")


def check_operation(module: RemoteModule, name: str, numpy_only: bool, inputs: Inputs) -> None:
    as_matrix = [list(map(list, m)) for m in inputs.matrices]
    cases = []
    for matrix, vector in zip(as_matrix, inputs.vectors, strict=True):
        args = (np.array(matrix), np.array(vector)) if numpy_only else (matrix, list(vector))
        question = args[1:] if name == "norm" else args if name == "multiply" else args[:1]
        cases.append((matrix, vector, getattr(module, name).ask(*question)))
    answers = ask_all(module, [call for _, _, call in cases])
    for (matrix, vector, _), answer in zip(cases, answers, strict=False):
        A = np.array(matrix)
        if name == "determinant":
            expect.close(expect.number(answer.get(), name), np.linalg.det(A), f"{name} of {matrix}")
        elif name == "trace":
            expect.close(expect.number(answer.get(), name), np.trace(A), f"{name} of {matrix}")
        elif name == "norm":
            expect.close(
                expect.number(answer.get(), name),
                np.linalg.norm(vector),
                f"{name} of {list(vector)}",
            )
        elif name == "transpose":
            got = expect.array(answer.get(), (3, 3), name, numpy_only=numpy_only)
            expect.close(got, A.T, f"{name} of {matrix}")
        elif name == "multiply":
            got = expect.array(answer.get(), (3,), name, numpy_only=numpy_only)
            expect.close(got, A @ np.array(vector), f"{name} of {matrix} and {list(vector)}")


def check_solver(module: RemoteModule, name: str, numpy_only: bool, inputs: Inputs) -> None:
    solver = getattr(module, name)
    solvable = []
    for matrix, vector in zip(inputs.matrices, inputs.vectors, strict=True):
        A, B = np.array(matrix), np.array(vector)
        args = (A, B) if numpy_only else ([list(r) for r in matrix], list(vector))
        solvable.append(solver.ask(*args))
    singular = [
        solver.ask(np.array(matrix), np.ones(3))
        if numpy_only
        else solver.ask([list(r) for r in matrix], [1.0, 1.0, 1.0])
        for matrix in inputs.singular
    ]
    # The singular systems must raise: a raise does not end this batch.
    answers = iter(ask_all(module, solvable + singular, until_error=False))
    for matrix, vector in zip(inputs.matrices, inputs.vectors, strict=True):
        A, B = np.array(matrix), np.array(vector)
        got = expect.array(next(answers).get(), (3,), name, numpy_only=numpy_only)
        expect.close(
            got,
            np.linalg.solve(A, B),
            f"{name} for A={[list(r) for r in matrix]}, B={list(vector)}",
        )
    for matrix in inputs.singular:
        expect.raises(
            next(answers).get,
            "ValueError",
            f"{name} on the singular matrix {[list(r) for r in matrix]}",
        )


# -- criteria: pure.py --------------------------------------------------------------------
@criterion("pure.load_system", 1.5, "Parse equations (pure Python)")
def test_pure_load_system(pure: RemoteModule, grading: GradingContext, inputs: Inputs) -> None:
    check_parser(pure, grading, "pure", numpy_only=False, inputs=inputs)


@criterion("pure.basic_ops", 1.5, "Determinant, trace, norm, transpose, multiply (pure Python)")
def test_pure_basic_ops(pure: RemoteModule, credit: Credit, inputs: Inputs) -> None:
    credit.parts(OPERATIONS)
    for name in OPERATIONS:
        with credit.check(name):
            check_operation(pure, name, numpy_only=False, inputs=inputs)


@criterion("pure.solve_cramer", 1, "Cramer's rule (pure Python)")
def test_pure_cramer(pure: RemoteModule, inputs: Inputs) -> None:
    check_solver(pure, "solve_cramer", numpy_only=False, inputs=inputs)


@criterion("pure.solve_inverse", 1, "Solve by the inverse (pure Python)")
def test_pure_inverse(pure: RemoteModule, inputs: Inputs) -> None:
    check_solver(pure, "solve_inverse", numpy_only=False, inputs=inputs)


# -- criteria: vectorized.py ---------------------------------------------------------------
@criterion("vectorized.load_system", 1, "Parse equations (numpy)")
def test_vectorized_load_system(
    vectorized: RemoteModule, grading: GradingContext, inputs: Inputs
) -> None:
    check_parser(vectorized, grading, "vectorized", numpy_only=True, inputs=inputs)


@criterion("vectorized.basic_ops", 1, "Determinant, trace, norm, transpose, multiply (numpy)")
def test_vectorized_basic_ops(vectorized: RemoteModule, credit: Credit, inputs: Inputs) -> None:
    credit.parts(OPERATIONS)
    for name in OPERATIONS:
        with credit.check(name):
            check_operation(vectorized, name, numpy_only=True, inputs=inputs)


@criterion("vectorized.solvers", 1, "Cramer's rule and the inverse (numpy)")
def test_vectorized_solvers(vectorized: RemoteModule, inputs: Inputs) -> None:
    check_solver(vectorized, "solve_cramer", numpy_only=True, inputs=inputs)
    check_solver(vectorized, "solve_inverse", numpy_only=True, inputs=inputs)


# -- criterion: agreement (property-based) -------------------------------------------------
def equation_text(row: list[int], rhs: int) -> str:
    """Render one equation the way a person writes it (``x - 2y = 3``, zero terms omitted)."""
    terms = []
    for coefficient, variable in zip(row, "xyz", strict=True):
        if coefficient == 0:
            continue
        sign = "-" if coefficient < 0 else "+"
        magnitude = "" if abs(coefficient) == 1 else str(abs(coefficient))
        terms.append(f"{sign} {magnitude}{variable}")
    text = " ".join(terms).removeprefix("+ ")
    return f"{text} = {rhs}"


@criterion("agreement", 2, "numpy and pure Python agree on random systems (property-based)")
def test_agreement(
    pure: RemoteModule, vectorized: RemoteModule, grading: GradingContext, inputs: Inputs
) -> None:
    # The systems are drawn first, then each module answers all of them in its own turn:
    # the two workers are never alive together, so neither can ask the other. numpy's
    # turn comes first: its worker is still running from the criteria before this one.
    systems = [([list(row) for row in A], list(B)) for A, B in inputs.systems]
    from_numpy = _answers(vectorized, grading.sandbox("vectorized"), systems, as_arrays=True)
    from_pure = _answers(pure, grading.sandbox("pure"), systems, as_arrays=False)
    for (A, B), pure_answers, numpy_answers in zip(systems, from_pure, from_numpy, strict=True):
        numpy_A, numpy_B = np.array(A, dtype=float), np.array(B, dtype=float)
        solution = np.linalg.solve(numpy_A, numpy_B)
        correct = {
            "load_system": (numpy_A, numpy_B), "determinant": np.linalg.det(numpy_A),
            "trace": np.trace(numpy_A), "norm": np.linalg.norm(numpy_B),
            "transpose": numpy_A.T, "multiply": numpy_A @ numpy_B,
            "solve_cramer": solution, "solve_inverse": solution,
        }  # fmt: skip
        text = _system_text(A, B)
        for name in AGREEMENT_FUNCTIONS:
            _agree(
                name, pure_answers[name], numpy_answers[name], correct[name], text,
                pair=name == "load_system",
            )  # fmt: skip


AGREEMENT_FUNCTIONS = (
    "load_system", "determinant", "trace", "norm", "transpose", "multiply", "solve_cramer",
    "solve_inverse",
)  # fmt: skip


def _system_text(A: list[list[int]], B: list[int]) -> str:
    return "\n".join(equation_text(row, rhs) for row, rhs in zip(A, B, strict=True)) + "\n"


def _answers(
    module: RemoteModule, files: Sandbox, systems: list, *, as_arrays: bool
) -> list[dict[str, object]]:
    """Every agreement function's answer for every system, from one module's worker, asked
    in one batch (640 questions in all: one round trip each would cost more than the
    questions). The batch stops at the first call that fails, as a loop of calls would."""
    calls = []
    for index, (A, B) in enumerate(systems):
        floats_A, floats_B = [[float(v) for v in row] for row in A], [float(v) for v in B]
        matrix, vector = (
            (np.array(floats_A), np.array(floats_B)) if as_arrays else (floats_A, floats_B)
        )
        path = files.put_file(f"inputs/random_{index}.txt", _system_text(A, B))
        arguments = {
            "load_system": (path,), "determinant": (matrix,), "trace": (matrix,),
            "norm": (vector,), "transpose": (matrix,), "multiply": (matrix, vector),
            "solve_cramer": (matrix, vector), "solve_inverse": (matrix, vector),
        }  # fmt: skip
        calls += [getattr(module, name).ask(*arguments[name]) for name in AGREEMENT_FUNCTIONS]
    values = iter([answer.get() for answer in ask_all(module, calls)])
    return [{name: next(values) for name in AGREEMENT_FUNCTIONS} for _ in systems]


def _agree(
    name: str, from_pure: object, from_numpy: object, correct: object, text: str, *, pair: bool
) -> None:
    """Fail unless both answers hold the correct numbers (an (A, B) pair when ``pair``).

    Each module is held to the grader's own answer, so two modules that agree on a wrong
    answer (both return zeros) do not earn the agreement points.
    """
    try:
        left = _flatten(from_pure, pair)
        right = _flatten(from_numpy, pair)
    except (TypeError, ValueError, OverflowError):
        raise CriterionFailed(
            f"{name}: answers are not numeric (pure: {expect.describe(from_pure)}, "
            f"numpy: {expect.describe(from_numpy)})"
        ) from None
    expected = _flatten(correct, pair)
    system = text.strip().replace("\n", "; ")
    if left.shape != right.shape or not np.allclose(left, right, rtol=1e-6, atol=1e-9):
        raise CriterionFailed(
            f"{name} disagrees for the system {system}: pure gave {expect.describe(from_pure)}, "
            f"numpy gave {expect.describe(from_numpy)}"
        )
    if left.shape != expected.shape or not np.allclose(left, expected, rtol=1e-6, atol=1e-9):
        raise CriterionFailed(
            f"{name} is wrong in both modules for the system {system}: both gave "
            f"{expect.describe(from_pure)}, expected {expect.describe(correct)}"
        )


def _flatten(value: object, pair: bool) -> np.ndarray:
    if pair and not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise TypeError("not a pair")
    parts = list(value) if pair else [value]
    return np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in parts])
