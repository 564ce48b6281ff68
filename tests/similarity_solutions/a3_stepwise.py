"""Assignment 3 solution (student version): every step on its own line, with comments."""

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
OPTION = "dropout"  # the one extra: "dropout", "l2" or "scheduler"
DROPOUT_P = 0.2  # probability of DROPPING a hidden unit while training
L2_LAMBDA = 1e-4  # with OPTION == "l2" the loss gains (L2_LAMBDA / 2) * sum of squared weights

NUM_CLASSES = 10
HIDDEN_SIZES = (100,)  # the hidden layers of train()'s network: 784-100-10

# my hyperparameters
EPOCHS = 25
BATCH_SIZE = 50
LEARNING_RATE = 0.5
MOMENTUM = 0.8

# Smallest probability fed to the logarithm: log(1e-12) ~ -27.6 keeps the loss
# finite (and large) when a model is certain and wrong.
PROBABILITY_FLOOR = 1e-12


def init_params(sizes: Sequence[int] = (784, 100, 10), seed: int = 0) -> Params:
    """Weights for the layer sizes (inputs, hidden..., classes); biases start at 0."""
    generator = np.random.default_rng(seed)
    number_of_layers = len(sizes) - 1
    parameters = {}
    for layer_number in range(1, number_of_layers + 1):
        inputs_count = sizes[layer_number - 1]
        outputs_count = sizes[layer_number]
        # He initialisation for relu, Xavier/Glorot otherwise
        if ACTIVATION == "relu":
            standard_deviation = math.sqrt(2.0 / inputs_count)
        else:
            standard_deviation = math.sqrt(2.0 / (inputs_count + outputs_count))
        weight_matrix = generator.normal(
            loc=0.0, scale=standard_deviation, size=(inputs_count, outputs_count)
        )
        bias_vector = np.zeros(outputs_count)
        parameters["W" + str(layer_number)] = weight_matrix
        parameters["b" + str(layer_number)] = bias_vector
    return parameters


def forward(
    params: Params,
    X: FloatArray,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, Cache]:
    """Softmax probabilities P (N, C) for the rows of X (N, D), and the cache for backward."""
    number_of_layers = len(params) // 2
    use_dropout = False
    if train and OPTION == "dropout":
        use_dropout = True
        if rng is None:
            rng = np.random.default_rng()
    layer_inputs = []
    hidden_outputs = []
    dropout_masks = []
    current_values = X
    for layer_number in range(1, number_of_layers):
        weight_matrix = params["W" + str(layer_number)]
        bias_vector = params["b" + str(layer_number)]
        layer_inputs.append(current_values)
        # the pre-activation
        pre_activation = np.matmul(current_values, weight_matrix) + bias_vector
        # the nonlinearity
        if ACTIVATION == "relu":
            activated = np.maximum(pre_activation, 0.0)
        elif ACTIVATION == "tanh":
            activated = np.tanh(pre_activation)
        else:
            activated = 1.0 / (1.0 + np.exp(-pre_activation))
        hidden_outputs.append(activated)
        # inverted dropout
        if use_dropout:
            random_numbers = rng.random(size=activated.shape)
            keep_mask = random_numbers >= DROPOUT_P
            dropout_masks.append(keep_mask)
            current_values = activated * keep_mask
            current_values = current_values / (1.0 - DROPOUT_P)
        else:
            dropout_masks.append(None)
            current_values = activated
    layer_inputs.append(current_values)
    last_weights = params["W" + str(number_of_layers)]
    last_bias = params["b" + str(number_of_layers)]
    output_scores = np.matmul(current_values, last_weights) + last_bias
    # softmax, with the row maximum subtracted first
    row_maximum = np.max(output_scores, axis=1, keepdims=True)
    exponentials = np.exp(output_scores - row_maximum)
    row_sums = np.sum(exponentials, axis=1, keepdims=True)
    probabilities = exponentials / row_sums
    cache = {
        "layer_inputs": layer_inputs,
        "hidden_outputs": hidden_outputs,
        "dropout_masks": dropout_masks,
        "probabilities": probabilities,
    }
    return probabilities, cache


def backward(params: Params, cache: Cache, Y: FloatArray) -> Grads:
    """Gradients {"dW1", "db1", ...} of the mean cross-entropy, by the chain rule."""
    number_of_layers = len(params) // 2
    probabilities = cache["probabilities"]
    batch_size = probabilities.shape[0]
    # softmax + cross-entropy
    error_signal = (probabilities - Y) / batch_size
    gradients = {}
    for layer_number in range(number_of_layers, 0, -1):
        layer_input = cache["layer_inputs"][layer_number - 1]
        weight_gradient = np.matmul(layer_input.T, error_signal)
        bias_gradient = np.sum(error_signal, axis=0)
        if OPTION == "l2":
            weight_gradient = weight_gradient + L2_LAMBDA * params["W" + str(layer_number)]
        gradients["dW" + str(layer_number)] = weight_gradient
        gradients["db" + str(layer_number)] = bias_gradient
        if layer_number == 1:
            continue
        # go one layer down
        weight_matrix = params["W" + str(layer_number)]
        error_signal = np.matmul(error_signal, weight_matrix.T)
        keep_mask = cache["dropout_masks"][layer_number - 2]
        if keep_mask is not None:
            error_signal = error_signal * keep_mask / (1.0 - DROPOUT_P)
        activated = cache["hidden_outputs"][layer_number - 2]
        if ACTIVATION == "relu":
            slope = (activated > 0).astype(activated.dtype)
        elif ACTIVATION == "tanh":
            slope = 1.0 - activated * activated
        else:
            slope = activated * (1.0 - activated)
        error_signal = error_signal * slope
    sorted_gradients = {}
    for layer_number in range(1, number_of_layers + 1):
        sorted_gradients["dW" + str(layer_number)] = gradients["dW" + str(layer_number)]
        sorted_gradients["db" + str(layer_number)] = gradients["db" + str(layer_number)]
    return sorted_gradients


def predict(params: Params, X: FloatArray) -> IntArray:
    """Class labels (N,): the most probable class of each row, without dropout."""
    probabilities, cache = forward(params, X, train=False)
    predicted_classes = np.argmax(probabilities, axis=1)
    return predicted_classes.astype(np.int64)


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
        self.epochs_without_improvement = 0

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the learning rate for the next epoch."""
        if metric > self.best:
            self.best = metric
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement = self.epochs_without_improvement + 1
        if self.epochs_without_improvement == self.patience:
            reduced = self.lr * self.factor
            self.lr = max(reduced, self.min_lr)
            self.epochs_without_improvement = 0
        return self.lr


def compute_loss(params, probabilities, targets):
    clipped = np.clip(probabilities, PROBABILITY_FLOOR, 1.0)
    log_probabilities = np.log(clipped)
    total = np.sum(targets * log_probabilities)
    loss_value = -total / probabilities.shape[0]
    if OPTION == "l2":
        number_of_layers = len(params) // 2
        sum_of_squares = 0.0
        for layer_number in range(1, number_of_layers + 1):
            weight_matrix = params["W" + str(layer_number)]
            sum_of_squares = sum_of_squares + np.sum(weight_matrix * weight_matrix)
        loss_value = loss_value + L2_LAMBDA / 2.0 * sum_of_squares
    return float(loss_value)


def train(
    X: FloatArray,
    y: IntArray,
    X_val: FloatArray,
    y_val: IntArray,
    *,
    seed: int = 0,
) -> tuple[Params, list[dict[str, float]]]:
    """Mini-batch SGD with momentum; returns float64 params and one history dict per epoch."""
    training_inputs = np.asarray(X, dtype=np.float32)
    validation_inputs = np.asarray(X_val, dtype=np.float32)
    number_of_samples = training_inputs.shape[0]
    one_hot_targets = np.zeros((number_of_samples, NUM_CLASSES), dtype=np.float32)
    one_hot_targets[np.arange(number_of_samples), y] = 1.0
    layer_sizes = [training_inputs.shape[1]]
    for hidden_size in HIDDEN_SIZES:
        layer_sizes.append(hidden_size)
    layer_sizes.append(NUM_CLASSES)
    parameters = init_params(layer_sizes, seed)
    velocities = {}
    for name in parameters:
        parameters[name] = parameters[name].astype(np.float32)
        velocities[name] = np.zeros_like(parameters[name])
    generator = np.random.default_rng(seed + 100)
    scheduler = None
    if OPTION == "scheduler":
        scheduler = PlateauScheduler(LEARNING_RATE)
    learning_rate = LEARNING_RATE
    history = []
    for epoch_number in range(EPOCHS):
        permutation = generator.permutation(number_of_samples)
        loss_total = 0.0
        for batch_start in range(0, number_of_samples, BATCH_SIZE):
            batch_indices = permutation[batch_start : batch_start + BATCH_SIZE]
            batch_inputs = training_inputs[batch_indices]
            batch_targets = one_hot_targets[batch_indices]
            probabilities, cache = forward(parameters, batch_inputs, train=True, rng=generator)
            batch_loss = compute_loss(parameters, probabilities, batch_targets)
            loss_total = loss_total + batch_loss * len(batch_indices)
            gradients = backward(parameters, cache, batch_targets)
            for name in parameters:
                velocities[name] = (
                    MOMENTUM * velocities[name] - learning_rate * gradients["d" + name]
                )
                parameters[name] = parameters[name] + velocities[name]
        predictions = predict(parameters, validation_inputs)
        validation_accuracy = float(np.mean(predictions == y_val))
        history.append(
            {
                "train_loss": loss_total / number_of_samples,
                "val_accuracy": validation_accuracy,
                "lr": float(learning_rate),
            }
        )
        if scheduler is not None:
            learning_rate = scheduler.step(validation_accuracy)
    final_parameters = {}
    for name in parameters:
        final_parameters[name] = parameters[name].astype(np.float64)
    return final_parameters, history
