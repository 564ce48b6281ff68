"""Grader of assignment 2: a softmax perceptron on MNIST (a2/perceptron.py, numpy only).

Expected values are computed here with numpy; gradients are checked with central finite
differences of the grader's own loss. The test labels never enter the worker.
"""

from __future__ import annotations

import numpy as np
import pytest

from graders.kit import (
    Credit,
    CriterionFailed,
    GradingContext,
    RemoteModule,
    check_gradients,
    criterion,
    expect,
    require_no_sample_loop,
    require_no_sample_loop_in_train,
    to_features,
)

MODULE = "a2.perceptron"
ACCURACY_TIERS = [(0.90, 1.0), (0.88, 0.75), (0.85, 0.5), (0.80, 0.25)]


def softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def cross_entropy(P: np.ndarray, Y: np.ndarray) -> float:
    return float(-(Y * np.log(np.clip(P, 1e-12, 1.0))).sum(axis=1).mean())


def one_hot(y: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[y]


@pytest.fixture
def perceptron(grading: GradingContext) -> RemoteModule:
    return grading.module(MODULE, sandbox="numpy")


# -- softmax and one-hot ---------------------------------------------------------------------
@criterion("softmax_one_hot", 2, "one_hot and a numerically stable softmax")
def test_softmax_one_hot(
    perceptron: RemoteModule, credit: Credit, rng: np.random.Generator
) -> None:
    credit.parts(("one_hot", "softmax"))
    with credit.check("one_hot"):
        for y, classes in ((np.array([3, 0, 9, 3, 7]), 10), (np.array([1, 0, 3]), 4)):
            got = expect.array(
                perceptron.one_hot(y, classes), (len(y), classes), "one_hot", numpy_only=True
            )
            expect.close(got, one_hot(y, classes), f"one_hot({y.tolist()}, {classes})")
    with credit.check("softmax"):
        Z = rng.normal(scale=3.0, size=(6, 10))
        got = expect.array(perceptron.softmax(Z), Z.shape, "softmax", numpy_only=True)
        expect.close(got, softmax(Z), "softmax of random logits")
        lecture = expect.array(
            perceptron.softmax(np.array([1.0, 3.0, 4.0, 2.0])),
            (4,),
            "softmax of a vector",
            numpy_only=True,
        )
        expect.close(
            lecture,
            [0.0321, 0.2369, 0.6439, 0.0871],
            "softmax([1, 3, 4, 2]) (lecture 4)",
            atol=5e-5,
        )
        large = np.array([[1000.0, 1000.0, 0.0], [1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0]])
        stable = expect.array(perceptron.softmax(large), large.shape, "softmax", numpy_only=True)
        if not np.all(np.isfinite(stable)):
            raise CriterionFailed(
                "softmax of logits around 1000 gave NaN or inf: subtract each row's maximum first"
            )
        expect.close(stable, softmax(large), "softmax of logits around 1000")


@criterion("cross_entropy", 1, "Mean cross-entropy")
def test_cross_entropy(perceptron: RemoteModule, rng: np.random.Generator) -> None:
    P = softmax(rng.normal(size=(8, 10)))
    Y = one_hot(rng.integers(0, 10, size=8), 10)
    expect.close(
        expect.number(perceptron.cross_entropy(P, Y), "cross_entropy"),
        cross_entropy(P, Y),
        "cross_entropy of random P, Y",
    )
    P_zero = np.array([[1.0, 0.0], [0.5, 0.5]])
    Y_zero = np.array([[0.0, 1.0], [1.0, 0.0]])
    value = expect.number(perceptron.cross_entropy(P_zero, Y_zero), "cross_entropy")
    if not np.isfinite(value) or value < 5:
        raise CriterionFailed(
            f"cross_entropy with a predicted probability of 0 for the true class gave {value}; clip P (e.g. to 1e-12) before the log so it stays large but finite"
        )


@criterion("forward", 1, "Forward pass softmax(XW + b) and predict")
def test_forward(perceptron: RemoteModule, rng: np.random.Generator) -> None:
    X = rng.random((16, 784))
    W = rng.normal(scale=0.05, size=(784, 10))
    b = rng.normal(scale=0.1, size=10)
    got = expect.array(perceptron.forward(X, W, b), (16, 10), "forward", numpy_only=True)
    expect.close(got, softmax(X @ W + b), "forward on a random batch")
    predicted = expect.array(perceptron.predict(X, W, b), (16,), "predict", numpy_only=True)
    if not np.array_equal(predicted, np.argmax(X @ W + b, axis=1)):
        raise CriterionFailed(
            "predict on a random batch does not give the class of the largest logit "
            "(argmax of X @ W + b per row)"
        )


# -- gradients --------------------------------------------------------------------------------
def _gradient_problems(
    grading: GradingContext, rng: np.random.Generator
) -> list[tuple[str, np.ndarray, np.ndarray, dict]]:
    images, labels = grading.mnist("train")
    batch = rng.choice(len(labels), size=32, replace=False)
    problems = []
    for name, X, y, classes in (
        (
            "a random 7x5 problem with 4 classes",
            rng.normal(size=(7, 5)),
            rng.integers(0, 4, size=7),
            4,
        ),
        (
            "a batch of 32 MNIST images",
            to_features(images[batch]).astype(np.float64),
            labels[batch],
            10,
        ),
    ):
        params = {
            "W": rng.normal(scale=0.1, size=(X.shape[1], classes)),
            "b": rng.normal(scale=0.1, size=classes),
        }
        problems.append((name, X, one_hot(y, classes), params))
    return problems


@criterion("gradients", 4, "Gradients of the mean cross-entropy (finite differences)")
def test_gradients(
    perceptron: RemoteModule,
    grading: GradingContext,
    credit: Credit,
    rng: np.random.Generator,
    seed: int,
) -> None:
    wrong: dict[str, str] = {}
    for name, X, Y, params in _gradient_problems(grading, rng):
        P = softmax(X @ params["W"] + params["b"])
        answer = perceptron.gradients(X, Y, P)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise CriterionFailed(
                f"gradients returned {expect.describe(answer)}; expected a pair (dW, db)"
            )
        analytic = {"W": answer[0], "b": answer[1]}

        def loss(p: dict[str, np.ndarray], X: np.ndarray = X, Y: np.ndarray = Y) -> float:
            return cross_entropy(softmax(X @ p["W"] + p["b"]), Y)

        report = check_gradients(loss, params, analytic, seed=seed, max_entries=150, tolerance=1e-5)
        for check in report.checks:
            if not check.ok and check.name not in wrong:
                wrong[check.name] = f"{report.summary()} (on {name})"
    credit.award(1 - 0.5 * len(wrong), "; ".join(wrong.values()))


# -- metrics ----------------------------------------------------------------------------------
LECTURE_TRUE = np.array([1, 1, 0, 1, 0, 0, 0, 1, 1])
LECTURE_PRED = np.array([1, 0, 1, 1, 0, 0, 1, 1, 1])


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    cm = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1


@criterion("metrics", 2, "Confusion matrix and per-class precision, recall, F1")
def test_metrics(perceptron: RemoteModule, credit: Credit, rng: np.random.Generator) -> None:
    credit.parts(("confusion_matrix", "precision_recall_f1"))
    y_true, y_pred = rng.integers(0, 10, size=200), rng.integers(0, 10, size=200)
    y_pred[:3] = 9  # make sure some class is predicted more than others
    with credit.check("confusion_matrix"):
        for truth, pred, classes, what in (
            (LECTURE_TRUE, LECTURE_PRED, 2, "the lecture's 9 entries"),
            (y_true, y_pred, 10, "200 random labels"),
        ):
            got = expect.array(
                perceptron.confusion_matrix(truth, pred, classes),
                (classes, classes),
                "confusion_matrix",
                numpy_only=True,
            )
            expect.close(
                got,
                confusion(truth, pred, classes),
                f"confusion_matrix of {what} (rows = true class)",
            )
    with credit.check("precision_recall_f1"):
        with_empty_class = confusion(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
        for cm, what in (
            (confusion(LECTURE_TRUE, LECTURE_PRED, 2), "the lecture example [[2, 2], [1, 4]]"),
            (confusion(y_true, y_pred, 10), "a random 10-class matrix"),
            (with_empty_class, "a matrix where class 2 is never predicted"),
        ):
            answer = perceptron.precision_recall_f1(cm)
            if not isinstance(answer, (tuple, list)) or len(answer) != 3:
                raise CriterionFailed(
                    f"precision_recall_f1 returned {expect.describe(answer)}; expected (precision, recall, f1)"
                )
            for label, got, expected in zip(
                ("precision", "recall", "f1"), answer, precision_recall_f1(cm), strict=True
            ):
                got = expect.array(
                    got, expected.shape, f"precision_recall_f1 {label}", numpy_only=True
                )
                if not np.all(np.isfinite(got)):
                    raise CriterionFailed(
                        f"{label} for {what} contains NaN: a class with a zero denominator gets 0"
                    )
                expect.close(got, expected, f"{label} for {what}")


# -- training ---------------------------------------------------------------------------------
@criterion("training.accuracy", 4, "Train on 60,000 images within the budget: test accuracy")
def test_training_accuracy(
    perceptron: RemoteModule, grading: GradingContext, credit: Credit, seed: int
) -> None:
    budget = grading.assignment.budgets["train"]
    images, labels = grading.mnist("train")
    test_images, test_labels = grading.mnist("test")
    answer = perceptron.train.with_budget(budget)(
        to_features(images), np.asarray(labels), seed=seed
    )
    elapsed = grading.sandbox("numpy").last_call_cpu_s
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise CriterionFailed(f"train returned {expect.describe(answer)}; expected a pair (W, b)")
    W = expect.array(answer[0], (784, 10), "train's W", numpy_only=True)
    b = expect.array(answer[1], (10,), "train's b", numpy_only=True)
    # The perceptron's own predictions, computed here: the criterion is about the trained
    # W and b, whatever the submission's predict does.
    logits = to_features(test_images) @ W.astype(np.float64) + b.astype(np.float64)
    if not np.all(np.isfinite(logits)):
        raise CriterionFailed("train returned W or b with NaN or infinite values")
    accuracy = float(np.mean(np.argmax(logits, axis=1) == test_labels))
    credit.tiered(
        accuracy,
        ACCURACY_TIERS,
        f"test accuracy {accuracy:.2%} after {elapsed:.0f} CPU seconds of training (full credit "
        "from 90%)",
    )


class TinyPerceptron:
    """A problem of a few features and classes, on which whole-array code costs far less
    CPU time per sample than any loop over samples (see graders.core.sample_cost). Its
    sizes vary with the seed, and every call gets new samples (``draw``)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.features = int(rng.integers(3, 8))
        self.classes = int(rng.integers(3, 6))
        self.seed = int(rng.integers(2**31))
        self.W = rng.normal(size=(self.features, self.classes))
        self.b = rng.normal(size=self.classes)

    def _data(self, n: int, draw: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, n, draw])
        return rng.random((n, self.features)), rng.integers(0, self.classes, n)

    def forward(self, n: int, draw: int) -> tuple:
        return (self._data(n, draw)[0], self.W, self.b)

    def gradients(self, n: int, draw: int) -> tuple:
        X, y = self._data(n, draw)
        return (X, one_hot(y, self.classes), softmax(X @ self.W + self.b))

    def train(self, n: int, draw: int) -> tuple[tuple, dict]:
        """Ten batches of one epoch; labels 0..9 as train expects, float32 as MNIST's."""
        X, _ = self._data(n, draw)
        y = np.random.default_rng([self.seed, n, draw, 1]).integers(0, 10, n)
        return (X.astype(np.float32), y), {"EPOCHS": 1, "BATCH_SIZE": n // 10}

    @staticmethod
    def check_forward(args: tuple, answer: object) -> str:
        X, W, b = args
        return _differs(answer, softmax(X @ W + b), "P")

    @staticmethod
    def check_gradients(args: tuple, answer: object) -> str:
        X, Y, P = args
        error = P - Y
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            return "it did not return (dW, db)"
        return _differs(answer[0], X.T @ error / len(X), "dW") or _differs(
            answer[1], error.mean(axis=0), "db"
        )

    @staticmethod
    def check_train(args: tuple, answer: object) -> str:
        """train's answer comes back as its arrays' shapes: (D, 10) and (10,)."""
        X = args[1][0]  # the probe's arguments: (target, [X, y], kwargs, constants)
        expected = [[X.shape[1], 10], [10]]
        shapes = answer.get("shapes") if isinstance(answer, dict) else None
        return "" if shapes == expected else f"(W, b) of shapes {shapes}, expected {expected}"


def _differs(answer: object, expected: np.ndarray, name: str) -> str:
    """What is wrong with ``answer`` as ``expected`` ("" when it is that array)."""
    if not isinstance(answer, np.ndarray) or answer.shape != expected.shape:
        shape = getattr(answer, "shape", type(answer).__name__)
        return f"{name} of shape {shape}, expected {expected.shape}"
    if not np.allclose(answer, expected, rtol=1e-5, atol=1e-7):
        return f"{name} differs by up to {float(np.max(np.abs(answer - expected))):.3g}"
    return ""


@criterion("training.vectorized", 1, "No Python loop over samples in forward, gradients and train")
def test_training_vectorized(grading: GradingContext, rng: np.random.Generator) -> None:
    sandbox = grading.sandbox("numpy")
    W, b = rng.normal(scale=0.01, size=(784, 10)), np.zeros(10)
    small, large = rng.random((100, 784)), rng.random((1000, 784))
    tiny = TinyPerceptron(rng)
    require_no_sample_loop(
        sandbox, f"{MODULE}:forward", (small, W, b), (large, W, b), "forward", tiny.forward, rng,
        check=tiny.check_forward,
    )  # fmt: skip
    P_small, P_large = softmax(small @ W + b), softmax(large @ W + b)
    Y_small, Y_large = one_hot(rng.integers(0, 10, 100), 10), one_hot(rng.integers(0, 10, 1000), 10)
    require_no_sample_loop(
        sandbox,
        f"{MODULE}:gradients",
        (small, Y_small, P_small),
        (large, Y_large, P_large),
        "gradients",
        tiny.gradients,
        rng,
        check=tiny.check_gradients,
    )
    images, labels = grading.mnist("train")
    X, y = to_features(images[:2000]), np.asarray(labels[:2000])
    require_no_sample_loop_in_train(
        sandbox,
        f"{MODULE}:train",
        (
            ((X[:200], y[:200]), {"EPOCHS": 1, "BATCH_SIZE": 20}),
            ((X, y), {"EPOCHS": 1, "BATCH_SIZE": 200}),
        ),
        tiny=tiny.train,
        rng=rng,
        check=tiny.check_train,
    )
