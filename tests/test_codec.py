"""The pickle-free wire format: faithful round trips, and refusal of anything unsafe."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graders.sandbox.inside import channel
from graders.sandbox.inside.codec import Opaque, ProtocolError, encode_message, parse_header


def round_trip(value, max_bytes: int = 1 << 30):
    read, write = os.pipe()
    try:
        data = encode_message({"id": 1}, {"value": value})
        os.write(write, data)
        os.close(write)
        header, values = channel.receive(read, ("value",), deadline=None, max_bytes=max_bytes)
    finally:
        os.close(read)
    return header, values["value"]


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=20,
)


@given(values)
def test_plain_values_round_trip(value):
    assert round_trip(value)[1] == value


@given(
    hnp.arrays(
        dtype=hnp.scalar_dtypes().filter(lambda d: d.kind in "biuf"),
        shape=hnp.array_shapes(max_dims=3, max_side=4),
    )
)
def test_numeric_arrays_round_trip_exactly(array):
    decoded = round_trip(array)[1]
    assert isinstance(decoded, np.ndarray) and decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)


def test_special_floats_and_big_integers_survive():
    value = [float("nan"), float("inf"), -float("inf"), 2**100]
    decoded = round_trip(value)[1]
    assert np.isnan(decoded[0]) and decoded[1:] == [float("inf"), -float("inf"), 2**100]


def test_numpy_scalars_become_python_numbers():
    assert round_trip([np.float32(1.5), np.int64(3)])[1] == [1.5, 3]


def test_unknown_objects_arrive_as_opaque_descriptions():
    decoded = round_trip(object())[1]
    assert isinstance(decoded, Opaque) and decoded.type_name == "object"


def test_object_arrays_are_not_sent():
    decoded = round_trip(np.array([object()], dtype=object))[1]
    assert isinstance(decoded, Opaque) and "object" in decoded.type_name


def _message_with_blob(blob: bytes) -> bytes:
    """A message whose array blob is forged bytes (what a hostile worker could send)."""
    import json
    import struct

    value = {"$raw": 0, "dtype": "|O", "shape": [1]}
    head = json.dumps({"id": 1, "value": value, "blobs": [len(blob)]}).encode()
    return struct.pack(">Q", len(head)) + head + blob


def _receive_raw(data: bytes, max_bytes: int = 1 << 30):
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    try:
        return channel.receive(read, ("value",), deadline=None, max_bytes=max_bytes)
    finally:
        os.close(read)


def test_a_pickled_object_array_is_refused_not_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    payload = np.array([_Exploit(str(marker))], dtype=object)
    np.save(buffer, payload, allow_pickle=True)
    with pytest.raises(ProtocolError, match="only numeric arrays"):
        _receive_raw(_message_with_blob(buffer.getvalue()))
    assert not marker.exists()
    # The .npy form that used to carry arrays is no longer read at all.
    head = json.dumps({"id": 1, "value": {"$array": 0}, "blobs": [len(buffer.getvalue())]})
    with pytest.raises(ProtocolError, match="unknown value tag"):
        _receive_raw(len(head).to_bytes(8, "big") + head.encode() + buffer.getvalue())
    assert not marker.exists()


class _Exploit:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_oversized_answers_are_refused_before_reading_them():
    with pytest.raises(ProtocolError, match="exceeds"):
        round_trip(np.zeros(1000), max_bytes=1000)


def test_garbage_headers_are_refused():
    with pytest.raises(ProtocolError):
        parse_header(b"\xff\xfe not json")
    with pytest.raises(ProtocolError):
        parse_header(b"[1, 2, 3]")
    with pytest.raises(ProtocolError):
        parse_header(b'{"blobs": [-5]}')
    deep = b"[" * 100000 + b"]" * 100000
    with pytest.raises(ProtocolError):
        parse_header(deep)


def test_blob_reference_outside_the_message_is_refused():
    import json
    import struct

    head = json.dumps({"id": 1, "value": {"$raw": 3, "dtype": "<f8", "shape": [1]}, "blobs": []})
    head = head.encode()
    with pytest.raises(ProtocolError, match="outside"):
        _receive_raw(struct.pack(">Q", len(head)) + head)


def test_a_closed_pipe_is_reported_as_closed():
    read, write = os.pipe()
    os.close(write)
    with pytest.raises(channel.ChannelClosed):
        channel.receive(read, ("value",), deadline=None, max_bytes=100)
    os.close(read)


def test_silence_times_out():
    import time

    read, write = os.pipe()
    with pytest.raises(channel.ChannelTimeout):
        channel.receive(read, ("value",), deadline=time.monotonic() + 0.1, max_bytes=100)
    os.close(read)
    os.close(write)


def forged_raw(node: dict, blob: bytes):
    """A reply whose value is the raw-array ``node`` over ``blob``, as a worker could send."""
    import json

    read, write = os.pipe()
    try:
        head = json.dumps({"id": 1, "value": node, "blobs": [len(blob)]}).encode()
        os.write(write, len(head).to_bytes(8, "big") + head + blob)
        os.close(write)
        return channel.receive(read, ("value",), deadline=None, max_bytes=1 << 20)[1]["value"]
    finally:
        os.close(read)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=">i4").reshape(2, 3),  # another byte order keeps its values
        np.zeros((0, 3)),
        np.array(3.5),  # no dimensions
        np.array([True, False]),
        np.array([1 + 2j], dtype=np.complex64),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),  # sent in C order
    ],
)
def test_arrays_cross_as_raw_bytes_with_dtype_and_shape(array):
    header, got = round_trip(array)
    assert "$raw" in header["value"] and header["value"]["dtype"] == array.dtype.str
    assert got.dtype == array.dtype and got.shape == array.shape
    np.testing.assert_array_equal(got, array)
    got[...] = 0  # a copy the grader may write, never a view of the message


@pytest.mark.parametrize(
    ("dtype", "shape", "blob"),
    [
        ("|O", [1], b"\0" * 8),  # objects: a pointer forged from bytes
        ("<U2", [1], b"\0" * 8),
        ("|V8", [1], b"\0" * 8),
        ("<M8[s]", [1], b"\0" * 8),
        ("<f8", [3], b"\0" * 8),  # the shape says more than the bytes hold
        ("<f8", [-1], b"\0" * 8),
        ("<f8", [True], b"\0" * 8),
        ("<f8", "8", b"\0" * 8),
        ([1], [1], b"\0" * 8),
    ],
)
def test_a_forged_raw_array_is_refused(dtype, shape, blob):
    with pytest.raises(ProtocolError):
        forged_raw({"$raw": 0, "dtype": dtype, "shape": shape}, blob)
