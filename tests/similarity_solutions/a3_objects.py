"""Lab 3: a multilayer perceptron.

I wrote a tiny Layer helper and an Activation table, and the required functions call
into them. Params stay the dict the assignment asks for.
"""

# ruff: noqa  (a student's solution, in the student's own style)

import math

import numpy as np

ACTIVATION = "tanh"
OPTION = "scheduler"
DROPOUT_P = 0.25
L2_LAMBDA = 5e-4

NUM_CLASSES = 10
HIDDEN_SIZES = (120,)

EPOCHS = 18
BATCH_SIZE = 100
LEARNING_RATE = 0.03
MOMENTUM = 0.9

PROBABILITY_FLOOR = 1e-12


class Activation:
    """f and its derivative expressed through the output a = f(z)."""

    @staticmethod
    def apply(name, z):
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.maximum(0, z)
        if name == "sigmoid":
            return 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        raise ValueError(f"bad ACTIVATION {name}")

    @staticmethod
    def slope(name, a):
        if name == "tanh":
            return 1 - np.square(a)
        if name == "relu":
            return np.greater(a, 0).astype(a.dtype)
        if name == "sigmoid":
            return a - np.square(a)
        raise ValueError(f"bad ACTIVATION {name}")


class Layer:
    """View of one (W, b) pair inside the params dict."""

    def __init__(self, params, index):
        self.W = params["W%d" % index]
        self.b = params["b%d" % index]
        self.index = index

    def affine(self, inputs):
        return np.dot(inputs, self.W) + self.b

    def grads(self, inputs, delta):
        gW = np.dot(inputs.T, delta)
        if OPTION == "l2":
            gW = gW + L2_LAMBDA * self.W
        return gW, delta.sum(0)


def layers_of(params):
    return [Layer(params, k) for k in range(1, len(params) // 2 + 1)]


def stable_softmax(scores):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    numer = np.exp(shifted)
    return numer / np.sum(numer, axis=1, keepdims=True)


def init_params(sizes=(784, 100, 10), seed=0):
    """Gaussian weights (He for relu, Glorot otherwise) and zero biases."""
    generator = np.random.default_rng(seed)
    sizes = list(sizes)
    out = {}
    for k, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1):
        spread = math.sqrt(2 / a) if ACTIVATION == "relu" else math.sqrt(2 / (a + b))
        out["W%d" % k] = generator.normal(0.0, spread, size=(a, b))
        out["b%d" % k] = np.zeros(b)
    return out


def forward(params, X, *, train=False, rng=None):
    """Probabilities of each class, plus what backward needs."""
    layers = layers_of(params)
    dropping = bool(train) and OPTION == "dropout"
    if dropping and rng is None:
        rng = np.random.default_rng()
    record = {"inputs": [], "outputs": [], "keep": []}
    signal = X
    for layer in layers[:-1]:
        record["inputs"].append(signal)
        activated = Activation.apply(ACTIVATION, layer.affine(signal))
        record["outputs"].append(activated)
        if dropping:
            keep = (rng.random(activated.shape) >= DROPOUT_P).astype(activated.dtype)
            keep /= 1.0 - DROPOUT_P
            signal = activated * keep
        else:
            keep = None
            signal = activated
        record["keep"].append(keep)
    record["inputs"].append(signal)
    probabilities = stable_softmax(layers[-1].affine(signal))
    record["probabilities"] = probabilities
    return probabilities, record


def backward(params, cache, Y):
    """Backpropagation through the layers, last one first."""
    layers = layers_of(params)
    probabilities = cache["probabilities"]
    delta = (probabilities - Y) / probabilities.shape[0]
    result = {}
    for position in reversed(range(len(layers))):
        layer = layers[position]
        gW, gb = layer.grads(cache["inputs"][position], delta)
        result["dW%d" % layer.index] = gW
        result["db%d" % layer.index] = gb
        if position == 0:
            break
        delta = np.dot(delta, layer.W.T)
        keep = cache["keep"][position - 1]
        if keep is not None:
            delta = delta * keep
        delta = delta * Activation.slope(ACTIVATION, cache["outputs"][position - 1])
    return {key: result[key] for key in sorted(result, key=lambda k: (int(k[2:]), k[1]))}


def predict(params, X):
    """Most likely digit per row."""
    probabilities, _ = forward(params, X)
    return np.argmax(probabilities, axis=1).astype(np.int64)


def mean_loss(params, probabilities, Y):
    logs = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0))
    loss = -np.mean(np.sum(Y * logs, axis=1))
    if OPTION == "l2":
        loss += L2_LAMBDA / 2 * sum(np.sum(layer.W**2) for layer in layers_of(params))
    return float(loss)


class PlateauScheduler:
    """Halve (by factor) the rate after `patience` epochs without a better metric."""

    def __init__(self, lr, *, factor=0.5, patience=2, min_lr=1e-4):
        self.lr, self.factor = lr, factor
        self.patience, self.min_lr = patience, min_lr
        self.best = -math.inf
        self.wait = 0

    def step(self, metric):
        improved = metric > self.best
        self.best = max(self.best, metric)
        self.wait = 0 if improved else self.wait + 1
        if self.wait == self.patience:
            self.lr = max(self.min_lr, self.factor * self.lr)
            self.wait = 0
        return self.lr


def train(X, y, X_val, y_val, *, seed=0):
    """SGD with momentum over shuffled mini-batches."""
    features = np.asarray(X, np.float32)
    targets = np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(y)]
    shape = (features.shape[1], *HIDDEN_SIZES, NUM_CLASSES)
    params = {k: v.astype(np.float32) for k, v in init_params(shape, seed=seed).items()}
    speed = {k: np.zeros_like(v) for k, v in params.items()}
    order_rng = np.random.default_rng(seed + 12345)
    scheduler = PlateauScheduler(LEARNING_RATE) if OPTION == "scheduler" else None
    rate = LEARNING_RATE
    log = []
    count = len(features)
    batches = math.ceil(count / BATCH_SIZE)
    for _epoch in range(EPOCHS):
        shuffled = order_rng.permutation(count)
        running = 0.0
        for chunk in np.array_split(shuffled, batches):
            probabilities, record = forward(params, features[chunk], train=True, rng=order_rng)
            running += mean_loss(params, probabilities, targets[chunk]) * chunk.size
            gradients = backward(params, record, targets[chunk])
            for k in params:
                speed[k] = MOMENTUM * speed[k] - rate * gradients["d" + k]
                params[k] += speed[k]
        accuracy = float(np.mean(predict(params, np.asarray(X_val, np.float32)) == y_val))
        log.append({"train_loss": running / count, "val_accuracy": accuracy, "lr": rate})
        if scheduler:
            rate = scheduler.step(accuracy)
    return {k: v.astype(np.float64) for k, v in params.items()}, log
