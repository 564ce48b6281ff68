"""The MNIST data layer: real files, gzip, every corruption, root resolution, caching."""

from __future__ import annotations

import gzip
import importlib.abc
import os
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from graders.data import (
    MNISTError,
    load_idx,
    load_idx_pair,
    load_mnist,
    resolve_data_root,
    to_features,
    train_validation_split,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="shared MNIST copy is absent"
)
FOUR_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# Published class counts of the two MNIST splits.
TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- synthetic IDX files --------------------------------------------------------------


def idx_bytes(
    array: np.ndarray, magic: int | None = None, dims: tuple[int, ...] | None = None
) -> bytes:
    """An IDX file: magic, big-endian dims, then the data (big-endian for wide types)."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    kind = array.dtype.kind + str(array.dtype.itemsize)
    dims = array.shape if dims is None else dims
    magic = (codes[kind] << 8 | len(dims)) if magic is None else magic
    header = struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def synthetic(n: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_split(
    root: Path,
    split: str = "train",
    images: bytes | None = None,
    labels: bytes | None = None,
    *,
    gz: bool = False,
) -> Path:
    """Write a split into ``root/MNIST/raw`` in the torchvision layout; returns the folder."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    default_images, default_labels = synthetic()
    images = idx_bytes(default_images) if images is None else images
    labels = idx_bytes(default_labels) if labels is None else labels
    prefix = "train" if split == "train" else "t10k"
    for name, data in (
        (f"{prefix}-images-idx3-ubyte", images),
        (f"{prefix}-labels-idx1-ubyte", labels),
    ):
        if gz:
            (raw / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (raw / name).write_bytes(data)
    return raw


# --- the real dataset -----------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize(
    ("split", "count", "first", "histogram"),
    [("train", 60000, 5, TRAIN_HISTOGRAM), ("test", 10000, 7, TEST_HISTOGRAM)],
)
def test_real_mnist(split: str, count: int, first: int, histogram: list[int]) -> None:
    images, labels = load_mnist(split, SHARED_DATA, download=False)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == count
    assert counts.tolist() == histogram
    assert labels[0] == first
    assert images.max() == 255 and images.min() == 0


@needs_shared
def test_real_mnist_features_and_split() -> None:
    images, labels = load_mnist("train", SHARED_DATA, download=False)
    (x_train, y_train), (x_val, y_val) = train_validation_split(images, labels)
    assert len(x_train) == len(y_train) == 50000
    assert len(x_val) == len(y_val) == 10000
    features = to_features(x_val)
    assert features.shape == (10000, 784) and features.dtype == np.float32
    assert features.min() >= 0.0 and features.max() <= 1.0


# --- formats and validation -----------------------------------------------------------


def test_gzip_and_plain_files_give_the_same_arrays(tmp_path: Path) -> None:
    write_split(tmp_path / "plain", "test")
    write_split(tmp_path / "packed", "test", gz=True)
    plain = load_mnist("test", tmp_path / "plain", download=False)
    packed = load_mnist("test", tmp_path / "packed", download=False)
    expected_images, expected_labels = synthetic()
    for images, labels in (plain, packed):
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)


def test_uncompressed_file_is_preferred_over_gz(tmp_path: Path) -> None:
    other_images, other_labels = synthetic(seed=1)
    write_split(tmp_path, images=idx_bytes(other_images), labels=idx_bytes(other_labels), gz=True)
    write_split(tmp_path)
    images, _ = load_mnist("train", tmp_path, download=False)
    np.testing.assert_array_equal(images, synthetic()[0])


def test_corrupt_magic_number(tmp_path: Path) -> None:
    images, _ = synthetic()
    raw = write_split(tmp_path, images=idx_bytes(images, magic=0xDEADBEEF))
    with pytest.raises(MNISTError, match="magic number") as info:
        load_mnist("train", tmp_path, download=False)
    assert str(raw / "train-images-idx3-ubyte") in str(info.value)
    assert "2051" in str(info.value)


def test_labels_file_in_place_of_images_is_caught_by_magic(tmp_path: Path) -> None:
    _, labels = synthetic()
    write_split(tmp_path, images=idx_bytes(labels))
    with pytest.raises(MNISTError, match=r"magic number 2049 .*expected 2051"):
        load_mnist("train", tmp_path, download=False)


def test_truncated_file(tmp_path: Path) -> None:
    images, _ = synthetic()
    raw = write_split(tmp_path, images=idx_bytes(images)[:1000])
    path = raw / "train-images-idx3-ubyte"
    message = f"{path} is truncated: expected {16 + 5 * 784} bytes, found 1000"
    with pytest.raises(MNISTError) as info:
        load_mnist("train", tmp_path, download=False)
    assert str(info.value) == message


def test_truncated_header(tmp_path: Path) -> None:
    write_split(tmp_path, labels=b"\x00\x00")
    with pytest.raises(MNISTError, match="train-labels-idx1-ubyte is truncated"):
        load_mnist("train", tmp_path, download=False)


def test_trailing_bytes(tmp_path: Path) -> None:
    _, labels = synthetic()
    write_split(tmp_path, labels=idx_bytes(labels) + b"\x00\x00")
    with pytest.raises(
        MNISTError, match="2 unexpected trailing bytes: expected 13 bytes, found 15"
    ):
        load_mnist("train", tmp_path, download=False)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    raw = write_split(tmp_path, gz=True)
    path = raw / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(MNISTError, match="is not a valid gzip file") as info:
        load_mnist("train", tmp_path, download=False)
    assert str(path) in str(info.value)


def test_count_mismatch(tmp_path: Path) -> None:
    _, labels = synthetic()
    write_split(tmp_path, labels=idx_bytes(labels[:4]))
    with pytest.raises(
        MNISTError, match="holds 5 images but .*train-labels-idx1-ubyte holds 4 labels"
    ):
        load_mnist("train", tmp_path, download=False)


def test_label_out_of_range(tmp_path: Path) -> None:
    _, labels = synthetic()
    labels[2] = 10
    write_split(tmp_path, labels=idx_bytes(labels))
    with pytest.raises(MNISTError, match=r"contains label 10 at index 2; labels must be 0\.\.9"):
        load_mnist("train", tmp_path, download=False)


def test_wrong_image_size(tmp_path: Path) -> None:
    write_split(tmp_path, images=idx_bytes(np.zeros((5, 32, 32), np.uint8)))
    with pytest.raises(MNISTError, match="holds 32x32 images; MNIST images are 28x28"):
        load_mnist("train", tmp_path, download=False)


def test_unknown_split() -> None:
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation", download=False)


# --- missing files and downloading ----------------------------------------------------


class ForbidTorchvision(importlib.abc.MetaPathFinder):
    """Records and refuses any attempt to import torchvision."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] == "torchvision":
            self.attempts.append(name)
            raise ImportError("torchvision is forbidden in this test")
        return None


def test_missing_files_message_says_what_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(MNISTError) as info:
        load_mnist("test", tmp_path, download=False)
    message = str(info.value)
    for name in FOUR_FILES:
        assert name in message
    assert f"{tmp_path / 'MNIST' / 'raw'}{os.sep}" in message
    assert "--data-dir" in message and "NNGRADE_DATA" in message


def test_one_missing_file_is_named(tmp_path: Path) -> None:
    raw = write_split(tmp_path)
    (raw / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(MNISTError, match="train-labels-idx1-ubyte missing from"):
        load_mnist("train", tmp_path, download=False)


def test_download_false_never_imports_torchvision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finder = ForbidTorchvision()
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    for name in [m for m in sys.modules if m.partition(".")[0] == "torchvision"]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(MNISTError):
        load_mnist("train", tmp_path, download=False)
    assert finder.attempts == []
    # The finder does catch the import when a download is allowed.
    with pytest.raises(MNISTError, match="torchvision is not installed"):
        load_mnist("train", tmp_path, download=True)
    assert finder.attempts


def fake_torchvision(monkeypatch: pytest.MonkeyPatch, mnist: type) -> None:
    datasets = types.ModuleType("torchvision.datasets")
    datasets.MNIST = mnist
    torchvision = types.ModuleType("torchvision")
    torchvision.datasets = datasets
    monkeypatch.setitem(sys.modules, "torchvision", torchvision)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", datasets)


def test_download_uses_torchvision_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    class FakeMNIST:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            calls.append((root, train, download))
            write_split(Path(root), "train", gz=True)  # torchvision keeps the .gz ...
            write_split(Path(root), "train")  # ... next to the extracted files

    fake_torchvision(monkeypatch, FakeMNIST)
    images, labels = load_mnist("train", tmp_path)
    assert calls == [(str(tmp_path), True, True)]
    np.testing.assert_array_equal(labels, synthetic()[1])
    assert images.shape == (5, 28, 28)


def test_failed_download_explains_the_manual_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class OfflineMNIST:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            raise OSError("Network is unreachable")

    fake_torchvision(monkeypatch, OfflineMNIST)
    with pytest.raises(MNISTError) as info:
        load_mnist("test", tmp_path)
    message = str(info.value)
    assert "Downloading MNIST failed (OSError: Network is unreachable)" in message
    assert all(name in message for name in FOUR_FILES) and "--data-dir" in message


# --- where the data lives -------------------------------------------------------------


def test_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NNGRADE_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert resolve_data_root() == tmp_path / "home" / ".cache" / "nngrade" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_root() == tmp_path / "xdg" / "nngrade" / "data"
    monkeypatch.setenv("NNGRADE_DATA", str(tmp_path / "env"))
    assert resolve_data_root() == tmp_path / "env"
    assert resolve_data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_root(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_load_mnist_reads_nngrade_data_unless_a_root_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_split(tmp_path / "env")
    other_images, other_labels = synthetic(seed=1)
    write_split(
        tmp_path / "explicit", images=idx_bytes(other_images), labels=idx_bytes(other_labels)
    )
    monkeypatch.setenv("NNGRADE_DATA", str(tmp_path / "env"))
    np.testing.assert_array_equal(load_mnist("train", download=False)[1], synthetic()[1])
    np.testing.assert_array_equal(
        load_mnist("train", tmp_path / "explicit", download=False)[1], other_labels
    )


# --- caching and read-only arrays -----------------------------------------------------


def test_arrays_are_read_only(tmp_path: Path) -> None:
    write_split(tmp_path)
    images, labels = load_mnist("train", tmp_path, download=False)
    with pytest.raises(ValueError, match="read-only"):
        images[0, 0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        labels[0] = 1
    with pytest.raises(ValueError):
        labels.flags.writeable = True


def test_cache_returns_the_same_objects_until_the_file_changes(tmp_path: Path) -> None:
    raw = write_split(tmp_path)
    first = load_mnist("train", tmp_path, download=False)
    second = load_mnist("train", tmp_path, download=False)
    assert first[0] is second[0] and first[1] is second[1]
    _, labels = synthetic(seed=1)
    path = raw / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(labels))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = load_mnist("train", tmp_path, download=False)
    np.testing.assert_array_equal(third[1], labels)


# --- held-out sets and helpers --------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_load_idx_any_type(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / "tensor.idx"
    path.write_bytes(idx_bytes(array))
    loaded = load_idx(path)
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    assert not loaded.flags.writeable


def test_load_idx_rejects_non_idx(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world")
    with pytest.raises(MNISTError, match="not an IDX header"):
        load_idx(path)
    with pytest.raises(MNISTError, match="cannot be read"):
        load_idx(tmp_path / "absent.idx")


def test_load_idx_pair_for_held_out_sets(tmp_path: Path) -> None:
    images, labels = synthetic(n=7, seed=3)
    (tmp_path / "x.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "y").write_bytes(idx_bytes(labels))
    got_images, got_labels = load_idx_pair(tmp_path / "x.gz", tmp_path / "y")
    np.testing.assert_array_equal(got_images, images)
    assert got_labels.dtype == np.int64
    np.testing.assert_array_equal(got_labels, labels)


def test_train_validation_split_is_a_fixed_partition() -> None:
    images = np.arange(100, dtype=np.uint8).reshape(100, 1, 1)
    labels = np.arange(100) % 10
    (x_train, y_train), (x_val, y_val) = train_validation_split(
        images, labels, validation=20, seed=4
    )
    assert len(x_val) == 20 and len(x_train) == 80
    seen = np.concatenate([x_train.ravel(), x_val.ravel()])
    assert sorted(seen.tolist()) == list(range(100))
    np.testing.assert_array_equal(y_train, x_train.ravel() % 10)
    again = train_validation_split(images, labels, validation=20, seed=4)
    np.testing.assert_array_equal(again[1][0], x_val)
    with pytest.raises(ValueError):
        train_validation_split(images, labels, validation=101)
    with pytest.raises(ValueError):
        train_validation_split(images, labels[:-1])


def test_to_features() -> None:
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    features = to_features(images)
    assert features.dtype == np.float32 and features.shape == (1, 4)
    np.testing.assert_allclose(features, [[0.0, 1.0, 0.2, 0.4]])
    with pytest.raises(TypeError):
        to_features(images.astype(np.float32))
