"""Pickle-free wire format between the grader and a sandboxed worker.

A message is a JSON header followed by raw blobs (arrays' bytes, bytes). Unpickling
bytes that student code produced would run code in the grader, so values are limited to
JSON structure plus numeric arrays: raw bytes of a dtype from a short list of numeric
ones, with a shape that must match them.

This module runs inside the worker too, where numpy may be forbidden (``a1/pure.py``), so
numpy is imported lazily and only when an array actually crosses the wire.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from dataclasses import dataclass
from typing import Any

MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
#: Integers beyond this are not answers to anything the course asks: sent as opaque values.
#: It is the float range, so an answer the grader converts with float() never overflows.
MAX_BIGINT_BITS = 1023
MAX_BIGINT_DIGITS = 308
_LENGTH = struct.Struct(">Q")


class ProtocolError(Exception):
    """The bytes on the pipe are not a valid message (too large, malformed, unsafe)."""


@dataclass(frozen=True)
class Opaque:
    """A value the worker could not send by value: the grader sees its type and repr only."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object: {self.text}>"


def _numpy():
    import numpy

    return numpy


def _encode(value: Any, blobs: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) < 2**63:
            return int(value)
        if value.bit_length() > MAX_BIGINT_BITS:
            return {"$opaque": "int", "repr": f"an integer of about {value.bit_length()} bits"}
        return {"$bigint": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, blobs, depth + 1) for v in value]
        return items if isinstance(value, list) else {"$tuple": items}
    if isinstance(value, dict):
        return {
            "$dict": [
                [_encode(k, blobs, depth + 1), _encode(v, blobs, depth + 1)]
                for k, v in value.items()
            ]
        }
    if isinstance(value, (bytes, bytearray)):
        blobs.append(bytes(value))
        return {"$bytes": len(blobs) - 1}
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _encode_array(value.detach().cpu().numpy(), blobs, origin="tensor")
    if numpy is not None:
        if isinstance(value, numpy.ndarray):
            return _encode_array(value, blobs, origin="ndarray")
        if isinstance(value, numpy.generic) and value.dtype.kind in "biufc":
            return _encode(value.item(), blobs, depth + 1)
    text = repr(value)
    return {"$opaque": type(value).__qualname__, "repr": text[:200]}


def _encode_array(array: Any, blobs: list[bytes], origin: str) -> dict:
    """A numeric array as its raw bytes, with its dtype and shape in the header: an
    ``.npy`` file costs a header parsed with ``ast.literal_eval`` each way (about 0.1 ms of
    each of the hundreds of small arrays a1 sends)."""
    if array.dtype.kind not in "biufc":
        return {"$opaque": f"ndarray[{array.dtype}]", "repr": repr(array)[:200]}
    blobs.append(array.tobytes(order="C"))
    return {
        "$raw": len(blobs) - 1,
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "origin": origin,
    }


class _Budget:
    """What one message may decode to: each reference to a blob counts again, so a
    header that names one large array many times cannot multiply it in the receiver."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.left = limit

    def take(self, size: int) -> None:
        if self.left is None:
            return
        self.left -= size
        if self.left < 0:
            raise ProtocolError(
                f"answer decodes to more than {self.limit // 2**20} MiB (it refers to the "
                "same data many times)"
            )


def _decode(node: Any, blobs: list[bytes], depth: int, budget: _Budget) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value is nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, list):
        return [_decode(v, blobs, depth + 1, budget) for v in node]
    if isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > 63:
        return _decode_bigint(str(node))  # a forged header's bare integer: the same bound
    if not isinstance(node, dict):
        return node
    if "$tuple" in node:
        return tuple(_decode(v, blobs, depth + 1, budget) for v in node["$tuple"])
    if "$dict" in node:
        return {
            _decode(k, blobs, depth + 1, budget): _decode(v, blobs, depth + 1, budget)
            for k, v in node["$dict"]
        }
    if "$float" in node:
        if node["$float"] not in ("nan", "inf", "-inf"):
            raise ProtocolError("malformed float")
        return float(node["$float"])
    if "$bigint" in node:
        return _decode_bigint(node["$bigint"])
    if "$bytes" in node:
        return _blob(blobs, node["$bytes"], budget)
    if "$raw" in node:
        return _decode_raw(_blob(blobs, node["$raw"], budget), node.get("dtype"), node.get("shape"))
    if "$opaque" in node:
        return Opaque(str(node["$opaque"]), str(node.get("repr", "")))
    raise ProtocolError(f"unknown value tag {sorted(node)[:3]}")


def _decode_bigint(text: Any) -> Any:
    """A large integer answer, or an opaque value when it is too large to be a real answer."""
    if not isinstance(text, str) or len(text.lstrip("-")) > MAX_BIGINT_DIGITS:
        return Opaque("int", "an integer too large to be an answer")
    try:
        value = int(text)
    except ValueError:
        raise ProtocolError("malformed integer") from None
    if value.bit_length() > MAX_BIGINT_BITS:
        return Opaque("int", "an integer too large to be an answer")
    return value


def _blob(blobs: list[bytes], index: Any, budget: _Budget) -> bytes:
    """The blob a reference names, counted against the budget each time it is named."""
    if not isinstance(index, int) or not 0 <= index < len(blobs):
        raise ProtocolError("array reference points outside the message")
    budget.take(len(blobs[index]))
    return blobs[index]


#: The dtypes a raw array may name: byte order, a numeric kind, an item size (no object,
#: string, record or date types). Checked before numpy reads the text.
_NUMERIC_DTYPES = frozenset(
    order + kind + str(size)
    for order in "<>|="
    for kind, sizes in (("b", (1,)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)),
                        ("f", (2, 4, 8, 16)), ("c", (8, 16, 32)))
    for size in sizes
)  # fmt: skip


def _decode_raw(data: bytes, dtype: Any, shape: Any) -> Any:
    """A numeric array from its raw bytes, a dtype of :data:`_NUMERIC_DTYPES` and a shape
    whose size is exactly the bytes' (a writable copy: never a view of the message)."""
    if not isinstance(dtype, str) or dtype not in _NUMERIC_DTYPES:
        raise ProtocolError("only numeric arrays may cross the sandbox boundary")
    if not isinstance(shape, list) or len(shape) > MAX_DEPTH:
        raise ProtocolError("invalid array shape")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**62 for n in shape):
        raise ProtocolError("invalid array shape")
    numpy = _numpy()
    kind = numpy.dtype(dtype)
    count = math.prod(shape)
    if count * kind.itemsize != len(data):
        raise ProtocolError("array data does not match its shape")
    return numpy.frombuffer(data, dtype=kind, count=count).reshape(shape).copy()


def encode_message(header: dict, values: dict[str, Any]) -> bytes:
    """Serialize ``header`` plus encoded ``values`` into one framed message."""
    blobs: list[bytes] = []
    body = dict(header)
    for key, value in values.items():
        body[key] = _encode(value, blobs, 0)
    body["blobs"] = [len(b) for b in blobs]
    head = json.dumps(body, allow_nan=False).encode()
    parts = [_LENGTH.pack(len(head)), head, *blobs]
    return b"".join(parts)


def decode_values(
    header: dict, blobs: list[bytes], keys: tuple[str, ...], max_decoded_bytes: int | None = None
) -> dict[str, Any]:
    """Decode the named fields of a received header into Python values, making at most
    ``max_decoded_bytes`` of arrays and bytes (every reference to a blob counts).

    Total: whatever the bytes hold, the result is values or a :class:`ProtocolError`.
    """
    budget = _Budget(max_decoded_bytes)
    try:
        return {key: _decode(header.get(key), blobs, 0, budget) for key in keys}
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
        raise ProtocolError(f"undecodable value ({type(exc).__name__})") from None


def parse_header(raw: bytes) -> dict:
    """Parse a JSON header, refusing anything that is not a JSON object."""
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed message header ({exc.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise ProtocolError("message header is not a JSON object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
        raise ProtocolError("message header has an invalid blob list")
    return header


def header_length(prefix: bytes) -> int:
    return _LENGTH.unpack(prefix)[0]


LENGTH_PREFIX_BYTES = _LENGTH.size
