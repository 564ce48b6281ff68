"""A seeded, invisible change to the public test images, so that memorising them fails.

The MNIST test set is public: a submission could ship a table of its 10,000 images and
look each one up. Every image the grader scores on has a few pixels moved by one grey
level (never clipped away), so no scored image equals any public one byte for byte,
while an honest model's accuracy does not move (bench/perturbation.py measures it on the
reference solutions). The seed comes from the instructor's secrets when present; without
them it is public, and so is the perturbation: the remedy is ``--eval-set``.
"""

from __future__ import annotations

import numpy as np

#: Pixels changed in each image, by one grey level each.
PIXELS = 4
#: The seed when the instructor's secrets give none (public: students can compute it too).
PUBLIC_SEED = 9_127_403


def perturb(images: np.ndarray, seed: int, pixels: int = PIXELS) -> np.ndarray:
    """A copy of uint8 ``images`` (N, ...) with ``pixels`` pixels of each moved by ±1."""
    rng = np.random.default_rng(seed)
    flat = images.reshape(len(images), -1).copy()
    rows = np.arange(len(flat))[:, None]
    where = np.stack([rng.choice(flat.shape[1], size=pixels, replace=False) for _ in flat])
    values = flat[rows, where].astype(np.int16)
    step = rng.choice(np.array([-1, 1], dtype=np.int16), size=values.shape)
    step = np.where(values == 0, 1, np.where(values == 255, -1, step))
    flat[rows, where] = (values + step).astype(images.dtype)
    return flat.reshape(images.shape)


def seed_from(secrets: dict) -> tuple[int, bool]:
    """The perturbation seed, and whether it is secret (from ``{"mnist": {"perturbation_seed": N}}``)."""
    value = secrets.get("mnist", {}).get("perturbation_seed") if isinstance(secrets, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value, True
    return PUBLIC_SEED, False
