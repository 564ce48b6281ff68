"""The few messages between a check and a warm grader: one JSON object per line.

The check sends its request (arguments, folder, environment, umask, its streams'
encodings) with its standard input, output and error attached (``SCM_RIGHTS``); the
grader's fork answers ``{"pid": N}`` when it starts and ``{"exit": N}`` when it ends.
"""

from __future__ import annotations

import json
import os
import socket
import struct

#: A request larger than this is not a check's (an environment of a megabyte is not).
MAX_REQUEST_BYTES = 4 << 20

#: The standard streams, handed over in this order.
STREAMS = (0, 1, 2)


def peer_uid(connection: socket.socket) -> int:
    """The user at the other end, as the kernel knows it (not as it says)."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    return struct.unpack("3i", credentials)[1]


def send_request(connection: socket.socket, request: dict) -> None:
    data = json.dumps(request).encode() + b"\n"
    socket.send_fds(connection, [data], list(STREAMS))


def receive_request(connection: socket.socket) -> tuple[dict, list[int]]:
    """The request and the three streams; raises ValueError for anything else."""
    data, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST_BYTES, len(STREAMS))
    while not data.endswith(b"\n") and len(data) < MAX_REQUEST_BYTES:
        more = connection.recv(MAX_REQUEST_BYTES - len(data))
        if not more:
            break
        data += more
    try:
        if len(fds) != len(STREAMS):
            raise ValueError("a request without its three streams")
        request = json.loads(data)
        if not isinstance(request, dict):
            raise ValueError("a request that is not an object")
    except ValueError:  # also JSON that does not parse
        for fd in fds:
            os.close(fd)
        raise
    return request, fds


def send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")
