"""A softmax perceptron (multinomial logistic regression) for MNIST, in numpy.

One linear layer maps a 784-pixel image to 10 class scores (logits); softmax turns
the scores into probabilities and cross-entropy measures how wrong they are. The
gradient of the mean cross-entropy has a closed form, so training is a few lines of
mini-batch gradient descent.

Shapes: X (N, 784) floats in [0, 1], W (784, 10), b (10,), labels y (N,) ints in
0..9, one-hot labels Y and probabilities P (N, 10). Every function works on whole
batches at once: no Python loop over samples.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.integer]

NUM_CLASSES = 10

# Hyperparameters of train(). Softmax regression is convex, so plain SGD with a
# fairly large step converges quickly; ten passes over the data are enough.
EPOCHS = 10
BATCH_SIZE = 100
LEARNING_RATE = 0.5

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


# --- the model -------------------------------------------------------------------


def one_hot(y: npt.ArrayLike, num_classes: int = NUM_CLASSES) -> FloatArray:
    """Labels (N,) as float64 rows (N, num_classes) with a single 1 in column y[i].

    Targets in this form can be compared with softmax probabilities entry by entry.
    """
    y = np.asarray(y, dtype=np.int64)
    Y = np.zeros((len(y), num_classes), dtype=np.float64)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def softmax(Z: npt.ArrayLike) -> FloatArray:
    """Row-wise softmax of logits (N, C); a 1-D vector is treated as one row.

    Subtracting each row's maximum first leaves the result unchanged (the factor
    exp(-max) cancels) but keeps exp() from overflowing: the largest exponent is 0.
    """
    Z = np.asarray(Z)
    exps = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def cross_entropy(P: npt.ArrayLike, Y: npt.ArrayLike) -> float:
    """Mean over rows of -sum(Y * log P): the loss that softmax regression minimises.

    P is clipped to [PROBABILITY_FLOOR, 1] so that a probability of exactly 0 gives a
    large finite loss instead of inf (and 0 * log 0 does not become NaN).
    """
    log_P = np.log(np.clip(P, PROBABILITY_FLOOR, 1.0))
    return float(np.mean(-np.sum(np.asarray(Y) * log_P, axis=-1)))


def forward(X: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """Class probabilities P = softmax(X W + b), one row per sample."""
    return softmax(X @ W + b)


def gradients(X: FloatArray, Y: FloatArray, P: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gradients (dW, db) of the mean cross-entropy with respect to W and b.

    For softmax followed by cross-entropy the gradient with respect to the logits is
    simply (P - Y) / N; the chain rule through Z = X W + b then gives
    dW = X^T (P - Y) / N, shape (D, C), and db = the column means of P - Y, shape (C,).
    """
    error = P - Y
    return X.T @ error / len(X), error.mean(axis=0)


def train(X: FloatArray, y: IntArray, *, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    """Fit W (D, C) and b (C,) by mini-batch gradient descent; deterministic per seed.

    Zero initial weights are fine here, unlike in a multi-layer network: the problem is
    convex and each class's column gets its own gradient from the first step, so there
    is no symmetry to break. The generator therefore only shuffles the data, anew each
    epoch, so consecutive batches are not correlated. Training runs in float32: it
    halves the memory traffic of every matrix product and SGD needs no more precision.
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float32)
    Y = one_hot(y, NUM_CLASSES).astype(np.float32)
    W = np.zeros((X.shape[1], NUM_CLASSES), dtype=np.float32)
    b = np.zeros(NUM_CLASSES, dtype=np.float32)

    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            P = forward(X[batch], W, b)
            dW, db = gradients(X[batch], Y[batch], P)
            W -= LEARNING_RATE * dW
            b -= LEARNING_RATE * db
    return W, b


def predict(X: FloatArray, W: FloatArray, b: FloatArray) -> IntArray:
    """Predicted labels (N,): the class with the largest logit.

    Softmax is monotonic, so the argmax of the logits equals the argmax of P and
    the exponentials can be skipped.
    """
    return np.argmax(X @ W + b, axis=1).astype(np.int64)


# --- metrics ---------------------------------------------------------------------


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, num_classes: int = NUM_CLASSES
) -> IntArray:
    """Counts (num_classes, num_classes): entry [t, p] = samples of class t predicted as p.

    Rows are the true classes, columns the predicted ones, so the diagonal holds the
    correct predictions. Each (true, predicted) pair is numbered t * C + p and counted
    with one bincount.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and not 0 <= labels.min() <= labels.max() < num_classes:
            raise ValueError(f"{name} must hold labels in 0..{num_classes - 1}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, with 0 wherever the denominator is 0 (no NaN, no warning)."""
    result = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result


def precision_recall_f1(cm: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class precision, recall and F1 (each of shape (C,)) from a confusion matrix.

    With rows = true and columns = predicted classes, the true positives of class k
    are cm[k, k], the column sum counts everything predicted as k (precision's
    denominator) and the row sum everything that really is k (recall's). A class
    with a zero denominator scores 0 rather than NaN.
    """
    cm = np.asarray(cm, dtype=np.float64)
    true_positives = np.diag(cm)
    precision = _safe_divide(true_positives, cm.sum(axis=0))
    recall = _safe_divide(true_positives, cm.sum(axis=1))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return precision, recall, f1
