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

PyTorch, torchvision, numpy and the standard library may be imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np  # noqa: F401  (for your code)
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: F401  (F.cross_entropy)
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
        raise NotImplementedError(
            "MNISTDataset.__init__: keep the images (for example as a uint8 tensor, "
            "torch.tensor(np.asarray(images, dtype=np.uint8))), the labels and the transform "
            "as attributes."
        )

    def __len__(self) -> int:
        """The number of samples N."""
        raise NotImplementedError("MNISTDataset.__len__: return the number of samples N.")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Sample index as (x, y): x float32 (1, 28, 28) in [0, 1], transformed; y an int."""
        raise NotImplementedError(
            "MNISTDataset.__getitem__: turn image number index into a float32 tensor of shape "
            "(1, 28, 28) divided by 255, apply self.transform if there is one, and return it "
            "with its label as int(...)."
        )


# --- model -----------------------------------------------------------------------


def build_model() -> nn.Module:
    """A small CNN: (N, 1, 28, 28) images to (N, 10) logits, about 207,000 parameters.

    Two 3x3 convolutions (16 and 32 channels, zero padding keeps the size) each followed by
    relu and 2x2 max-pooling: 28x28 -> 14x14 -> 7x7, while the channels grow from simple
    edge detectors to combinations of them. A dense head of 128 units then classifies the
    32 x 7 x 7 features. Most parameters sit in the first dense layer; the convolutions,
    which do most of the arithmetic, have fewer than 5,000.
    """
    raise NotImplementedError(
        "build_model: return an nn.Sequential of Conv2d, ReLU and MaxPool2d layers, then "
        "nn.Flatten() and nn.Linear layers ending in 10 outputs, with no softmax at the end."
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
    raise NotImplementedError(
        "train_one_epoch: call model.train(), then for each (x, y) of the loader move both to "
        "device, zero the gradients, compute F.cross_entropy(model(x), y), call backward() and "
        "optimizer.step(), and add loss.item() * len(y) to a running sum."
    )


def evaluate(model: nn.Module, loader: Batches, device: str | torch.device) -> tuple[float, float]:
    """(mean cross-entropy per sample, accuracy in [0, 1]) of the model over the loader.

    model.eval() makes the network deterministic (dropout off, batch norm on its running
    statistics), and torch.no_grad() skips building the autograd graph, which saves memory
    and time when no gradient is needed.
    """
    raise NotImplementedError(
        "evaluate: call model.eval() and, under torch.no_grad(), add up F.cross_entropy(logits, "
        "y, reduction='sum') and the number of correct argmax predictions, then divide both by "
        "the number of samples."
    )


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
    raise NotImplementedError(
        "save_checkpoint: torch.save a dict with the keys 'model' (model.state_dict()), "
        "'optimizer' (optimizer.state_dict()) and 'epoch' (an int) to path."
    )


def load_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> int:
    """Restore the model (and the optimizer, if one is given) from path; return the epoch.

    map_location="cpu" loads a checkpoint saved on a GPU on any machine; load_state_dict
    then copies the tensors to wherever the model's parameters live. Without an optimizer
    (to evaluate or predict) the optimizer state in the file is simply not used.
    """
    raise NotImplementedError(
        "load_checkpoint: torch.load(path, map_location='cpu', weights_only=True), then "
        "model.load_state_dict(...), optimizer.load_state_dict(...) when an optimizer is "
        "given, and return the epoch as an int."
    )


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
    raise NotImplementedError(
        "train: torch.manual_seed(seed), wrap the arrays in MNISTDataset and a shuffling "
        "DataLoader with generator=torch.Generator().manual_seed(seed), build_model().to(device), "
        "create an optimizer, run train_one_epoch EPOCHS times and return model.eval()."
    )
