"""A complete PyTorch pipeline for MNIST: data, model, training loop, evaluation, checkpoints.

Every piece that assignments 2 and 3 wrote by hand has a PyTorch counterpart here:
a Dataset hands out one (image, label) pair at a time and a DataLoader batches and
shuffles them; an nn.Module holds the parameters and its forward pass; autograd
(loss.backward()) computes every gradient; an optimizer takes the step. The model is a
small convolutional network (lecture 9): weights shared across positions see strokes and
corners wherever they are, with far fewer parameters than a dense layer on raw pixels.

Shapes: images x (N, 1, 28, 28) float32 in [0, 1], labels y (N,) int64 in 0..9, logits
(N, 10). The model outputs logits, not probabilities: F.cross_entropy applies the
log-softmax itself, in a numerically stable way.

Everything runs on the CPU unless a function's device argument names another device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]  # a DataLoader, or any (x, y) batches

NUM_CLASSES = 10
MAX_PARAMETERS = 1_000_000  # the grader's limit on build_model()'s size

# Hyperparameters of train(). Adam's step size is halved after every epoch: the large
# early steps make fast progress, the small late ones settle into a minimum instead of
# jumping around it. Four epochs reach about 99% test accuracy in under a minute on two
# CPU cores; the grader's budget is 5 minutes.
EPOCHS = 4
BATCH_SIZE = 64
LEARNING_RATE = 2e-3  # Adam's step size in the first epoch
LR_DECAY = 0.5  # the step size is multiplied by this after every epoch


# --- data ------------------------------------------------------------------------


class MNISTDataset(torch.utils.data.Dataset):
    """MNIST images (N, 28, 28) uint8 and labels (N,) as (x, y) pairs for a DataLoader.

    x is a float32 tensor (1, 28, 28) in [0, 1] (a single gray channel, as Conv2d expects),
    with transform(x) applied when a transform is given; y is a Python int. The images stay
    uint8 in memory (a quarter of float32's size) and are scaled one at a time on access.
    """

    def __init__(
        self,
        images: npt.ArrayLike,
        labels: npt.ArrayLike,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        images = np.asarray(images, dtype=np.uint8)
        labels = np.asarray(labels, dtype=np.int64)
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(
                f"expected images (N, 28, 28) and labels (N,), got {images.shape} and "
                f"{labels.shape}"
            )
        # Copies, so the dataset never changes when the caller's arrays do (and the other
        # way round); torch.tensor also accepts read-only numpy arrays without a warning.
        self.images = torch.tensor(images)
        self.labels = labels.copy()
        self.transform = transform

    def __len__(self) -> int:
        """The number of samples N."""
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Sample index as (x, y): x float32 (1, 28, 28) in [0, 1], transformed; y an int."""
        x = self.images[index].unsqueeze(0).to(torch.float32) / 255.0
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])


# --- model -----------------------------------------------------------------------


def build_model() -> nn.Module:
    """A small CNN: (N, 1, 28, 28) images to (N, 10) logits, about 207,000 parameters.

    Two 3x3 convolutions (16 and 32 channels, zero padding keeps the size) each followed by
    relu and 2x2 max-pooling: 28x28 -> 14x14 -> 7x7, while the channels grow from simple
    edge detectors to combinations of them. A dense head of 128 units then classifies the
    32 x 7 x 7 features. Most parameters sit in the first dense layer; the convolutions,
    which do most of the arithmetic, have fewer than 5,000.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),  # (N, 16, 28, 28)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 14, 14)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # (N, 32, 14, 14)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 7, 7)
        nn.Flatten(),  # (N, 1568)
        nn.Linear(32 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, NUM_CLASSES),  # logits: no softmax, cross_entropy brings its own
    )


# --- training and evaluation -----------------------------------------------------


def train_one_epoch(
    model: nn.Module,
    loader: Batches,
    optimizer: torch.optim.Optimizer,
    device: str | torch.device,
) -> float:
    """One pass over the loader, one optimizer step per batch; returns the mean loss per sample.

    model.train() switches layers such as dropout and batch norm to their training
    behaviour. The gradients are zeroed before each backward pass because PyTorch adds new
    gradients to the old ones. Each batch's loss is the mean over its samples, so it is
    weighted by the batch size: a smaller last batch then counts exactly as much as its
    samples.
    """
    model.train()
    loss_sum = 0.0
    num_samples = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        num_samples += len(y)
    return loss_sum / num_samples


def evaluate(model: nn.Module, loader: Batches, device: str | torch.device) -> tuple[float, float]:
    """(mean cross-entropy per sample, accuracy in [0, 1]) of the model over the loader.

    model.eval() makes the network deterministic (dropout off, batch norm on its running
    statistics), and torch.no_grad() skips building the autograd graph, which saves memory
    and time when no gradient is needed.
    """
    model.eval()
    loss_sum = 0.0
    num_correct = 0
    num_samples = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            num_correct += int((logits.argmax(dim=1) == y).sum().item())
            num_samples += len(y)
    return loss_sum / num_samples, num_correct / num_samples


# --- checkpoints -----------------------------------------------------------------


def save_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int
) -> None:
    """Save the model's and the optimizer's state dicts and the epoch to path.

    State dicts hold only tensors, numbers and strings, so the file loads with
    torch.load(..., weights_only=True), which never runs code from the file. The
    optimizer's state (Adam's moment estimates, the step count) is needed to resume
    training exactly where it stopped.
    """
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": int(epoch),
    }
    torch.save(checkpoint, path)


def load_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> int:
    """Restore the model (and the optimizer, if one is given) from path; return the epoch.

    map_location="cpu" loads a checkpoint saved on a GPU on any machine; load_state_dict
    then copies the tensors to wherever the model's parameters live. Without an optimizer
    (to evaluate or predict) the optimizer state in the file is simply not used.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    return int(checkpoint["epoch"])


def train(
    images: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Train build_model() on the images (N, 28, 28) uint8 and labels; return it in eval mode.

    Adam for EPOCHS epochs of shuffled mini-batches of BATCH_SIZE, starting at
    LEARNING_RATE and multiplying the step size by LR_DECAY after each epoch.
    torch.manual_seed(seed) fixes the initial weights, and a generator seeded with the same
    seed fixes the batch order, so the same seed gives the same model on the same machine.
    """
    torch.manual_seed(seed)
    dataset = MNISTDataset(images, labels)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=BATCH_SIZE,
        shuffle=True,
        num_workers=0,
        generator=torch.Generator().manual_seed(seed),
    )
    model = build_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=LR_DECAY)
    for _ in range(EPOCHS):
        train_one_epoch(model, loader, optimizer, device)
        scheduler.step()
    return model.eval()
