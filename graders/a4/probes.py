"""Probes for assignment 4: run the student's Dataset, model, loop, evaluation and
checkpoints inside the worker on networks the grader defines, and send back plain data."""

from __future__ import annotations

import importlib
import os
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from graders.a4 import models

MODULE = "a4.pipeline"


def _pipeline():
    return importlib.import_module(MODULE)


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def dataset_items(images: np.ndarray, labels: np.ndarray, indices: list[int]) -> dict:
    """Length, a few items (with and without a transform) and the types they come in."""
    pipeline = _pipeline()
    plain = pipeline.MNISTDataset(images, labels)
    shifted = pipeline.MNISTDataset(images, labels, transform=lambda x: x * 2 - 1)
    items = []
    for i in indices:
        x, y = plain[i]
        x_transformed, _ = shifted[i]
        items.append({
            "x_type": type(x).__name__,
            "x_dtype": str(getattr(x, "dtype", "")),
            "x": x if isinstance(x, torch.Tensor) else None,
            "y_type": type(y).__name__,
            "y": y if isinstance(y, int) else None,
            "x_transformed": x_transformed if isinstance(x_transformed, torch.Tensor) else None,
        })  # fmt: skip
    return {
        "is_dataset": isinstance(plain, torch.utils.data.Dataset),
        "length": len(plain),
        "items": items,
    }


def model_contract(batch: np.ndarray) -> dict:
    model = _pipeline().build_model()
    if not isinstance(model, torch.nn.Module):
        return {"is_module": False, "type": type(model).__name__}
    model.eval()
    with torch.no_grad():
        output = model(torch.from_numpy(batch))
    return {
        "is_module": True,
        "parameters": sum(p.numel() for p in model.parameters()),
        "output": output if isinstance(output, torch.Tensor) else None,
    }


def _loader(images: np.ndarray, labels: np.ndarray, batch_size: int) -> DataLoader:
    x, y = models.tensors(images, labels)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def one_epoch(
    state: dict, images: np.ndarray, labels: np.ndarray, batch_size: int, lr: float
) -> tuple:
    """One epoch of the student's train_one_epoch with SGD on the grader's loop network."""
    model = models.build("loop", state)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss = _pipeline().train_one_epoch(model, _loader(images, labels, batch_size), optimizer, "cpu")
    return float(loss), models.state_of(model)


def overfit(
    state: dict, images: np.ndarray, labels: np.ndarray, batch_size: int, epochs: int
) -> list[float]:
    """Losses of repeated epochs on a small batch with Adam (a working loop drives them to 0)."""
    model = models.build("loop", state)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_one_epoch = _pipeline().train_one_epoch
    data = _loader(images, labels, batch_size)
    return [float(train_one_epoch(model, data, optimizer, "cpu")) for _ in range(epochs)]


def evaluate(state: dict, images: np.ndarray, labels: np.ndarray, batch_size: int) -> dict:
    """The student's evaluate on the grader's dropout network, watching mode and autograd."""
    model = models.build("dropout", state)
    model.train()  # evaluate must switch to eval mode itself
    seen: list[tuple[bool, bool]] = []
    model.register_forward_hook(
        lambda module, inputs, output: seen.append((module.training, torch.is_grad_enabled()))
    )
    loss, accuracy = _pipeline().evaluate(model, _loader(images, labels, batch_size), "cpu")
    return {
        "loss": float(loss),
        "accuracy": float(accuracy),
        "training_mode": [t for t, _ in seen],
        "grad_enabled": [g for _, g in seen],
        "grads_left": any(p.grad is not None for p in model.parameters()),
    }


def checkpoint_round_trip(state: dict, images: np.ndarray, labels: np.ndarray, epoch: int) -> dict:
    """Save after two Adam steps, then load into fresh objects (with and without optimizer)."""
    pipeline = _pipeline()
    model = models.build("loop", state)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = models.tensors(images, labels)
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    path = os.path.join(os.getcwd(), "grader_checkpoint.pt")
    pipeline.save_checkpoint(path, model, optimizer, epoch)
    with open(path, "rb") as stream:
        data = stream.read(64 * 2**20)
    found = {
        "file": data,
        "saved_model": models.state_of(model),
        "saved_optimizer": optimizer.state_dict()["state"],
    }
    # Each load on its own: a failure to restore one thing must not hide the others.
    try:
        fresh = models.build("loop", None, seed=99)
        fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=1e-3)
        found["epoch"] = pipeline.load_checkpoint(path, fresh, fresh_optimizer)
        found["loaded_model"] = models.state_of(fresh)
        found["loaded_optimizer"] = fresh_optimizer.state_dict()["state"]
    except Exception as error:
        found["load_error"] = f"{type(error).__name__}: {error}"[:300]
    try:
        model_only = models.build("loop", None, seed=98)
        pipeline.load_checkpoint(path, model_only)
        found["model_only"] = models.state_of(model_only)
    except Exception as error:
        found["model_only_error"] = f"{type(error).__name__}: {error}"[:300]
    return found


def train_and_predict(
    images: np.ndarray, labels: np.ndarray, test_images: np.ndarray, seed: int
) -> dict:
    """Train with the student's defaults, then predict the test images (labels stay out)."""
    started = time.monotonic()
    model = _pipeline().train(images, labels, seed=seed, device=device())
    trained_in = time.monotonic() - started
    if not isinstance(model, torch.nn.Module):
        return {"is_module": False, "type": type(model).__name__}
    model.eval()
    x, _ = models.tensors(test_images, np.zeros(len(test_images)))
    target = next(model.parameters()).device if any(True for _ in model.parameters()) else "cpu"
    predictions = []
    with torch.no_grad():
        for start in range(0, len(x), 1000):
            predictions.append(model(x[start : start + 1000].to(target)).argmax(dim=1).cpu())
    return {
        "is_module": True,
        "parameters": sum(p.numel() for p in model.parameters()),
        "predictions": torch.cat(predictions),
        "trained_in": trained_in,
    }
