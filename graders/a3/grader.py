"""Grader of assignment 3: an MLP with backpropagation on MNIST (a3/mlp.py, numpy only).

The grader has its own forward and backward (graders.a3.network) for the student's
declared ACTIVATION; gradients are checked by central finite differences of the grader's
loss, per tensor. The test labels never enter the worker.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from graders.a3 import network
from graders.kit import (
    Credit,
    CriterionFailed,
    GradingContext,
    RemoteModule,
    Sandbox,
    check_gradients,
    criterion,
    expect,
    kink_mask,
    require_no_sample_loop,
    require_no_sample_loop_in_train,
    to_features,
    train_validation_split,
)

MODULE = "a3.mlp"
PROBES = "graders.a3.probes"
CONSTANTS = ("ACTIVATION", "OPTION", "DROPOUT_P", "L2_LAMBDA")
OPTIONS = ("dropout", "l2", "scheduler")
ACCURACY_TIERS = [(0.95, 1.0), (0.93, 0.6), (0.90, 0.3)]
SMALL_NETWORKS = ((5, 4, 3), (6, 5, 4, 3))
H = 1e-5
HISTORY_KEYS = {"train_loss", "val_accuracy", "lr"}


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def sandbox(grading: GradingContext) -> Sandbox:
    return grading.sandbox("numpy")


@pytest.fixture
def mlp(grading: GradingContext) -> RemoteModule:
    return grading.module(MODULE, sandbox="numpy")


@pytest.fixture
def declared(sandbox: Sandbox) -> dict:
    """The student's module constants, validated."""
    found = sandbox.call(
        "graders.sandbox.inside.probes:module_constants",
        (MODULE, list(CONSTANTS)),
        label="a3/mlp.py",
    )
    if found.get("ACTIVATION") not in network.ACTIVATIONS:
        raise CriterionFailed(
            f"ACTIVATION is {found.get('ACTIVATION')!r}; it must be one of {', '.join(network.ACTIVATIONS)}"
        )
    return found


def l2_of(declared: dict) -> float:
    """The L2 strength the student's loss includes (0 unless OPTION is "l2")."""
    if declared.get("OPTION") != "l2":
        return 0.0
    value = declared.get("L2_LAMBDA")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise CriterionFailed(
            f"OPTION is 'l2' but L2_LAMBDA is {value!r}; it must be a number in (0, 1)"
        )
    return float(value)


def gradients_with(
    sandbox: Sandbox, params: dict, X: np.ndarray, Y: np.ndarray, constants: dict
) -> dict:
    """The submission's gradients with its module constants set to ``constants``."""
    grads = sandbox.call(
        f"{PROBES}:gradients_with", (params, X, Y, constants), label="forward/backward"
    )
    return _gradient_dict(grads, params)


def call_gradients(sandbox: Sandbox, params: dict, X: np.ndarray, Y: np.ndarray) -> dict:
    grads = sandbox.call(f"{PROBES}:gradients", (params, X, Y), label="forward/backward")
    return _gradient_dict(grads, params)


def _gradient_dict(grads: object, params: dict) -> dict:
    if not isinstance(grads, dict):
        raise CriterionFailed(
            f"backward returned {expect.describe(grads)}; expected a dict with dW1, db1, ..."
        )
    return {name: grads.get(f"d{name}") for name in params}


def own_forward_differences(
    sandbox: Sandbox, params: dict, X: np.ndarray, Y: np.ndarray, l2: float
):
    """Finite differences of the loss of the student's own forward pass (section 5 of the
    statement): the worker returns only P for each nudged entry; the loss and the
    differences are computed here."""

    def differences(name: str, indices: list[tuple[int, ...]]) -> np.ndarray:
        answer = sandbox.call(
            f"{PROBES}:perturbed_probabilities",
            (params, X, name, [list(i) for i in indices], H),
            label="forward",
        )
        if not isinstance(answer, list) or len(answer) != 2 * len(indices):
            raise ValueError("forward gave no probabilities")
        values = []
        for k, index in enumerate(indices):
            losses = []
            for P, step in ((answer[2 * k], H), (answer[2 * k + 1], -H)):
                P = np.asarray(P, dtype=np.float64)
                if P.shape != Y.shape:
                    raise ValueError("forward gave probabilities of the wrong shape")
                data = float(-(Y * np.log(np.clip(P, 1e-300, 1.0))).sum(axis=1).mean())
                nudged = {key: value.copy() for key, value in params.items()}
                nudged[name][index] += step
                penalty = (
                    0.5
                    * l2
                    * sum(float((v**2).sum()) for key, v in nudged.items() if key.startswith("W"))
                )
                losses.append(data + penalty)
            values.append((losses[0] - losses[1]) / (2 * H))
        return np.array(values)

    return differences


def away_from_kinks(
    sizes: tuple[int, ...], activation: str, rng: np.random.Generator, n: int
) -> tuple[dict, np.ndarray]:
    """Random params and inputs whose pre-activations stay clear of relu's kink at 0."""
    for _ in range(200):
        params = network.random_params(sizes, rng)
        X = rng.normal(size=(n, sizes[0]))
        _, pre, _ = network.forward(params, X, activation)
        if activation != "relu" or min(np.abs(z).min() for z in pre[:-1]) > 1e-2:
            return params, X
    raise RuntimeError("could not draw parameters away from relu kinks")


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


# -- forward ----------------------------------------------------------------------------------
@criterion("forward", 1, "Forward pass matches the grader's for your ACTIVATION; predict")
def test_forward(
    sandbox: Sandbox, mlp: RemoteModule, declared: dict, rng: np.random.Generator
) -> None:
    activation = declared["ACTIVATION"]
    for sizes in (*SMALL_NETWORKS, (784, 100, 10)):
        params = network.random_params(sizes, rng)
        X = rng.random((8, sizes[0]))
        expected, _, _ = network.forward(params, X, activation)
        P = expect.array(
            sandbox.call(f"{PROBES}:probabilities", (params, X, False, 0), label="forward"),
            expected.shape,
            "forward's P",
            numpy_only=True,
        )
        expect.close(
            P, expected, f"forward of a {'-'.join(map(str, sizes))} network ({activation})"
        )
        again = sandbox.call(f"{PROBES}:probabilities", (params, X, False, 1), label="forward")
        if not np.array_equal(P, again):
            raise CriterionFailed(
                "forward with train=False gave different results for the same input: evaluation must be deterministic"
            )
    params = network.random_params((784, 32, 10), rng)
    X = rng.random((16, 784))
    expected = np.argmax(network.forward(params, X, activation)[0], axis=1)
    predicted = expect.array(mlp.predict(params, X), (16,), "predict", numpy_only=True)
    if not np.array_equal(predicted, expected):
        raise CriterionFailed(
            "predict on a random batch does not give the class of the highest probability of "
            "the forward pass"
        )


# -- backpropagation --------------------------------------------------------------------------
def _check_networks(
    sandbox: Sandbox,
    cases: list[tuple[str, dict, np.ndarray, np.ndarray, dict | None]],
    activation: str,
    l2: float,
    seed: int,
    credit: Credit,
) -> None:
    total, correct, notes = 0, 0, []
    for name, params, X, Y, skip in cases:
        analytic = call_gradients(sandbox, params, X, Y)
        report = check_gradients(
            lambda p, X=X, Y=Y: network.loss(p, X, Y, activation, l2),
            params,
            analytic,
            h=H,
            tolerance=1e-4,
            max_entries=150,
            seed=seed,
            skip=skip,
            second_opinion=own_forward_differences(sandbox, params, X, Y, l2),
        )
        total += len(report.checks)
        correct += sum(check.ok for check in report.checks)
        if not report.ok:
            notes.append(f"{name}: {report.summary()}")
    credit.award(correct / total, "; ".join(notes))


@criterion(
    "backprop.small", 8, "Backpropagation on small networks (finite differences, per tensor)"
)
def test_backprop_small(
    sandbox: Sandbox, declared: dict, credit: Credit, rng: np.random.Generator, seed: int
) -> None:
    activation, l2 = declared["ACTIVATION"], l2_of(declared)
    cases = []
    for sizes in SMALL_NETWORKS:
        params, X = away_from_kinks(sizes, activation, rng, n=6)
        cases.append(
            (
                "-".join(map(str, sizes)),
                params,
                X,
                one_hot(rng.integers(0, sizes[-1], 6), sizes[-1]),
                None,
            )
        )
    _check_networks(sandbox, cases, activation, l2, seed, credit)


@criterion("backprop.real", 7, "Backpropagation on 784-100-10 with MNIST images (sampled entries)")
def test_backprop_real(
    sandbox: Sandbox,
    grading: GradingContext,
    declared: dict,
    credit: Credit,
    rng: np.random.Generator,
    seed: int,
) -> None:
    activation, l2 = declared["ACTIVATION"], l2_of(declared)
    images, labels = grading.mnist("train")
    batch = rng.choice(len(labels), size=16, replace=False)
    X = to_features(images[batch]).astype(np.float64)
    params = network.random_params((784, 100, 10), rng)
    _, pre, _ = network.forward(params, X, activation)
    skip = None
    if activation == "relu":  # a W1 or b1 step of H moves z1 by at most H (pixels are <= 1)
        columns = kink_mask(pre[0], H * 2).any(axis=0)
        skip = {"W1": np.broadcast_to(columns, params["W1"].shape).copy(), "b1": columns}
    _check_networks(
        sandbox,
        [("784-100-10", params, X, one_hot(labels[batch], 10), skip)],
        activation,
        l2,
        seed,
        credit,
    )


# -- batched operations -----------------------------------------------------------------------
@criterion("batched.mean_of_samples", 2, "A batch gradient equals the mean of per-sample gradients")
def test_batched_mean_of_samples(
    sandbox: Sandbox, declared: dict, rng: np.random.Generator
) -> None:
    params, X = away_from_kinks((6, 5, 3), declared["ACTIVATION"], rng, n=8)
    Y = one_hot(rng.integers(0, 3, 8), 3)
    batch = call_gradients(sandbox, params, X, Y)
    singles = [call_gradients(sandbox, params, X[i : i + 1], Y[i : i + 1]) for i in range(len(X))]
    for name, param in params.items():
        got = expect.array(batch[name], param.shape, f"backward's d{name}", numpy_only=True)
        per_sample = [
            expect.array(s[name], param.shape, f"backward's d{name}", numpy_only=True)
            for s in singles
        ]
        expect.close(
            got,
            np.mean(per_sample, axis=0),
            f"d{name} of a batch of 8 vs the mean of 8 single-sample gradients",
        )


class TinyNetwork:
    """A network of a few inputs, hidden units and classes (ten classes for train, whose
    labels are digits; the sizes vary with the seed): whole-array code costs far less CPU
    time per sample on it than any loop over samples (see graders.core.sample_cost). Every
    call gets new samples (``draw``)."""

    #: A train step does more per sample than one forward/backward (shuffling, dropout
    #: masks, momentum), and the grader cannot see how much: a wider margin.
    TRAIN_LOOP_COST_S = 5e-6

    def __init__(self, rng: np.random.Generator) -> None:
        self.sizes = (int(rng.integers(3, 8)), int(rng.integers(6, 11)), int(rng.integers(3, 6)))
        self.seed = int(rng.integers(2**31))
        self.params = network.random_params(self.sizes, rng)

    def forward_backward(self, n: int, draw: int) -> tuple:
        rng = np.random.default_rng([self.seed, n, draw])
        X = rng.random((n, self.sizes[0]))
        Y = one_hot(rng.integers(0, self.sizes[-1], n), self.sizes[-1])
        return (self.params, X, Y, False, 0)

    def train(self, n: int, draw: int) -> tuple[tuple, dict]:
        """Ten batches of one epoch, the same 100 validation samples every time."""
        rng = np.random.default_rng([self.seed, n, draw, 1])
        X = rng.random((n, self.sizes[0])).astype(np.float32)
        X_val = np.random.default_rng(self.seed).random((100, self.sizes[0])).astype(np.float32)
        y, y_val = rng.integers(0, 10, n), np.arange(100) % 10
        constants = {"EPOCHS": 1, "BATCH_SIZE": n // 10, "HIDDEN_SIZES": self.sizes[1:-1]}
        return (X, y, X_val, y_val), constants

    @staticmethod
    def check_forward_backward(args: tuple, answer: object) -> str:
        """P as the network computes it with one of the activations the statement allows
        (the student's choice), and a gradient of each parameter's shape."""
        params, X = args[0], args[1]
        try:
            P, grads = answer
            P = np.asarray(P, dtype=np.float64)
        except (TypeError, ValueError):
            return "it did not return (P, grads)"
        forms = [network.forward(params, X, activation)[0] for activation in network.ACTIVATIONS]
        if P.shape != forms[0].shape or not any(
            np.allclose(P, expected, rtol=1e-5, atol=1e-7) for expected in forms
        ):
            return f"P of shape {P.shape} is not the network's output for {X.shape[0]:,} inputs"
        if not isinstance(grads, dict):
            return "the gradients are not a dict"
        for name, value in params.items():
            grad = grads.get(f"d{name}")
            if getattr(grad, "shape", None) != value.shape:
                return f"d{name} of shape {getattr(grad, 'shape', None)}, expected {value.shape}"
        return ""

    def trained_its_sizes(self, answer: object) -> bool:
        """Whether train built the network of the sizes it was given (HIDDEN_SIZES read when it
        runs): a network of its own sizes costs what its sizes cost, loop or not."""
        try:
            return list(answer["shapes"][0]["W1"]) == [self.sizes[0], self.sizes[1]]
        except (KeyError, IndexError, TypeError):
            return False


@criterion(
    "batched.no_sample_loop", 2, "No Python loop over samples; an epoch of forward+backward is fast"
)
def test_batched_no_sample_loop(
    sandbox: Sandbox, grading: GradingContext, rng: np.random.Generator
) -> None:
    params = network.random_params((784, 100, 10), rng)
    small, large = rng.random((100, 784)), rng.random((1000, 784))
    Y_small, Y_large = one_hot(rng.integers(0, 10, 100), 10), one_hot(rng.integers(0, 10, 1000), 10)
    tiny = TinyNetwork(rng)
    require_no_sample_loop(
        sandbox,
        f"{PROBES}:forward_backward",
        (params, small, Y_small, False, 0),
        (params, large, Y_large, False, 0),
        "forward/backward",
        tiny.forward_backward,
        rng,
        check=tiny.check_forward_backward,
    )
    images, labels = grading.mnist("train")
    X, y = to_features(images[:2100]), np.asarray(labels[:2100])
    validation = (X[2000:], y[2000:])
    require_no_sample_loop_in_train(
        sandbox,
        f"{MODULE}:train",
        (
            ((X[:200], y[:200], *validation), {"EPOCHS": 1, "BATCH_SIZE": 20}),
            ((X[:2000], y[:2000], *validation), {"EPOCHS": 1, "BATCH_SIZE": 200}),
        ),
        tiny=tiny.train,
        rng=rng,
        limit_s=TinyNetwork.TRAIN_LOOP_COST_S,
        comparable=tiny.trained_its_sizes,
    )
    limit = grading.assignment.budgets["epoch"]
    started = time.monotonic()
    sandbox.call(
        f"{PROBES}:epoch",
        (params, images[:50000], labels[:50000], 500),
        timeout=limit,
        label="forward/backward over 50,000 samples",
    )
    elapsed = time.monotonic() - started
    if elapsed > limit:
        raise CriterionFailed(
            f"forward/backward over 50,000 samples took {elapsed:.0f} s; it must stay under {limit:.0f} s"
        )


# -- accuracy ---------------------------------------------------------------------------------
def network_parameters(params: dict) -> dict[str, np.ndarray]:
    """The returned parameters as a 784-...-10 network (W1, b1, ..., WL, bL), validated."""
    layers = sum(1 for key in params if isinstance(key, str) and key.startswith("W"))
    if layers == 0:
        raise CriterionFailed("train's params hold no weight matrix W1")
    weights, width = {}, 784
    for i in range(1, layers + 1):
        W = expect.array(params.get(f"W{i}"), None, f"params['W{i}']", numpy_only=True)
        b = expect.array(params.get(f"b{i}"), None, f"params['b{i}']", numpy_only=True)
        if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise CriterionFailed(
                f"params['W{i}'] has shape {W.shape} and params['b{i}'] {b.shape}; expected "
                f"({width}, n) and (n,) for layer {i}"
            )
        weights[f"W{i}"], weights[f"b{i}"] = W.astype(np.float64), b.astype(np.float64)
        width = W.shape[1]
    if width != 10:
        raise CriterionFailed(f"the last layer has {width} outputs; expected 10 classes")
    return weights


def trained(grading: GradingContext, mlp: RemoteModule, seed: int) -> tuple[dict, list, float]:
    """Train once per grading run (the accuracy and scheduler criteria share the result)."""
    if "a3.train" not in grading.memo:
        images, labels = grading.mnist("train")
        (train_x, train_y), (val_x, val_y) = train_validation_split(
            images, labels, validation=10000, seed=0
        )
        budget = grading.assignment.budgets["train"]
        try:
            answer = mlp.train.with_budget(budget)(
                to_features(train_x), train_y, to_features(val_x), val_y, seed=seed
            )
        except Exception as error:
            grading.memo["a3.train"] = error
            raise
        grading.memo["a3.train"] = (answer, grading.sandbox("numpy").last_call_cpu_s)
    memo = grading.memo["a3.train"]
    if isinstance(memo, Exception):
        raise memo
    answer, elapsed = memo
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not isinstance(answer[0], dict):
        raise CriterionFailed(
            f"train returned {expect.describe(answer)}; expected (params, history)"
        )
    history = _valid_history(answer[1])
    grading.series["history"] = [  # (at most 500 epochs are plotted)
        {key: float(entry[key]) for key in ("train_loss", "val_accuracy")}
        for entry in history[:500]
    ]
    return answer[0], history, elapsed


def _valid_history(history: object) -> list[dict]:
    if not isinstance(history, list) or not history:
        raise CriterionFailed(
            f"train's history is {expect.describe(history)}; expected a list with one dict per epoch"
        )
    for epoch, entry in enumerate(history, start=1):
        if not isinstance(entry, dict) or set(entry) != HISTORY_KEYS:
            keys = sorted(entry) if isinstance(entry, dict) else expect.describe(entry)
            raise CriterionFailed(
                f"history entry {epoch} has {keys}; expected exactly the keys {sorted(HISTORY_KEYS)}"
            )
        for key in HISTORY_KEYS:
            expect.number(entry[key], f"history entry {epoch} {key!r}")
    return history


@criterion("accuracy", 5, "Train within the budget: test accuracy")
def test_accuracy(
    mlp: RemoteModule, grading: GradingContext, declared: dict, credit: Credit, seed: int
) -> None:
    params, history, elapsed = trained(grading, mlp, seed)
    test_images, test_labels = grading.mnist("test")
    # The trained network's own predictions, computed here with the grader's forward pass
    # and the submission's ACTIVATION: the criterion is about the parameters train learned.
    weights = network_parameters(params)
    P, _, _ = network.forward(weights, to_features(test_images), declared["ACTIVATION"])
    if not np.all(np.isfinite(P)):
        raise CriterionFailed("the trained parameters give NaN or infinite probabilities")
    accuracy = float(np.mean(np.argmax(P, axis=1) == test_labels))
    credit.tiered(
        accuracy,
        ACCURACY_TIERS,
        f"test accuracy {accuracy:.2%} after {elapsed:.0f} CPU seconds and {len(history)} epochs (full credit from 95%)",
    )


# -- the chosen option -------------------------------------------------------------------------
@criterion("option", 5, "Your option: dropout, L2 regularisation or the plateau scheduler")
def test_option(
    sandbox: Sandbox,
    mlp: RemoteModule,
    grading: GradingContext,
    declared: dict,
    credit: Credit,
    rng: np.random.Generator,
    seed: int,
) -> None:
    option = declared.get("OPTION")
    if option not in OPTIONS:
        raise CriterionFailed(f"OPTION is {option!r}; it must be one of {', '.join(OPTIONS)}")
    if option == "dropout":
        check_dropout(sandbox, declared, credit, rng)
    elif option == "l2":
        check_l2(sandbox, declared, credit, rng)
    else:
        check_scheduler(sandbox, mlp, grading, credit, seed)


def check_dropout(
    sandbox: Sandbox, declared: dict, credit: Credit, rng: np.random.Generator
) -> None:
    p = declared.get("DROPOUT_P")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
        raise CriterionFailed(
            f"OPTION is 'dropout' but DROPOUT_P is {p!r}; it must be a number in (0, 1)"
        )
    activation, keep = declared["ACTIVATION"], 1.0 - p
    credit.parts(
        (
            "eval is deterministic",
            "drop rate and inverted scaling",
            "no gradient through dropped units",
        )
    )
    # A net whose hidden units all output the same value c and whose output layer copies
    # them: the logits show exactly which units were dropped and how the rest were scaled.
    width = 200
    params = {
        "W1": np.zeros((4, width)),
        "b1": np.ones(width),
        "W2": np.eye(width),
        "b2": np.zeros(width),
    }
    c = float(network.activate(activation, np.array(1.0)))
    X = rng.normal(size=(50, 4))
    with credit.check("eval is deterministic"):
        P = expect.array(
            sandbox.call(f"{PROBES}:probabilities", (params, X, False, 1), label="forward"),
            (50, width),
            "forward's P",
            numpy_only=True,
        )
        expect.close(
            P,
            np.full((50, width), 1.0 / width),
            "forward with train=False (no dropout, no scaling at evaluation)",
        )
    with credit.check("drop rate and inverted scaling"):
        P = expect.array(
            sandbox.call(f"{PROBES}:probabilities", (params, X, True, 2), label="forward"),
            (50, width),
            "forward's P",
            numpy_only=True,
        )
        kept, gap = _dropout_pattern(P)
        rate = 1.0 - kept.mean()
        if abs(rate - p) > 0.05:
            raise CriterionFailed(
                f"forward with train=True dropped {rate:.1%} of the hidden units; DROPOUT_P is {p}"
            )
        expect.close(
            gap,
            c / keep,
            f"a kept unit's output relative to a dropped one (inverted dropout scales by 1/(1 - p) = {1 / keep:.3f})",
            rtol=1e-4,
        )
    with credit.check("no gradient through dropped units"):
        x, y = rng.normal(size=(1, 4)), one_hot(np.array([3]), width)
        answer = sandbox.call(
            f"{PROBES}:forward_backward", (params, x, y, True, 3), label="backward"
        )
        if (
            not isinstance(answer, (tuple, list))
            or len(answer) != 2
            or not isinstance(answer[1], dict)
        ):
            raise CriterionFailed(
                "forward/backward in train mode did not return probabilities and gradients"
            )
        P = expect.array(answer[0], (1, width), "forward's P", numpy_only=True)
        mask = _dropout_pattern(P)[0].astype(float)
        expected = network.backward(params, x, y, activation, masks=[mask], keep=keep)
        for name in ("b1", "W1"):
            got = expect.array(
                answer[1].get(f"d{name}"),
                params[name].shape,
                f"backward's d{name}",
                numpy_only=True,
            )
            expect.close(
                got,
                expected[name],
                f"d{name} after a train-mode forward (zero for dropped units, scaled by 1/(1 - p) for kept ones)",
                rtol=1e-5,
                atol=1e-10,
            )


def _dropout_pattern(P: np.ndarray) -> tuple[np.ndarray, float]:
    """Which units were kept (high logit) in each row, and the logit gap kept - dropped."""
    logits = np.log(np.clip(P, 1e-300, None))
    low, high = logits.min(axis=1, keepdims=True), logits.max(axis=1, keepdims=True)
    kept = logits > (low + high) / 2
    informative = (high - low).ravel() > 1e-9
    if not informative.any():
        raise CriterionFailed("forward with train=True dropped no unit at all (or all of them)")
    return kept, float(np.median((high - low).ravel()[informative]))


def check_l2(sandbox: Sandbox, declared: dict, credit: Credit, rng: np.random.Generator) -> None:
    l2 = l2_of(declared)
    activation = declared["ACTIVATION"]
    credit.parts(("weights gain lambda * W", "biases are not regularised"))
    params, X = away_from_kinks((6, 5, 3), activation, rng, n=8)
    Y = one_hot(rng.integers(0, 3, 8), 3)
    # What the submission's L2 adds: its gradient with OPTION = "l2" minus its gradient
    # without (the scheduler changes no gradient), so a backprop bug, judged in backprop,
    # costs nothing here.
    with_l2 = gradients_with(sandbox, params, X, Y, {"OPTION": "l2"})
    without = gradients_with(sandbox, params, X, Y, {"OPTION": "scheduler"})

    def added(name: str) -> np.ndarray:
        shape = params[name].shape
        return expect.array(
            with_l2[name], shape, f"backward's d{name}", numpy_only=True
        ) - expect.array(without[name], shape, f"backward's d{name}", numpy_only=True)

    with credit.check("weights gain lambda * W"):
        for name in ("W1", "W2"):
            expect.close(
                added(name),
                l2 * params[name],
                f"what L2 adds to d{name} (should be L2_LAMBDA * {name})",
                rtol=1e-4,
                atol=1e-9,
            )
    with credit.check("biases are not regularised"):
        for name in ("b1", "b2"):
            expect.close(
                added(name),
                np.zeros_like(params[name]),
                f"what L2 adds to d{name} (biases carry no L2 term)",
                rtol=1e-5,
                atol=1e-10,
            )


def plateau(
    lr: float, metrics: list[float], factor: float = 0.5, patience: int = 2, min_lr: float = 1e-4
) -> list[float]:
    """The documented PlateauScheduler semantics."""
    best, count, out = -np.inf, 0, []
    for metric in metrics:
        if metric > best:
            best, count = metric, 0
        else:
            count += 1
            if count == patience:
                lr, count = max(min_lr, lr * factor), 0
        out.append(lr)
    return out


SCHEDULES = (
    (
        0.1,
        {"factor": 0.5, "patience": 2, "min_lr": 0.02},
        [0.90, 0.92, 0.91, 0.91, 0.93, 0.93, 0.92, 0.92, 0.92, 0.92],
    ),
    (
        0.05,
        {"factor": 0.1, "patience": 1, "min_lr": 1e-4},
        [0.5, 0.4, 0.6, 0.6, 0.6, 0.7, 0.2, 0.2],
    ),
    (1.0, {"factor": 0.5, "patience": 3, "min_lr": 0.3}, [0.1] * 12),
)


def check_scheduler(
    sandbox: Sandbox, mlp: RemoteModule, grading: GradingContext, credit: Credit, seed: int
) -> None:
    credit.parts(("documented lr sequence", "train's history follows the scheduler"))
    with credit.check("documented lr sequence"):
        for lr, options, metrics in SCHEDULES:
            got = sandbox.call(
                f"{PROBES}:scheduler_steps", (lr, options, metrics), label="PlateauScheduler.step"
            )
            expected = plateau(lr, metrics, **options)
            if not isinstance(got, list) or not np.allclose(got, expected, rtol=1e-9, atol=0):
                raise CriterionFailed(
                    f"PlateauScheduler({lr}, {options}) on metrics {metrics} gave lrs {got}; expected {expected}"
                )
    with credit.check("train's history follows the scheduler"):
        _, history, _ = trained(grading, mlp, seed)
        lrs = [float(entry["lr"]) for entry in history]
        metrics = [float(entry["val_accuracy"]) for entry in history]
        replay = sandbox.call(
            f"{PROBES}:scheduler_steps", (lrs[0], {}, metrics[:-1]), label="PlateauScheduler.step"
        )
        if not isinstance(replay, list) or not np.allclose(lrs[1:], replay, rtol=1e-9, atol=0):
            raise CriterionFailed(
                f"train's history has lrs {lrs}, but PlateauScheduler({lrs[0]}) stepped with its val_accuracy values gives {[lrs[0], *replay] if isinstance(replay, list) else replay}"
            )
