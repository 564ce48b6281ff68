"""Probes for assignment 3: run the student's forward/backward inside the worker and send
back only plain arrays (the student's cache never leaves the worker)."""

from __future__ import annotations

import importlib

import numpy as np

from graders.sandbox.inside.probes import module_constants_set

MODULE = "a3.mlp"


def _mlp():
    return importlib.import_module(MODULE)


def _pair(answer, what: str):
    if not isinstance(answer, tuple) or len(answer) != 2:
        raise TypeError(f"{what} must return a pair (P, cache), got {type(answer).__name__}")
    return answer


def probabilities(params: dict, X: np.ndarray, train: bool, seed: int) -> np.ndarray:
    """P from the student's forward (train mode uses a generator seeded with ``seed``)."""
    P, _ = _pair(_mlp().forward(params, X, train=train, rng=np.random.default_rng(seed)), "forward")
    return P


def forward_backward(params: dict, X: np.ndarray, Y: np.ndarray, train: bool, seed: int) -> tuple:
    """P and the student's gradients for one forward/backward pass on the same cache."""
    mlp = _mlp()
    P, cache = _pair(
        mlp.forward(params, X, train=train, rng=np.random.default_rng(seed)), "forward"
    )
    return P, mlp.backward(params, cache, Y)


def gradients(params: dict, X: np.ndarray, Y: np.ndarray) -> dict:
    """The student's gradients in eval mode (no dropout)."""
    return forward_backward(params, X, Y, False, 0)[1]


def epoch(params: dict, images: np.ndarray, labels: np.ndarray, batch_size: int) -> int:
    """One pass of forward + backward over every sample, as training would do it."""
    mlp = _mlp()
    X = images.reshape(len(images), -1).astype(np.float64) / 255.0
    Y = np.eye(10)[labels]
    for start in range(0, len(X), batch_size):
        _, cache = mlp.forward(params, X[start : start + batch_size], train=False)
        mlp.backward(params, cache, Y[start : start + batch_size])
    return len(X)


def scheduler_steps(lr: float, options: dict, metrics: list[float]) -> list[float]:
    """The learning rates PlateauScheduler(lr, **options) returns for ``metrics``."""
    scheduler = _mlp().PlateauScheduler(lr, **options)
    return [float(scheduler.step(metric)) for metric in metrics]


def perturbed_probabilities(
    params: dict, X: np.ndarray, name: str, indices: list, h: float
) -> list[np.ndarray]:
    """The student's P (eval mode) with each entry of ``params[name]`` moved by +h and -h.

    The grader turns these into finite differences of the loss of the student's own
    forward pass; only P crosses back, the arithmetic stays in the grader.
    """
    mlp = _mlp()
    tensor = params[name]
    out = []
    for index in indices:
        index = tuple(int(i) for i in index)
        original = tensor[index]
        for step in (h, -h):
            tensor[index] = original + step
            P, _ = _pair(
                mlp.forward(params, X, train=False, rng=np.random.default_rng(0)), "forward"
            )
            out.append(np.asarray(P, dtype=np.float64))
        tensor[index] = original
    return out


def gradients_with(params: dict, X: np.ndarray, Y: np.ndarray, constants: dict) -> dict:
    """The student's gradients with module constants set as given (e.g. OPTION), then restored."""
    with module_constants_set(_mlp(), constants):
        return gradients(params, X, Y)
