"""MLP, compact version: comprehensions, zip over weight lists, a table of activations."""

# ruff: noqa  (a student's solution, in the student's own style)

import math

import numpy as np

ACTIVATION = "relu"
OPTION = "l2"
DROPOUT_P = 0.3
L2_LAMBDA = 2e-4
NUM_CLASSES = 10
HIDDEN_SIZES = (96,)
EPOCHS, BATCH_SIZE, LEARNING_RATE, MOMENTUM = 16, 256, 0.2, 0.85
PROBABILITY_FLOOR = 1e-12

FUNCS = {
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(a.dtype)),
    "tanh": (np.tanh, lambda a: 1 - a**2),
    "sigmoid": (lambda z: 0.5 + 0.5 * np.tanh(z / 2), lambda a: a * (1 - a)),
}


def weights(params):
    n = len(params) // 2
    return [params[f"W{i}"] for i in range(1, n + 1)], [params[f"b{i}"] for i in range(1, n + 1)]


def init_params(sizes=(784, 100, 10), seed=0):
    rng = np.random.default_rng(seed)
    relu = ACTIVATION == "relu"
    out = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        out[f"W{i}"] = rng.normal(0.0, math.sqrt(2 / m if relu else 2 / (m + n)), size=(m, n))
        out[f"b{i}"] = np.zeros(n)
    return out


def softmax(s):
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def forward(params, X, *, train=False, rng=None):
    f = FUNCS[ACTIVATION][0]
    Ws, bs = weights(params)
    p_drop = DROPOUT_P if (train and OPTION == "dropout") else 0.0
    rng = rng if rng is not None or not p_drop else np.random.default_rng()
    xs, acts, masks = [X], [], []
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = f(xs[-1] @ W + b)
        mask = (rng.random(a.shape) >= p_drop) / (1 - p_drop) if p_drop else None
        acts.append(a)
        masks.append(mask)
        xs.append(a if mask is None else (a * mask).astype(a.dtype))
    P = softmax(xs[-1] @ Ws[-1] + bs[-1])
    return P, dict(xs=xs, acts=acts, masks=masks, P=P)


def backward(params, cache, Y):
    df = FUNCS[ACTIVATION][1]
    Ws, _ = weights(params)
    d = (cache["P"] - Y) / len(Y)
    dWs, dbs = [], []
    for i in reversed(range(len(Ws))):
        dWs.insert(0, cache["xs"][i].T @ d + (L2_LAMBDA * Ws[i] if OPTION == "l2" else 0))
        dbs.insert(0, d.sum(0))
        if i:
            d = d @ Ws[i].T
            d = d * (1 if cache["masks"][i - 1] is None else cache["masks"][i - 1])
            d = d * df(cache["acts"][i - 1])
    return {
        k: v for i in range(len(Ws)) for k, v in ((f"dW{i + 1}", dWs[i]), (f"db{i + 1}", dbs[i]))
    }


def predict(params, X):
    return forward(params, X)[0].argmax(1).astype(np.int64)


def loss(params, P, Y):
    ce = -float((Y * np.log(P.clip(PROBABILITY_FLOOR, 1))).sum()) / len(Y)
    reg = L2_LAMBDA / 2 * sum(float((W * W).sum()) for W in weights(params)[0])
    return ce + (reg if OPTION == "l2" else 0.0)


class PlateauScheduler:
    def __init__(self, lr, *, factor=0.5, patience=2, min_lr=1e-4):
        self.lr, self.factor, self.patience, self.min_lr = lr, factor, patience, min_lr
        self.best, self.since = -math.inf, 0

    def step(self, metric):
        if metric > self.best:
            self.best, self.since = metric, 0
            return self.lr
        self.since += 1
        if self.since == self.patience:
            self.lr, self.since = max(self.min_lr, self.lr * self.factor), 0
        return self.lr


def train(X, y, X_val, y_val, *, seed=0):
    X, X_val = X.astype(np.float32), X_val.astype(np.float32)
    Y = np.eye(NUM_CLASSES, dtype=np.float32)[y]
    params = {
        k: v.astype(np.float32)
        for k, v in init_params([X.shape[1], *HIDDEN_SIZES, NUM_CLASSES], seed).items()
    }
    vel = {k: 0 * v for k, v in params.items()}
    gen = np.random.default_rng([seed, 1])
    sched = PlateauScheduler(LEARNING_RATE) if OPTION == "scheduler" else None
    lr, history = LEARNING_RATE, []
    for _ in range(EPOCHS):
        perm = gen.permutation(len(X))
        batches = [perm[s : s + BATCH_SIZE] for s in range(0, len(X), BATCH_SIZE)]
        total = 0.0
        for idx in batches:
            P, cache = forward(params, X[idx], train=True, rng=gen)
            total += loss(params, P, Y[idx]) * len(idx)
            g = backward(params, cache, Y[idx])
            vel = {k: MOMENTUM * vel[k] - lr * g["d" + k] for k in params}
            params = {k: params[k] + vel[k] for k in params}
        acc = float((predict(params, X_val) == y_val).mean())
        history.append(dict(train_loss=total / len(X), val_accuracy=acc, lr=lr))
        lr = sched.step(acc) if sched else lr
    return {k: v.astype(np.float64) for k, v in params.items()}, history
