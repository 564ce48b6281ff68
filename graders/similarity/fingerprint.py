"""Fingerprints of a token stream: hashed k-grams, thinned out by winnowing.

Every run of ``K`` consecutive tokens is hashed; winnowing (Schleimer, Wilkerson and
Aiken, 2003: the algorithm behind MOSS, and Dolos's) keeps the smallest hash of every
window of ``WINDOW`` consecutive k-grams. Two files that share a run of at least
``K + WINDOW - 1`` tokens then share at least one fingerprint, whatever surrounds it, and
runs shorter than ``K`` never count: that is the noise a common idiom makes.

Hashes are computed here from each token's CRC-32 with a fixed polynomial and mixer, never
with Python's ``hash()`` (salted per process): the same class gives the same report on
every run and every machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Tokens in a k-gram: about two lines of code (a token is one node of the syntax tree).
K = 20
#: k-grams in a winnowing window: one fingerprint per 8 tokens or so.
WINDOW = 12

_BASE = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_codes: dict[str, int] = {}


def _code(token: str) -> int:
    code = _codes.get(token)
    if code is None:
        code = _codes[token] = zlib.crc32(token.encode("utf-8", "backslashreplace")) + 1
    return code


def kgram_hashes(tokens: Sequence[str], k: int = K) -> np.ndarray:
    """The hash of every run of ``k`` tokens (uint64), in order; empty for fewer tokens."""
    count = len(tokens) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    codes = np.fromiter((_code(t) for t in tokens), dtype=np.uint64, count=len(tokens))
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(k):  # uint64 arithmetic wraps around: a polynomial modulo 2**64
        hashes = hashes * _BASE + codes[offset : offset + count]
    # splitmix64's finaliser, so that the minimum of a window is any of its k-grams
    hashes ^= hashes >> np.uint64(30)
    hashes *= _MIX1
    hashes ^= hashes >> np.uint64(27)
    hashes *= _MIX2
    hashes ^= hashes >> np.uint64(31)
    return hashes


def winnow(hashes: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Positions of the selected k-grams: the rightmost minimum of every window, once."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(hashes) <= window:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    windows = sliding_window_view(hashes, window)
    rightmost = window - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(len(windows)) + rightmost)
