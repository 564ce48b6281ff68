"""Secret inputs: with the course's secret seed, a1's criteria draw their own matrices,
vectors, equation texts and property systems for each student, so that a table of the
public inputs (which anyone can read in the grader) earns nothing, and neither does a
classmate's table. The attack first: a submission that only looks answers up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import (
    FAST_A1,
    REFERENCE,
    SHARED_DATA,
    build_submission,
    points_by_criterion,
    replace_once,
)

from graders.a1.grader import _system_text
from graders.a1.inputs import PUBLIC, secret_inputs
from graders.core.options import GradeOptions
from graders.core.runner import grade

SECRET = 57113


def _answers(A, B) -> dict[str, object]:
    A, B = np.array(A, dtype=float), np.array(B, dtype=float)
    solution = np.linalg.solve(A, B) if abs(np.linalg.det(A)) > 1e-9 else None
    return {
        "determinant": float(np.linalg.det(A)), "trace": float(np.trace(A)),
        "transpose": A.T.tolist(), "multiply": (A @ B).tolist(),
        "solve": None if solution is None else solution.tolist(),
    }  # fmt: skip


def _table(inputs) -> dict[str, dict]:
    """Every public input with numpy's answer, as a copier would compute them offline."""
    files: dict[str, object] = {}
    matrices: dict[str, dict] = {}
    norms: dict[str, float] = {}
    errors: dict[str, str] = {}
    for case in inputs.parse_cases:
        files[case.text] = [list(map(list, case.A)), list(case.B)]
    for case in inputs.malformed_cases:
        errors[case.text] = f"line {case.line}: {case.text.splitlines()[case.line - 1].strip()}"
    systems = [(A, B) for A, B in PUBLIC.systems]
    for A, B in systems:
        files[_system_text(A, B)] = [[list(map(float, r)) for r in A], list(map(float, B))]
    pairs = (
        list(zip(inputs.matrices, inputs.vectors, strict=True))
        + [(A, B) for A, B in systems]
        + [(A, (1.0, 1.0, 1.0)) for A in inputs.singular]
    )
    for A, B in pairs:
        key = repr([[float(v) for v in row] for row in A])
        matrices[key] = _answers(A, B)
        matrices[key + repr([float(v) for v in B])] = _answers(A, B)
        norms[repr([float(v) for v in B])] = float(np.linalg.norm(np.array(B, dtype=float)))
    return {"files": files, "errors": errors, "matrices": matrices, "norms": norms}


MODULE = """
import json
_TABLE = json.loads({table!r})


def _key(A):
    return repr([[float(v) for v in row] for row in A])


def load_system(path):
    with open(path) as handle:
        text = handle.read()
    found = _TABLE["files"].get(text)
    if found is None:
        raise ValueError(_TABLE["errors"].get(text, "not in the table"))
    return {convert}(found[0]), {convert}(found[1])


def determinant(A):
    return _TABLE["matrices"][_key(A)]["determinant"]


def trace(A):
    return _TABLE["matrices"][_key(A)]["trace"]


def norm(v):
    return _TABLE["norms"][repr([float(x) for x in v])]


def transpose(A):
    return {convert}(_TABLE["matrices"][_key(A)]["transpose"])


def multiply(A, v):
    return {convert}(_TABLE["matrices"][_key(A) + repr([float(x) for x in v])]["multiply"])


def _solve(A, B):
    found = _TABLE["matrices"][_key(A) + repr([float(x) for x in B])]["solve"]
    if found is None:
        raise ValueError("singular")
    return {convert}(found)


solve_cramer = solve_inverse = _solve
"""


def _table_submission(tmp_path, inputs=PUBLIC):
    table = json.dumps(_table(inputs))
    return build_submission(
        tmp_path,
        edits={
            "a1/pure.py": MODULE.format(table=table, convert="list"),
            "a1/vectorized.py": "import numpy as np\n"
            + MODULE.format(table=table, convert="np.array"),
        },
    )


def _secrets(tmp_path, seed=SECRET):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"seed": seed}))
    return path


def test_a_table_of_the_public_inputs_scores_full_marks_without_secrets(tmp_path):
    result = grade(FAST_A1, _table_submission(tmp_path / "s"))
    assert result.points == 10, {c.id: c.reason for c in result.criteria if c.points < c.max_points}
    assert result.inputs == "public"


def test_under_a_secret_seed_the_table_scores_nothing(tmp_path):
    options = GradeOptions(secrets_file=_secrets(tmp_path), student_id="ann")
    result = grade(FAST_A1, _table_submission(tmp_path / "s"), options)
    assert result.points <= 0.5, points_by_criterion(result)
    assert result.inputs == "secret"
    shown = json.dumps(result.to_dict())
    assert str(SECRET) not in shown  # the seed itself is never in a report


def test_a_classmates_table_is_worth_nothing(tmp_path):
    """Even the inputs a classmate was given (say, printed by their code) do not answer
    another student's."""
    from graders.core.context import inputs_rng

    leaked = secret_inputs(inputs_rng(SECRET, "ann", "a1", "pure.basic_ops"))
    options = GradeOptions(secrets_file=_secrets(tmp_path), student_id="ben")
    result = grade(FAST_A1, _table_submission(tmp_path / "s", leaked), options)
    assert points_by_criterion(result)["pure.basic_ops"] == 0


def test_secret_inputs_keep_the_contract(tmp_path):
    """The reference keeps full marks and a seeded bug loses exactly its criteria, with
    inputs drawn for two students and for the public."""
    from a1_cases import FULL, SEEDED_BUGS

    secrets = _secrets(tmp_path)
    for student in ("ann", "ben"):
        options = GradeOptions(secrets_file=secrets, student_id=student)
        result = grade(FAST_A1, REFERENCE, options)
        assert result.points == 10, {c.id: c.reason for c in result.criteria if c.reason}
        edits, broken = SEEDED_BUGS["negated determinant (numpy)"]
        buggy = grade(FAST_A1, build_submission(tmp_path / student, edits=edits), options)
        assert points_by_criterion(buggy) == {**FULL, **broken}


@pytest.mark.parametrize("seed", range(20))
def test_secret_inputs_have_the_public_cases_structure(seed):
    inputs = secret_inputs(np.random.default_rng(seed))
    assert [c.name for c in inputs.parse_cases] == [c.name for c in PUBLIC.parse_cases]
    assert [c.name for c in inputs.malformed_cases] == [c.name for c in PUBLIC.malformed_cases]
    for case in inputs.parse_cases:
        assert len([line for line in case.text.splitlines() if line.strip()]) == 3
        assert all(any(row) for row in case.A)
    for case in inputs.malformed_cases:
        line = case.text.splitlines()[case.line - 1]
        assert line.strip(), case
    assert inputs.matrices[2][0][0] == 0.0  # needs a row swap in elimination
    for A in inputs.matrices:
        assert abs(np.linalg.det(np.array(A))) >= 0.5
    for A in inputs.singular:
        assert abs(np.linalg.det(np.array(A))) < 1e-9
    assert len(inputs.systems) >= 20


def _both(first, second):
    return lambda text: second(first(text))


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
@pytest.mark.parametrize(
    ("key", "only", "module", "bug", "broken"),
    [
        ("a2", ("softmax_one_hot", "gradients", "training.vectorized"), "a2/perceptron.py",
         replace_once("np.exp(Z - Z.max(axis=-1, keepdims=True))", "np.exp(Z)"),
         {"softmax_one_hot": 1}),
        ("a3", ("forward", "backprop.small", "batched.no_sample_loop"), "a3/mlp.py",
         _both(replace_once("        return np.maximum(z, 0)\n",
                            "        return np.where(z > 0, z, 0.01 * z)\n"),
               replace_once("        return (a > 0).astype(a.dtype)\n",
                            "        return np.where(a > 0, 1.0, 0.01).astype(a.dtype)\n")),
         {"forward": 0}),
    ],
)  # fmt: skip
def test_gradient_checks_and_probes_use_secret_inputs(key, only, module, bug, broken, tmp_path):
    """a2 and a3: the inputs of every check that is not a training run are drawn from the
    secret seed for the student; the reference keeps its points, a seeded bug loses its."""
    from graders import catalog

    options = GradeOptions(
        secrets_file=_secrets(tmp_path), student_id="ann", only=only, data_dir=SHARED_DATA,
        download=False,
    )  # fmt: skip
    spec = catalog.spec(key)
    result = grade(spec, REFERENCE, options)
    graded = {c.id: c for c in result.criteria if c.id in only}
    assert {k: c.points for k, c in graded.items()} == {
        k: c.max_points for k, c in graded.items()
    }, {k: c.reason for k, c in graded.items()}
    assert result.inputs == "secret"
    buggy = grade(
        spec, build_submission(tmp_path / "bug", assignment=key, edits={module: bug}), options
    )
    points = {c.id: c.points for c in buggy.criteria if c.id in only}
    assert points == {**{k: c.max_points for k, c in graded.items()}, **broken}


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data")
def test_a4_checks_use_a_secret_sample(tmp_path):
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        pytest.skip('needs pip install "nngrade[torch]"')
    from graders import catalog

    only = ("dataset", "model", "evaluate")
    options = GradeOptions(
        secrets_file=_secrets(tmp_path), student_id="ann", only=only, data_dir=SHARED_DATA,
        download=False,
    )  # fmt: skip
    result = grade(catalog.spec("a4"), REFERENCE, options)
    graded = [c for c in result.criteria if c.id in only]
    assert all(c.points == c.max_points for c in graded), {c.id: c.reason for c in graded}
    assert result.inputs == "secret"


def test_the_public_agreement_systems_are_the_propertys_examples():
    """The stored systems are what the property's strategy draws from: 40 distinct systems
    of integers in its ranges, none with a zero row, each solvable and well conditioned."""
    systems = PUBLIC.systems
    assert len(systems) == 40 and len(set(systems)) == 40
    for A, B in systems:
        assert all(-9 <= v <= 9 and isinstance(v, int) for row in A for v in row)
        assert all(-20 <= v <= 20 and isinstance(v, int) for v in B)
        assert all(any(row) for row in A)
        matrix = np.array(A, dtype=float)
        assert abs(np.linalg.det(matrix)) >= 1 and np.linalg.cond(matrix) < 100
