"""A multilayer perceptron for MNIST with backpropagation written by hand (numpy only).

A batch X of shape (N, D) passes through dense layers: the hidden layers use the
nonlinearity named by ACTIVATION, the output layer a softmax, and the loss is the mean
cross-entropy over the batch. The parameters are a plain dict {"W1", "b1", "W2", ...} so
that a gradient check can perturb any entry in place and watch the loss move.

Every function works on whole batches. There is a Python loop over the layers, never
over the samples: numpy's matrix products do the per-sample work far faster than Python.

numpy and the standard library may be imported here; no machine-learning framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.integer]
Params = dict[str, FloatArray]  # {"W1": (n_0, n_1), "b1": (n_1,), "W2": ..., ...}
Grads = dict[str, FloatArray]  # {"dW1": ..., "db1": ..., ...}, shaped like the params
Cache = dict[str, Any]  # what forward remembers for backward

ACTIVATION = "relu"  # the hidden layers' nonlinearity: "relu", "sigmoid" or "tanh"
OPTION = "dropout"  # the one extra: "dropout", "l2" or "scheduler"
DROPOUT_P = 0.2  # probability of DROPPING a hidden unit while training
L2_LAMBDA = 1e-4  # with OPTION == "l2" the loss gains (L2_LAMBDA / 2) * sum of squared weights

NUM_CLASSES = 10
HIDDEN_SIZES = (100,)  # the hidden layers of train()'s network: 784-100-10

# Your hyperparameters of train() go here, e.g. EPOCHS, BATCH_SIZE, LEARNING_RATE and
# MOMENTUM.

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


# --- the network -----------------------------------------------------------------


def init_params(sizes: Sequence[int] = (784, 100, 10), seed: int = 0) -> Params:
    """Weights for the layer sizes (inputs, hidden..., classes); biases start at 0.

    The spread keeps the signal's variance roughly constant from layer to layer, so deep
    stacks neither blow up nor fade out at the start: He (std sqrt(2 / n_in)) for relu,
    which zeroes half its inputs, Xavier (std sqrt(2 / (n_in + n_out))) for sigmoid and tanh.
    """
    raise NotImplementedError(
        "init_params: with rng = np.random.default_rng(seed), draw W{i} = rng.normal(0.0, std, "
        "size=(n_in, n_out)) for each consecutive pair of sizes and set b{i} = np.zeros(n_out)."
    )


def forward(
    params: Params,
    X: FloatArray,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, Cache]:
    """Softmax probabilities P (N, C) for the rows of X (N, D), and the cache for backward.

    The arithmetic follows the params' dtype: float64 for gradient checks, float32 for
    fast training. With OPTION == "dropout" and train=True, each hidden layer's output is
    masked (inverted dropout): a unit is dropped with probability DROPOUT_P and the
    survivors are scaled by 1 / (1 - DROPOUT_P), so a unit's expected output is the same
    as in evaluation, which then needs neither mask nor scaling.
    """
    raise NotImplementedError(
        "forward: for each hidden layer compute h = f(h @ W + b) (then h * mask / (1 - "
        "DROPOUT_P) when dropping out), take a row-wise softmax of the last layer's h @ W + b "
        "after subtracting each row's maximum, and keep every layer's input, f(z) and mask "
        "in the cache."
    )


def backward(params: Params, cache: Cache, Y: FloatArray) -> Grads:
    """Gradients {"dW1", "db1", ...} of the mean cross-entropy, by the chain rule.

    delta is dLoss/dz of the current layer's pre-activation, one row per sample. For
    softmax followed by cross-entropy it is simply (P - Y) / N; each step back multiplies
    by W transposed, the dropout mask (a dropped unit passes no gradient) and f'(z).
    With OPTION == "l2" every dW gains L2_LAMBDA * W, the derivative of the penalty.
    """
    raise NotImplementedError(
        "backward: start from delta = (P - Y) / N and, from the last layer to the first, "
        "set dW = layer_input.T @ delta and db = delta.sum(axis=0), then carry delta down "
        "with (delta @ W.T) * mask / (1 - DROPOUT_P) * f'(z)."
    )


def predict(params: Params, X: FloatArray) -> IntArray:
    """Class labels (N,): the most probable class of each row, without dropout."""
    raise NotImplementedError(
        "predict: run forward with train=False and return np.argmax(P, axis=1) as int64."
    )


# --- training --------------------------------------------------------------------


class PlateauScheduler:
    """Reduce the learning rate when a metric to maximise (validation accuracy) stalls.

    step(m) counts the steps since the best metric so far; at the patience-th step without
    an improvement the rate is multiplied by factor (never below min_lr) and the count
    starts again. A strict improvement (m > best) resets the count.
    """

    def __init__(
        self, lr: float, *, factor: float = 0.5, patience: int = 2, min_lr: float = 1e-4
    ) -> None:
        raise NotImplementedError(
            "PlateauScheduler: store lr, factor, patience and min_lr as attributes, and start "
            "with best = -math.inf and 0 steps without improvement."
        )

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch."""
        raise NotImplementedError(
            "step: if metric > best, remember it and reset the count; otherwise add 1 and, "
            "when the count reaches patience, set lr = max(min_lr, lr * factor) and reset the "
            "count; return lr."
        )


def train(
    X: FloatArray,
    y: IntArray,
    X_val: FloatArray,
    y_val: IntArray,
    *,
    seed: int = 0,
) -> tuple[Params, list[dict[str, float]]]:
    """Mini-batch SGD with momentum; returns float64 params and one history dict per epoch.

    Each history dict holds the epoch's mean training loss, the accuracy on (X_val, y_val)
    after the epoch and the learning rate the epoch used. With OPTION == "scheduler" a
    PlateauScheduler(LEARNING_RATE) with its default settings is stepped once per epoch
    with the validation accuracy. One seeded generator draws the initial weights, another
    the batch order and dropout masks, so the same seed gives the same result. Training
    runs in float32: it halves the memory traffic of every matrix product, and SGD's noisy
    steps need no more precision.
    """
    raise NotImplementedError(
        "train: init_params((X.shape[1], *HIDDEN_SIZES, NUM_CLASSES), seed), then each epoch "
        "shuffle with a seeded rng.permutation, run forward(train=True) and backward on every "
        "mini-batch with a momentum step, and append {'train_loss', 'val_accuracy', 'lr'}."
    )
