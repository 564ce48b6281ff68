"""Datasets that graders train and evaluate student models on."""

from graders.data.mnist import (
    MNISTError,
    clear_cache,
    load_idx,
    load_idx_pair,
    load_mnist,
    resolve_data_root,
    to_features,
    train_validation_split,
)

__all__ = [
    "MNISTError",
    "clear_cache",
    "load_idx",
    "load_idx_pair",
    "load_mnist",
    "resolve_data_root",
    "to_features",
    "train_validation_split",
]
