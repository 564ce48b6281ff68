"""The gradient checker: correct gradients pass, each kind of bug fails the right tensor."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from graders.core.gradcheck import (
    check_gradients,
    kink_mask,
    numerical_gradient,
    relative_error,
    sample_indices,
)

Params = dict[str, np.ndarray]


# --- reference models -----------------------------------------------------------------


def softmax_loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """Mean cross-entropy of softmax(x W + b) and its exact gradient."""
    scores = x @ params["W"] + params["b"]
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.log(probs[np.arange(n), y]).mean()
    dscores = probs
    dscores[np.arange(n), y] -= 1
    dscores /= n
    return float(loss), {"W": x.T @ dscores, "b": dscores.sum(axis=0)}


def softmax_problem(
    features: int = 3, classes: int = 3, n: int = 6, seed: int = 0
) -> tuple[Callable[[Params], float], Params, Params]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = rng.integers(0, classes, n)
    params = {"W": rng.normal(size=(features, classes)), "b": rng.normal(size=classes)}
    _, grads = softmax_loss_and_grads(params, x, y)
    return (lambda p: softmax_loss_and_grads(p, x, y)[0]), params, grads


def two_layer_net(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params, np.ndarray]:
    """Softmax loss of a ReLU MLP, its gradients, and the hidden pre-activation."""
    z = x @ params["W1"] + params["b1"]
    hidden = np.maximum(z, 0)
    scores = hidden @ params["W2"] + params["b2"]
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.log(probs[np.arange(n), y]).mean()
    dscores = probs
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dhidden = dscores @ params["W2"].T
    dz = dhidden * (z > 0)
    grads = {"W1": x.T @ dz, "b1": dz.sum(0), "W2": hidden.T @ dscores, "b2": dscores.sum(0)}
    return float(loss), grads, z


# --- check_gradients ------------------------------------------------------------------


def test_correct_gradient_passes() -> None:
    loss, params, grads = softmax_problem()
    report = check_gradients(loss, params, grads)
    assert report.ok and report.fraction_ok == 1.0
    for check in report.checks:
        assert check.ok and check.relative_error < 1e-7 and check.problem == ""
    assert report["W"].checked == 9 and report["b"].checked == 3
    assert report.summary() == "dW correct, db correct"


BREAKAGES = {
    "transposed": ("W", lambda g: {**g, "W": g["W"].T}),
    "missing 1/N": ("W", lambda g: {**g, "W": g["W"] * 6}),
    "sign-flipped bias": ("b", lambda g: {**g, "b": -g["b"]}),
}


@pytest.mark.parametrize("bug", BREAKAGES)
def test_each_bug_fails_exactly_the_tensor_it_breaks(bug: str) -> None:
    broken, mutate = BREAKAGES[bug]
    loss, params, grads = softmax_problem()
    report = check_gradients(loss, params, mutate(grads))
    assert not report.ok and report.fraction_ok == 0.5
    for check in report.checks:
        assert check.ok == (check.name != broken)
    bad = report[broken]
    assert bad.relative_error > 1e-2
    assert f"d{broken} wrong (relative error {bad.relative_error:.1e})" in report.summary()
    other = "b" if broken == "W" else "W"
    assert f"d{other} correct" in report.summary()


def test_wrong_shape_reports_both_shapes() -> None:
    loss, params, grads = softmax_problem(features=4, classes=3)
    report = check_gradients(loss, params, {"W": grads["W"].T, "b": grads["b"][None, :]})
    assert report["W"].problem == "has shape (3, 4); expected (4, 3)"
    assert report["b"].problem == "has shape (1, 3); expected (3,)"
    assert report["W"].checked == 0 and report["W"].relative_error is None
    assert (
        report.summary()
        == "dW has shape (3, 4); expected (4, 3), db has shape (1, 3); expected (3,)"
    )


def test_missing_and_unusable_gradients() -> None:
    loss, params, grads = softmax_problem()
    assert check_gradients(loss, params, {"W": grads["W"]}).summary() == "dW correct, db missing"
    report = check_gradients(loss, params, {"W": None, "b": np.full(3, np.nan)})
    assert report["W"].problem == "is None, not an array of numbers"
    assert report["b"].problem == "contains NaN or inf"
    assert report.fraction_ok == 0.0


def test_params_restored_exactly_even_when_the_loss_raises() -> None:
    loss, params, grads = softmax_problem()
    originals = {name: value.copy() for name, value in params.items()}
    objects = dict(params)
    calls = 0

    def flaky(p: Params) -> float:
        nonlocal calls
        calls += 1
        if calls == 4:  # the second evaluation of the second entry of W
            raise ValueError("shapes (6,3) and (2,3) not aligned\nmore detail")
        return loss(p)

    report = check_gradients(flaky, params, grads)
    for name, value in params.items():
        assert value is objects[name]
        assert value.tobytes() == originals[name].tobytes()
    assert not report["W"].ok
    assert report["W"].problem == (
        "could not be checked (the loss raised ValueError: shapes (6,3) and (2,3) not aligned)"
    )
    assert report["b"].ok


def test_sampling_checks_at_most_max_entries() -> None:
    loss, params, grads = softmax_problem(features=30, classes=20, n=4)
    calls = 0

    def counting(p: Params) -> float:
        nonlocal calls
        calls += 1
        return loss(p)

    report = check_gradients(counting, params, grads, max_entries=25)
    assert report.ok
    assert report["W"].checked == 25 and report["b"].checked == 20
    assert calls == 2 * (25 + 20)


def test_sample_indices() -> None:
    rng = np.random.default_rng(0)
    assert sample_indices((2, 3), 10, rng) == [(i, j) for i in range(2) for j in range(3)]
    picked = sample_indices((40, 50), 30, rng)
    assert len(picked) == len(set(picked)) == 30
    assert all(0 <= i < 40 and 0 <= j < 50 for i, j in picked)
    skip = np.zeros((2, 3), dtype=bool)
    skip[0, 1] = True
    assert (0, 1) not in sample_indices((2, 3), 10, rng, skip=skip)
    assert sample_indices((), 5, rng) == [()]


def test_relu_net_passes_when_kinks_are_skipped() -> None:
    rng = np.random.default_rng(1)
    n, d, hidden, classes, h = 8, 5, 6, 3, 1e-5
    x = rng.normal(size=(n, d))
    y = rng.integers(0, classes, n)
    params = {
        "W1": rng.normal(size=(d, hidden)),
        "b1": rng.normal(size=hidden),
        "W2": rng.normal(size=(hidden, classes)),
        "b2": rng.normal(size=classes),
    }
    z = x @ params["W1"] + params["b1"]
    params["b1"][2] -= z[0, 2] - 1e-7  # sample 0 sits just above the kink of unit 2
    _, grads, z = two_layer_net(params, x, y)

    def loss(p: Params) -> float:
        return two_layer_net(p, x, y)[0]

    naive = check_gradients(loss, params, grads, h=h)
    assert not naive["b1"].ok

    unit = kink_mask(z, h * max(1.0, np.abs(x).max())).any(axis=0)
    assert unit.tolist() == [False, False, True, False, False, False]
    skip = {"W1": np.broadcast_to(unit, params["W1"].shape), "b1": unit}
    report = check_gradients(loss, params, grads, h=h, skip=skip)
    assert report.ok, report.summary()
    assert report["b1"].checked == hidden - 1 and report["W1"].checked == d * (hidden - 1)
    assert report["W2"].checked == hidden * classes


def test_grader_mistakes_raise() -> None:
    loss, params, grads = softmax_problem()
    with pytest.raises(ValueError, match="not params"):
        check_gradients(loss, params, grads, skip={"W3": np.zeros(3, bool)})
    with pytest.raises(ValueError, match="skip mask has shape"):
        check_gradients(loss, params, grads, skip={"b": np.zeros(4, bool)})
    with pytest.raises(TypeError, match="floats"):
        check_gradients(loss, {**params, "b": np.zeros(3, dtype=int)}, grads)


# --- the building blocks --------------------------------------------------------------


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([0.1, 0.7, -0.3])
    before = x.tobytes()

    def f() -> float:
        if x[1] != 0.7:
            raise RuntimeError("boom")
        return float(x.sum())

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert x.tobytes() == before


def test_numerical_gradient_only_computes_requested_indices() -> None:
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    grad = numerical_gradient(lambda: float((x**2).sum()), x, indices=[(0, 1), (1, 2)])
    assert np.isnan(grad).sum() == 4
    np.testing.assert_allclose(grad[0, 1], 2.0, rtol=1e-8)
    np.testing.assert_allclose(grad[1, 2], 10.0, rtol=1e-8)


def test_relative_error_ignores_unchecked_entries() -> None:
    assert relative_error(np.array([1.0, 5.0]), np.array([1.0, np.nan])) == 0.0
    assert relative_error(np.array([1.0, -1.0]), np.array([1.0, 1.0])) == 1.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(np.ones(2), np.full(2, np.nan)) == 0.0


def test_kink_mask() -> None:
    z = np.array([[-1.0, 5e-6, -2e-6, 0.0, 1e-4]])
    assert kink_mask(z, 1e-5).tolist() == [[False, True, True, True, False]]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, n), elements=st.floats(-1, 1)),
            arrays(np.float64, (n,), elements=st.floats(-1, 1)),
        )
    )
)
def test_numerical_gradient_of_quadratic_forms(case: tuple[np.ndarray, np.ndarray]) -> None:
    b, x = case
    a = (b + b.T) / 2
    expected = a @ x
    grad = numerical_gradient(lambda: float(0.5 * x @ a @ x), x)
    np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-6)
