"""A softmax perceptron (multinomial logistic regression) for MNIST, in numpy.

One linear layer maps a 784-pixel image to 10 class scores (logits); softmax turns
the scores into probabilities and cross-entropy measures how wrong they are. The
gradient of the mean cross-entropy has a closed form, so training is a few lines of
mini-batch gradient descent.

Shapes: X (N, 784) floats in [0, 1], W (784, 10), b (10,), labels y (N,) ints in
0..9, one-hot labels Y and probabilities P (N, 10). Every function works on whole
batches at once: no Python loop over samples.

numpy and the standard library may be imported here; no machine-learning framework.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.integer]

NUM_CLASSES = 10

# Your hyperparameters of train() go here, e.g. EPOCHS, BATCH_SIZE and LEARNING_RATE.

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


# --- the model -------------------------------------------------------------------


def one_hot(y: npt.ArrayLike, num_classes: int = NUM_CLASSES) -> FloatArray:
    """Labels (N,) as float64 rows (N, num_classes) with a single 1 in column y[i].

    Targets in this form can be compared with softmax probabilities entry by entry.
    """
    raise NotImplementedError(
        "one_hot: start from np.zeros((len(y), num_classes)) and set one entry per row "
        "with fancy indexing, Y[np.arange(len(y)), y] = 1."
    )


def softmax(Z: npt.ArrayLike) -> FloatArray:
    """Row-wise softmax of logits (N, C); a 1-D vector is treated as one row.

    Subtracting each row's maximum first leaves the result unchanged (the factor
    exp(-max) cancels) but keeps exp() from overflowing: the largest exponent is 0.
    """
    raise NotImplementedError(
        "softmax: subtract Z.max(axis=-1, keepdims=True), apply np.exp and divide by the "
        "sum over axis=-1 (keepdims=True), which works for 1-D and 2-D input alike."
    )


def cross_entropy(P: npt.ArrayLike, Y: npt.ArrayLike) -> float:
    """Mean over rows of -sum(Y * log P): the loss that softmax regression minimises.

    P is clipped to [PROBABILITY_FLOOR, 1] so that a probability of exactly 0 gives a
    large finite loss instead of inf (and 0 * log 0 does not become NaN).
    """
    raise NotImplementedError(
        "cross_entropy: take np.log of np.clip(P, PROBABILITY_FLOOR, 1.0), sum -Y * log P "
        "over each row, average over the rows and return a Python float."
    )


def forward(X: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """Class probabilities P = softmax(X W + b), one row per sample."""
    raise NotImplementedError(
        "forward: one matrix product for the whole batch, add b (broadcast over the rows) "
        "and apply your softmax."
    )


def gradients(X: FloatArray, Y: FloatArray, P: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gradients (dW, db) of the mean cross-entropy with respect to W and b.

    For softmax followed by cross-entropy the gradient with respect to the logits is
    simply (P - Y) / N; the chain rule through Z = X W + b then gives
    dW = X^T (P - Y) / N, shape (D, C), and db = the column means of P - Y, shape (C,).
    """
    raise NotImplementedError(
        "gradients: compute P - Y once, then dW with one matrix product X.T @ (P - Y) divided "
        "by N and db as its mean over axis 0, without a loop over the samples."
    )


def train(X: FloatArray, y: IntArray, *, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    """Fit W (D, C) and b (C,) by mini-batch gradient descent; deterministic per seed.

    Zero initial weights are fine here, unlike in a multi-layer network: the problem is
    convex and each class's column gets its own gradient from the first step, so there
    is no symmetry to break. The generator therefore only shuffles the data, anew each
    epoch, so consecutive batches are not correlated. Training runs in float32: it
    halves the memory traffic of every matrix product and SGD needs no more precision.
    """
    raise NotImplementedError(
        "train: create rng = np.random.default_rng(seed), then for every epoch take "
        "rng.permutation(len(X)) and step W -= LEARNING_RATE * dW (and b likewise) once "
        "per batch of BATCH_SIZE rows, with the constants defined at the top of this file."
    )


def predict(X: FloatArray, W: FloatArray, b: FloatArray) -> IntArray:
    """Predicted labels (N,): the class with the largest logit.

    Softmax is monotonic, so the argmax of the logits equals the argmax of P and
    the exponentials can be skipped.
    """
    raise NotImplementedError(
        "predict: return np.argmax of the logits X @ W + b along axis 1, as an int array."
    )


# --- metrics ---------------------------------------------------------------------


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, num_classes: int = NUM_CLASSES
) -> IntArray:
    """Counts (num_classes, num_classes): entry [t, p] = samples of class t predicted as p.

    Rows are the true classes, columns the predicted ones, so the diagonal holds the
    correct predictions. Each (true, predicted) pair is numbered t * C + p and counted
    with one bincount.
    """
    raise NotImplementedError(
        "confusion_matrix: count the pair numbers y_true * num_classes + y_pred with "
        "np.bincount(..., minlength=num_classes**2) and reshape to (num_classes, num_classes)."
    )


def precision_recall_f1(cm: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class precision, recall and F1 (each of shape (C,)) from a confusion matrix.

    With rows = true and columns = predicted classes, the true positives of class k
    are cm[k, k], the column sum counts everything predicted as k (precision's
    denominator) and the row sum everything that really is k (recall's). A class
    with a zero denominator scores 0 rather than NaN.
    """
    raise NotImplementedError(
        "precision_recall_f1: divide np.diag(cm) by the column and row sums with "
        "np.divide(..., out=np.zeros(C), where=denominator != 0), and F1 = 2PR / (P + R) "
        "the same way."
    )
