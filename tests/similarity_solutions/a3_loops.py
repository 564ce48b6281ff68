"""A multilayer perceptron for MNIST with backpropagation written by hand (numpy only).

Written with explicit counters; the cache is one flat dict with keys like "h0", "a1".
"""

# ruff: noqa  (a student's solution, in the student's own style)

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
DROPOUT_P = 0.1  # probability of DROPPING a hidden unit while training
L2_LAMBDA = 1e-4  # with OPTION == "l2" the loss gains (L2_LAMBDA / 2) * sum of squared weights

NUM_CLASSES = 10
HIDDEN_SIZES = (100,)  # the hidden layers of train()'s network: 784-100-10

EPOCHS = 12
BATCH_SIZE = 32
LEARNING_RATE = 0.02
MOMENTUM = 0.95

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


def init_params(sizes: Sequence[int] = (784, 100, 10), seed: int = 0) -> Params:
    """Weights for the layer sizes (inputs, hidden..., classes); biases start at 0."""
    rng = np.random.default_rng(seed)
    result: Params = {}
    j = 0
    while j < len(sizes) - 1:
        n_in = sizes[j]
        n_out = sizes[j + 1]
        if ACTIVATION == "relu":
            variance = 2.0 / n_in
        else:
            variance = 2.0 / (n_in + n_out)
        result[f"W{j + 1}"] = rng.normal(0.0, variance**0.5, size=(n_in, n_out))
        result[f"b{j + 1}"] = np.zeros(n_out)
        j += 1
    return result


def apply_f(z):
    if ACTIVATION == "relu":
        return z * (z > 0)
    if ACTIVATION == "tanh":
        return np.tanh(z)
    if ACTIVATION == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    raise ValueError(ACTIVATION)


def derivative_from_output(a):
    if ACTIVATION == "relu":
        return (a > 0) * np.ones_like(a)
    if ACTIVATION == "tanh":
        return 1.0 - a * a
    if ACTIVATION == "sigmoid":
        return a * (1.0 - a)
    raise ValueError(ACTIVATION)


def forward(
    params: Params,
    X: FloatArray,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, Cache]:
    """Softmax probabilities P (N, C) for the rows of X (N, D), and the cache for backward."""
    depth = len(params) // 2
    cache: Cache = {"h0": X, "depth": depth}
    with_dropout = train and OPTION == "dropout"
    if with_dropout and rng is None:
        rng = np.random.default_rng()
    current = X
    k = 1
    while k < depth:
        a = apply_f(current @ params[f"W{k}"] + params[f"b{k}"])
        cache[f"a{k}"] = a
        if with_dropout:
            mask = rng.random(a.shape) >= DROPOUT_P
            cache[f"mask{k}"] = mask
            current = np.where(mask, a / (1.0 - DROPOUT_P), 0.0).astype(a.dtype)
        else:
            current = a
        cache[f"h{k}"] = current
        k += 1
    scores = current @ params[f"W{depth}"] + params[f"b{depth}"]
    scores = scores - np.amax(scores, axis=1, keepdims=True)
    unnormalised = np.exp(scores)
    P = unnormalised / np.sum(unnormalised, axis=1, keepdims=True)
    cache["P"] = P
    return P, cache


def backward(params: Params, cache: Cache, Y: FloatArray) -> Grads:
    """Gradients {"dW1", "db1", ...} of the mean cross-entropy, by the chain rule."""
    depth = cache["depth"]
    P = cache["P"]
    batch = P.shape[0]
    dz = (P - Y) / batch
    found = {}
    k = depth
    while k >= 1:
        found[f"dW{k}"] = cache[f"h{k - 1}"].T @ dz
        found[f"db{k}"] = dz.sum(axis=0)
        if OPTION == "l2":
            found[f"dW{k}"] += L2_LAMBDA * params[f"W{k}"]
        if k > 1:
            dh = dz @ params[f"W{k}"].T
            if f"mask{k - 1}" in cache:
                dh = np.where(cache[f"mask{k - 1}"], dh / (1.0 - DROPOUT_P), 0.0)
            dz = dh * derivative_from_output(cache[f"a{k - 1}"])
        k -= 1
    grads: Grads = {}
    k = 1
    while k <= depth:
        grads[f"dW{k}"] = found[f"dW{k}"]
        grads[f"db{k}"] = found[f"db{k}"]
        k += 1
    return grads


def predict(params: Params, X: FloatArray) -> IntArray:
    """Class labels (N,): the most probable class of each row, without dropout."""
    probs, _unused = forward(params, X, train=False)
    return np.asarray(np.argmax(probs, axis=1), dtype=np.int64)


class PlateauScheduler:
    """Reduce the learning rate when a metric to maximise (validation accuracy) stalls."""

    def __init__(
        self, lr: float, *, factor: float = 0.5, patience: int = 2, min_lr: float = 1e-4
    ) -> None:
        self.lr = lr
        self.factor = factor
        self.patience = patience
        self.min_lr = min_lr
        self.best = float("-inf")
        self.stalled = 0

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch."""
        if metric <= self.best:
            self.stalled += 1
        else:
            self.best = metric
            self.stalled = 0
        if self.stalled == self.patience:
            new_lr = self.lr * self.factor
            if new_lr < self.min_lr:
                new_lr = self.min_lr
            self.lr = new_lr
            self.stalled = 0
        return self.lr


def batch_loss(params, P, Y):
    clipped = np.clip(P, PROBABILITY_FLOOR, 1.0)
    loss = -np.sum(Y * np.log(clipped)) / P.shape[0]
    if OPTION == "l2":
        squares = 0.0
        k = 1
        while k <= len(params) // 2:
            squares += np.sum(params[f"W{k}"] * params[f"W{k}"])
            k += 1
        loss += L2_LAMBDA * squares / 2
    return float(loss)


def train(
    X: FloatArray,
    y: IntArray,
    X_val: FloatArray,
    y_val: IntArray,
    *,
    seed: int = 0,
) -> tuple[Params, list[dict[str, float]]]:
    """Mini-batch SGD with momentum; returns float64 params and one history dict per epoch."""
    X = np.asarray(X, dtype=np.float32)
    X_val = np.asarray(X_val, dtype=np.float32)
    labels = np.zeros((len(y), NUM_CLASSES), dtype=np.float32)
    labels[np.arange(len(y)), np.asarray(y)] = 1
    net = init_params((X.shape[1],) + tuple(HIDDEN_SIZES) + (NUM_CLASSES,), seed)
    for name in list(net):
        net[name] = net[name].astype(np.float32)
    velocity = {name: np.zeros_like(value) for name, value in net.items()}
    rng = np.random.default_rng(seed + 7)
    schedule = PlateauScheduler(LEARNING_RATE) if OPTION == "scheduler" else None
    step_size = LEARNING_RATE
    history = []
    epoch = 0
    while epoch < EPOCHS:
        order = rng.permutation(X.shape[0])
        seen = 0.0
        start = 0
        while start < X.shape[0]:
            rows = order[start : start + BATCH_SIZE]
            P, cache = forward(net, X[rows], train=True, rng=rng)
            seen += batch_loss(net, P, labels[rows]) * rows.shape[0]
            grads = backward(net, cache, labels[rows])
            for name in net:
                velocity[name] = MOMENTUM * velocity[name] - step_size * grads["d" + name]
                net[name] += velocity[name]
            start += BATCH_SIZE
        accuracy = float(np.mean(predict(net, X_val) == np.asarray(y_val)))
        history.append(
            {"train_loss": seen / X.shape[0], "val_accuracy": accuracy, "lr": float(step_size)}
        )
        if schedule is not None:
            step_size = schedule.step(accuracy)
        epoch += 1
    return {name: value.astype(np.float64) for name, value in net.items()}, history
