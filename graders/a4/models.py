"""Small networks the grader builds to test the student's loop, evaluation and checkpoints.

They are defined here, in the graders package, so that the grader process and the probes
in the worker build exactly the same architecture from the same weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def loop_net() -> nn.Module:
    """Deterministic (no dropout): one SGD epoch can be compared parameter for parameter."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def dropout_net() -> nn.Module:
    """Dropout makes train mode visible: evaluate must switch to eval mode."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10)
    )


BUILDERS = {"loop": loop_net, "dropout": dropout_net}


def build(kind: str, state: dict[str, np.ndarray] | None = None, seed: int = 0) -> nn.Module:
    """A grader network, from ``state`` (numpy arrays) or freshly initialised from ``seed``."""
    torch.manual_seed(seed)
    model = BUILDERS[kind]()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model


def state_of(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as the dataset contract defines them: float32 (N, 1, 28, 28) in [0, 1]."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(np.asarray(labels, dtype=np.int64))
