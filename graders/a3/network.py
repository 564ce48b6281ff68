"""The grader's own MLP mathematics: the yardstick for the student's forward and backward.

Layers are numbered from 1; hidden layers use the named activation, the output softmax,
and the loss is the mean cross-entropy (plus (lambda / 2) * sum of squared weights).
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "tanh")
Params = dict[str, np.ndarray]


def activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return np.tanh(z)


def derivative(name: str, z: np.ndarray) -> np.ndarray:
    """Derivative of the activation at z (relu'(0) = 0, as the statement fixes)."""
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    return 1.0 - np.tanh(z) ** 2


def softmax(Z: np.ndarray) -> np.ndarray:
    exp = np.exp(Z - Z.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def depth(params: Params) -> int:
    return sum(1 for key in params if key.startswith("W"))


def forward(
    params: Params,
    X: np.ndarray,
    activation: str,
    masks: list[np.ndarray] | None = None,
    keep: float = 1.0,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Probabilities, pre-activations and layer inputs; optional dropout masks per hidden layer."""
    layers = depth(params)
    inputs, pre = [X], []
    h = X
    for i in range(1, layers + 1):
        z = h @ params[f"W{i}"] + params[f"b{i}"]
        pre.append(z)
        if i == layers:
            return softmax(z), pre, inputs
        h = activate(activation, z)
        if masks is not None:
            h = h * masks[i - 1] / keep
        inputs.append(h)
    raise ValueError("params hold no layer")


def loss(params: Params, X: np.ndarray, Y: np.ndarray, activation: str, l2: float = 0.0) -> float:
    P, _, _ = forward(params, X, activation)
    data = float(-(Y * np.log(np.clip(P, 1e-300, 1.0))).sum(axis=1).mean())
    penalty = (
        0.5 * l2 * sum(float((params[f"W{i}"] ** 2).sum()) for i in range(1, depth(params) + 1))
    )
    return data + penalty


def backward(
    params: Params, X: np.ndarray, Y: np.ndarray, activation: str, l2: float = 0.0,
    masks: list[np.ndarray] | None = None, keep: float = 1.0,
) -> Params:  # fmt: skip
    """Analytic gradients (keys W1, b1, ...) of :func:`loss`, through the given dropout masks."""
    P, pre, inputs = forward(params, X, activation, masks, keep)
    layers = depth(params)
    delta = (P - Y) / len(X)
    grads: Params = {}
    for i in range(layers, 0, -1):
        grads[f"W{i}"] = inputs[i - 1].T @ delta + l2 * params[f"W{i}"]
        grads[f"b{i}"] = delta.sum(axis=0)
        if i > 1:
            upstream = delta @ params[f"W{i}"].T
            if masks is not None:
                upstream = upstream * masks[i - 2] / keep
            delta = upstream * derivative(activation, pre[i - 2])
    return grads


def random_params(sizes: tuple[int, ...], rng: np.random.Generator) -> Params:
    params: Params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{i}"] = rng.normal(scale=np.sqrt(2.0 / n_in), size=(n_in, n_out))
        params[f"b{i}"] = rng.normal(scale=0.1, size=n_out)
    return params
