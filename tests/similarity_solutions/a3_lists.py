"""Assignment 3 -- MLP trained with backprop. Keeps lists of z and h per layer."""

# ruff: noqa  (a student's solution, in the student's own style)

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.integer]
Params = dict[str, FloatArray]  # {"W1": (n_0, n_1), "b1": (n_1,), "W2": ..., ...}
Grads = dict[str, FloatArray]  # {"dW1": ..., "db1": ..., ...}, shaped like the params
Cache = dict[str, Any]  # what forward remembers for backward

ACTIVATION = "sigmoid"  # the hidden layers' nonlinearity: "relu", "sigmoid" or "tanh"
OPTION = "l2"  # the one extra: "dropout", "l2" or "scheduler"
DROPOUT_P = 0.2  # probability of DROPPING a hidden unit while training
L2_LAMBDA = 1e-4  # with OPTION == "l2" the loss gains (L2_LAMBDA / 2) * sum of squared weights

NUM_CLASSES = 10
HIDDEN_SIZES = (100,)  # the hidden layers of train()'s network: 784-100-10

EPOCHS = 15
BATCH_SIZE = 64
LEARNING_RATE = 0.1
MOMENTUM = 0.9

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


def hidden(z):
    # nonlinearity of the hidden layers
    if ACTIVATION == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    elif ACTIVATION == "tanh":
        return np.tanh(z)
    elif ACTIVATION == "relu":
        return np.where(z > 0, z, 0.0).astype(z.dtype)
    raise ValueError("unknown activation " + str(ACTIVATION))


def hidden_grad(z):
    # derivative of hidden() at z
    if ACTIVATION == "sigmoid":
        s = hidden(z)
        return s * (1.0 - s)
    elif ACTIVATION == "tanh":
        t = np.tanh(z)
        return 1.0 - t**2
    elif ACTIVATION == "relu":
        return (z > 0).astype(z.dtype)
    raise ValueError("unknown activation " + str(ACTIVATION))


def layer_count(params):
    return len(params) // 2


def init_params(sizes: Sequence[int] = (784, 100, 10), seed: int = 0) -> Params:
    """Weights for the layer sizes (inputs, hidden..., classes); biases start at 0."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        fan_in = sizes[l - 1]
        fan_out = sizes[l]
        if ACTIVATION == "relu":
            scale = np.sqrt(2.0 / fan_in)
        else:
            scale = np.sqrt(2.0 / (fan_in + fan_out))
        params["W" + str(l)] = rng.normal(0.0, scale, size=(fan_in, fan_out))
        params["b" + str(l)] = np.zeros(fan_out)
    return params


def forward(
    params: Params,
    X: FloatArray,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, Cache]:
    """Softmax probabilities P (N, C) for the rows of X (N, D), and the cache for backward."""
    L = layer_count(params)
    drop = train and OPTION == "dropout"
    if drop and rng is None:
        rng = np.random.default_rng()
    hs = [X]
    zs = []
    masks = []
    out = X
    for l in range(1, L):
        z = out @ params["W" + str(l)] + params["b" + str(l)]
        zs.append(z)
        out = hidden(z)
        if drop:
            m = (rng.random(out.shape) >= DROPOUT_P).astype(out.dtype) / (1.0 - DROPOUT_P)
            out = out * m
            masks.append(m)
        else:
            masks.append(None)
        hs.append(out)
    logits = out @ params["W" + str(L)] + params["b" + str(L)]
    logits = logits - logits.max(axis=1, keepdims=True)
    expo = np.exp(logits)
    P = expo / expo.sum(axis=1, keepdims=True)
    return P, {"hs": hs, "zs": zs, "masks": masks, "P": P}


def cross_entropy(params, P, Y):
    n = P.shape[0]
    value = -np.sum(Y * np.log(np.clip(P, PROBABILITY_FLOOR, 1.0))) / n
    if OPTION == "l2":
        penalty = 0.0
        for l in range(1, layer_count(params) + 1):
            penalty = penalty + np.sum(params["W" + str(l)] ** 2)
        value = value + 0.5 * L2_LAMBDA * penalty
    return float(value)


def backward(params: Params, cache: Cache, Y: FloatArray) -> Grads:
    """Gradients {"dW1", "db1", ...} of the mean cross-entropy, by the chain rule."""
    L = layer_count(params)
    P = cache["P"]
    n = P.shape[0]
    grads = {}
    g = (P - Y) / n
    for l in range(L, 0, -1):
        h_prev = cache["hs"][l - 1]
        grads["dW" + str(l)] = h_prev.T @ g
        grads["db" + str(l)] = np.sum(g, axis=0)
        if OPTION == "l2":
            grads["dW" + str(l)] = grads["dW" + str(l)] + L2_LAMBDA * params["W" + str(l)]
        if l > 1:
            g = g @ params["W" + str(l)].T
            if cache["masks"][l - 2] is not None:
                g = g * cache["masks"][l - 2]
            g = g * hidden_grad(cache["zs"][l - 2])
    ordered = {}
    for l in range(1, L + 1):
        ordered["dW" + str(l)] = grads["dW" + str(l)]
        ordered["db" + str(l)] = grads["db" + str(l)]
    return ordered


def predict(params: Params, X: FloatArray) -> IntArray:
    """Class labels (N,): the most probable class of each row, without dropout."""
    P = forward(params, X)[0]
    return P.argmax(axis=1).astype(np.int64)


class PlateauScheduler:
    """Reduce the learning rate when a metric to maximise (validation accuracy) stalls."""

    def __init__(
        self, lr: float, *, factor: float = 0.5, patience: int = 2, min_lr: float = 1e-4
    ) -> None:
        self.lr = lr
        self.factor = factor
        self.patience = patience
        self.min_lr = min_lr
        self.best = -math.inf
        self.bad_epochs = 0

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch."""
        if metric > self.best:
            self.best = metric
            self.bad_epochs = 0
            return self.lr
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.lr = max(self.min_lr, self.lr * self.factor)
            self.bad_epochs = 0
        return self.lr


def one_hot(y, classes):
    Y = np.zeros((len(y), classes), dtype=np.float32)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def train(
    X: FloatArray,
    y: IntArray,
    X_val: FloatArray,
    y_val: IntArray,
    *,
    seed: int = 0,
) -> tuple[Params, list[dict[str, float]]]:
    """Mini-batch SGD with momentum; returns float64 params and one history dict per epoch."""
    X = X.astype(np.float32)
    X_val = X_val.astype(np.float32)
    Y = one_hot(y, NUM_CLASSES)
    sizes = [X.shape[1]] + list(HIDDEN_SIZES) + [NUM_CLASSES]
    params = init_params(sizes, seed)
    for key in params:
        params[key] = params[key].astype(np.float32)
    moment = {}
    for key in params:
        moment[key] = np.zeros_like(params[key])
    shuffle_rng = np.random.default_rng(seed + 1)
    sched = None
    if OPTION == "scheduler":
        sched = PlateauScheduler(LEARNING_RATE)
    lr = LEARNING_RATE
    history = []
    n = X.shape[0]
    for epoch in range(EPOCHS):
        perm = shuffle_rng.permutation(n)
        total = 0.0
        for i in range(0, n, BATCH_SIZE):
            idx = perm[i : i + BATCH_SIZE]
            P, cache = forward(params, X[idx], train=True, rng=shuffle_rng)
            total += cross_entropy(params, P, Y[idx]) * len(idx)
            grads = backward(params, cache, Y[idx])
            for key in params:
                moment[key] = MOMENTUM * moment[key] - lr * grads["d" + key]
                params[key] = params[key] + moment[key]
        acc = float((predict(params, X_val) == y_val).mean())
        history.append({"train_loss": total / n, "val_accuracy": acc, "lr": float(lr)})
        if sched is not None:
            lr = sched.step(acc)
    result = {}
    for key in params:
        result[key] = params[key].astype(np.float64)
    return result, history
