"""Framed, size-capped message transport over a pair of pipe file descriptors."""

from __future__ import annotations

import os
import select
import time
from typing import Any

from graders.sandbox.inside.codec import (
    LENGTH_PREFIX_BYTES,
    MAX_HEADER_BYTES,
    ProtocolError,
    decode_values,
    encode_message,
    header_length,
    parse_header,
)


class ChannelTimeout(Exception):
    """No complete message arrived before the deadline."""


class ChannelClosed(Exception):
    """The other end closed the pipe (the worker exited or crashed)."""


def _read_exact(fd: int, count: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise ChannelTimeout
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise ChannelTimeout
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:
            wait = deadline - time.monotonic()
            _, ready, _ = select.select([], [fd], [], max(wait, 0))
            if not ready:
                raise ChannelTimeout
        try:
            written = os.write(fd, view)
        except BlockingIOError:  # non-blocking pipe is full: wait for select again
            continue
        view = view[written:]


def send(
    fd: int, header: dict, values: dict[str, Any] | None = None, *, deadline: float | None = None
) -> None:
    """Send one message; ``values`` are encoded without pickle.

    With a ``deadline`` (and a non-blocking ``fd``) a reader that stops reading cannot
    block the sender forever.
    """
    try:
        _write_all(fd, encode_message(header, values or {}), deadline)
    except (BrokenPipeError, OSError) as exc:
        raise ChannelClosed(str(exc)) from None


def receive(
    fd: int, keys: tuple[str, ...], *, deadline: float | None = None, max_bytes: int
) -> tuple[dict, dict[str, Any]]:
    """Receive one message, refusing it when it is larger than ``max_bytes`` in total."""
    size = header_length(_read_exact(fd, LENGTH_PREFIX_BYTES, deadline))
    if size > min(MAX_HEADER_BYTES, max_bytes):
        raise ProtocolError(f"message header of {size} bytes exceeds the limit")
    header = parse_header(_read_exact(fd, size, deadline))
    sizes = header.get("blobs", [])
    if size + sum(sizes) > max_bytes:
        raise ProtocolError(
            f"answer of {size + sum(sizes)} bytes exceeds the {max_bytes // 2**20} MiB limit"
        )
    blobs = [_read_exact(fd, n, deadline) for n in sizes]
    # What it decodes to is bounded as the bytes are: an honest message decodes to about
    # its own size; only a header naming one blob many times would make more.
    return header, decode_values(header, blobs, keys, max_decoded_bytes=max_bytes)
