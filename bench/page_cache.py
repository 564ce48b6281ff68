"""The page-cache timing channel that seccomp leaves open, measured.

Workers cannot drop, pre-load or probe pages (``fadvise64``, ``readahead``, ``mincore``,
``cachestat``, ``RWF_NOWAIT`` and ``madvise`` advice are refused), so what is left to two
workers that may read the same file is: a sender reads a page that is not resident (a 1),
or leaves it (a 0); a receiver times a read of the same page. The receiver's read brings
the page in, and nothing lets either of them evict it again, so each page carries one bit,
once; the kernel's read-ahead brings neighbouring pages in too, so bits must lie a
read-ahead window apart.

This measures that channel at its best for the sender: a file of the bench's own whose
pages it evicts first (which a worker cannot do), one bit every 16 pages (64 KiB, past the
read-ahead window), the receiver's threshold set between the two timings it sees. It prints
the bits per second, the error rate and what one page-spaced bit costs of a file, and
writes them to ``bench/RESULTS.md``.

    python bench/page_cache.py [--bits 2048]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
#: Pages between two bits: past what the read-ahead of a one-byte read brings in with it
#: (4 pages apart lose half the bits to it on this machine, 16 none).
STRIDE_PAGES = 16


def evicted_file(folder: str, size: int) -> int:
    """A descriptor of a new file of ``size`` bytes none of whose pages is resident."""
    fd, path = tempfile.mkstemp(dir=folder)
    os.unlink(path)
    block = os.urandom(2**20)
    for _ in range(size // len(block)):
        os.write(fd, block)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    return fd


def timed_read(fd: int, offset: int) -> float:
    started = time.perf_counter_ns()
    os.pread(fd, 1, offset)
    return (time.perf_counter_ns() - started) / 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--folder", default=tempfile.gettempdir())
    args = parser.parse_args()
    stride = STRIDE_PAGES * PAGE
    fd = evicted_file(args.folder, (args.bits + 64) * stride)
    try:
        # The receiver's threshold, from pages it knows: the first 32 bits' places, half
        # of them read first.
        resident, cold = [], []
        for i in range(32):
            if i % 2:
                os.pread(fd, 1, i * stride)
                resident.append(timed_read(fd, i * stride))
            else:
                cold.append(timed_read(fd, i * stride))
        threshold = (statistics.median(resident) + statistics.median(cold)) / 2
        message = [random.getrandbits(1) for _ in range(args.bits)]
        base = 32
        started = time.perf_counter()
        for i, bit in enumerate(message):
            if bit:
                os.pread(fd, 1, (base + i) * stride)
        sent = time.perf_counter() - started
        started = time.perf_counter()
        received = [int(timed_read(fd, (base + i) * stride) < threshold) for i in range(args.bits)]
        read = time.perf_counter() - started
    finally:
        os.close(fd)
    errors = sum(a != b for a, b in zip(message, received, strict=True))
    rate = args.bits / (sent + read)
    body = (
        f"{args.bits} bits sent and received through the page cache of one file on this "
        f"machine's disk (`{args.folder}`), one bit every {STRIDE_PAGES} pages "
        f"({stride // 1024} KiB), the file's pages evicted first by the bench (a worker cannot "
        "evict them: seccomp refuses every call that drops pages).\n\n"
        f"| read of a resident page | of a page on disk | sender | receiver | bits per second | errors |\n"
        f"|---|---|---|---|---|---|\n"
        f"| {statistics.median(resident):.1f} us | {statistics.median(cold):.1f} us | "
        f"{sent:.3f} s | {read:.3f} s | {rate:,.0f} | {errors} of {args.bits} |\n\n"
        f"Each bit is spent once: no worker can make its page leave the cache again, so the "
        f"channel carries at most one bit per {stride // 1024} KiB of files that both may read "
        "and that are not already cached (on a grading server, the shared libraries are "
        "cached after the first submission)."
    )
    print(body)
    write_section("bench/page_cache.py", body)


if __name__ == "__main__":
    main()
