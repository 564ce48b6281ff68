"""MNIST for graders: find the IDX files, parse and validate them, cache the arrays.

Graders run on instructors' machines and CI runners with whatever copy of MNIST is there,
so every failure (missing, truncated or corrupt files) becomes an :class:`MNISTError`
that says which file is wrong and what to do, never a numpy error from deep inside.
The files use the torchvision layout, ``<root>/MNIST/raw/``, so a copy downloaded by
torchvision for the second half of the course works as is.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import sys
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

SPLITS = ("train", "test")
FILE_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
ENV_VAR = "NNGRADE_DATA"

# IDX type codes (third byte of the magic number); multi-byte types are big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAGIC_MEANING = {IMAGES_MAGIC: "an IDX image file", LABELS_MAGIC: "an IDX label file"}


class MNISTError(Exception):
    """The MNIST files are missing, unreadable or corrupt; the message says which and why.

    ``fix`` is what to do when that is more than the problem itself says (where to put
    which files), apart for reports that list it; the message holds both.
    """

    def __init__(self, problem: str, fix: str = ""):
        super().__init__(f"{problem} {fix}" if fix else problem)
        self.problem = problem
        self.fix = fix


# --- where the data lives -------------------------------------------------------------


def resolve_data_root(explicit: str | Path | None = None) -> Path:
    """The data root: ``--data-dir``, then ``$NNGRADE_DATA``, then the per-user cache."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(ENV_VAR, "")
    if from_env:
        return Path(from_env).expanduser().absolute()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    return base / "nngrade" / "data"


def raw_folder(root: Path) -> Path:
    """The torchvision layout: ``<root>/MNIST/raw``."""
    return root / "MNIST" / "raw"


def _find(raw: Path, name: str) -> Path | None:
    """The uncompressed file if present (cheaper to read), else its ``.gz`` copy."""
    for candidate in (raw / name, raw / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_error(raw: Path, split: str, missing: list[str], reason: str) -> MNISTError:
    all_names = [name for split_names in FILE_NAMES.values() for name in split_names]
    return MNISTError(
        f"MNIST {split} split not found: {', '.join(missing)} missing from {raw}{os.sep}. "
        f"{reason}".rstrip(),
        f"Put the four MNIST files, uncompressed or gzip-compressed with a .gz "
        f"suffix, in {raw}{os.sep}: {', '.join(all_names)}. "
        f"Or point nngrade at a folder that holds MNIST{os.sep}raw{os.sep} with --data-dir "
        f"or the {ENV_VAR} environment variable.",
    )


def _download(root: Path, split: str) -> str:
    """Fetch MNIST with torchvision (which verifies checksums); '' or why it failed."""
    try:
        from torchvision.datasets import MNIST
    except ImportError:
        return "torchvision is not installed, so nngrade could not download MNIST. "
    # Say so, and where: a download into a folder nobody chose must not go unnoticed.
    print(
        f"nngrade: MNIST's {split} files are not in {raw_folder(root)}; downloading them there "
        "with torchvision (checksums verified). A copy elsewhere: --data-dir PATH or "
        "NNGRADE_DATA=PATH (the folder holding MNIST/raw/); never download: --no-download",
        file=sys.stderr,
    )
    try:
        MNIST(str(root), train=split == "train", download=True)
    except Exception as exc:  # network, disk or checksum: all mean "put the files there yourself"
        return f"Downloading MNIST failed ({type(exc).__name__}: {exc}). "
    return ""


# --- reading and parsing IDX ----------------------------------------------------------


def _read(path: Path) -> tuple[bytes, str]:
    """The file's (decompressed) bytes, and a note for size messages about gz files."""
    try:
        if path.suffix != ".gz":
            return path.read_bytes(), ""
        with gzip.open(path, "rb") as stream:
            return stream.read(), " after decompression"
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise MNISTError(f"{path} is not a valid gzip file: {exc}") from None
    except OSError as exc:
        raise MNISTError(f"{path} cannot be read: {exc.strerror or exc}") from None


def parse_idx(
    data: bytes, source: str, expected_magic: int | None = None, note: str = ""
) -> np.ndarray:
    """Parse IDX bytes into a native-endian array; ``source`` names the file in errors."""
    if len(data) < 4:
        raise MNISTError(
            f"{source} is truncated: expected at least 4 bytes, found {len(data)}{note}"
        )
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise MNISTError(
            f"{source} has magic number {magic} (0x{magic:08X}); expected {expected_magic} "
            f"(0x{expected_magic:08X}) for {_MAGIC_MEANING.get(expected_magic, 'this file')}"
        )
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise MNISTError(f"{source} has magic number 0x{magic:08X}, which is not an IDX header")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MNISTError(
            f"{source} is truncated: expected at least {header} bytes of header, found {len(data)}{note}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPES[type_code]
    count = math.prod(dims)
    expected = header + count * dtype.itemsize
    if len(data) < expected:
        raise MNISTError(
            f"{source} is truncated: expected {expected} bytes, found {len(data)}{note}"
        )
    if len(data) > expected:
        raise MNISTError(
            f"{source} has {len(data) - expected} unexpected trailing bytes: "
            f"expected {expected} bytes, found {len(data)}{note}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else array


def _key(path: Path) -> tuple[str, int, int]:
    """Cache key: the resolved path plus mtime and size, so a replaced file is re-read."""
    try:
        resolved = path.resolve()
        stat = resolved.stat()
    except OSError as exc:
        raise MNISTError(f"{path} cannot be read: {exc.strerror or exc}") from None
    return str(resolved), stat.st_mtime_ns, stat.st_size


def _read_only(array: np.ndarray) -> np.ndarray:
    """A view of immutable bytes: unlike a cleared flag, a caller cannot set it back."""
    if array.flags.writeable:
        array = np.frombuffer(array.tobytes(), dtype=array.dtype).reshape(array.shape)
    return array


@lru_cache(maxsize=8)
def _cached_idx(path: str, mtime_ns: int, size: int, magic: int | None) -> np.ndarray:
    data, note = _read(Path(path))
    return _read_only(parse_idx(data, path, magic, note))


@lru_cache(maxsize=4)
def _cached_pair(
    images_key: tuple[str, int, int], labels_key: tuple[str, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    images = _cached_idx(*images_key, IMAGES_MAGIC)
    raw_labels = _cached_idx(*labels_key, LABELS_MAGIC)
    if len(images) != len(raw_labels):
        raise MNISTError(
            f"{images_key[0]} holds {len(images)} images but {labels_key[0]} holds "
            f"{len(raw_labels)} labels; the counts must match"
        )
    bad = np.flatnonzero(raw_labels >= NUM_CLASSES)
    if bad.size:
        raise MNISTError(
            f"{labels_key[0]} contains label {raw_labels[bad[0]]} at index {bad[0]}; "
            f"labels must be 0..{NUM_CLASSES - 1}"
        )
    return images, _read_only(raw_labels.astype(np.int64))


def load_idx(path: str | Path) -> np.ndarray:
    """One IDX file of any type as a read-only array (cached per file version)."""
    return _cached_idx(*_key(Path(path)), None)


def load_idx_pair(
    images_path: str | Path, labels_path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, rows, cols) and int64 labels (N,) in 0..9, checked against each other.

    For an instructor's held-out set in the MNIST format; the arrays are read-only and cached.
    """
    return _cached_pair(_key(Path(images_path)), _key(Path(labels_path)))


def load_evaluation_set(
    images_path: str | Path, labels_path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """An instructor's held-out set: MNIST-format IDX files of 28x28 images and labels 0..9."""
    images, labels = load_idx_pair(images_path, labels_path)
    if images.shape[1:] != IMAGE_SHAPE:
        raise MNISTError(
            f"{images_path} holds images of shape {images.shape[1:]}; an evaluation set "
            f"must hold {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} images like MNIST"
        )
    return images, labels


def clear_cache() -> None:
    """Forget every parsed file (the cache otherwise holds them for the process)."""
    _cached_pair.cache_clear()
    _cached_idx.cache_clear()


def load_mnist(
    split: str, root: Path | str | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` ("train" or "test") as read-only uint8 (N, 28, 28) and int64 (N,).

    ``root`` is resolved by :func:`resolve_data_root`. Missing files are downloaded with
    torchvision when ``download`` is true and torchvision is installed.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    data_root = resolve_data_root(root)
    raw = raw_folder(data_root)
    paths = [_find(raw, name) for name in FILE_NAMES[split]]
    if None in paths:
        reason = _download(data_root, split) if download else ""
        paths = [_find(raw, name) for name in FILE_NAMES[split]]
        if None in paths:
            missing = [
                name for name, path in zip(FILE_NAMES[split], paths, strict=True) if path is None
            ]
            raise _missing_error(raw, split, missing, reason)
    images_path, labels_path = paths
    images, labels = load_idx_pair(images_path, labels_path)
    if images.shape[1:] != IMAGE_SHAPE:
        rows, cols = images.shape[1:]
        raise MNISTError(f"{images_path} holds {rows}x{cols} images; MNIST images are 28x28")
    return images, labels


# --- shaping for models ---------------------------------------------------------------


def train_validation_split(
    images: np.ndarray, labels: np.ndarray, validation: int = 10000, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((X_train, y_train), (X_val, y_val)) from one fixed permutation of ``seed``.

    The same seed gives every student the same validation set, so their numbers compare.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if not 0 <= validation <= len(images):
        raise ValueError(f"validation must be between 0 and {len(images)}, not {validation}")
    order = np.random.default_rng(seed).permutation(len(images))
    val, train = order[:validation], order[validation:]
    return (images[train], labels[train]), (images[val], labels[val])


def to_features(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) as float32 rows (N, 784) in [0, 1], the input of an MLP."""
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got dtype {images.dtype}")
    features = images.reshape(len(images), -1).astype(np.float32)
    features /= 255.0
    return features
