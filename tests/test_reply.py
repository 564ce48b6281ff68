"""A worker's reply is untrusted data: whatever header a student's code forges, reading it
gives an answer, a reported exception or a crashed worker, never an error of the grader,
and every record that reaches a report is a bounded string or line number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.core.results import Violation
from graders.sandbox import reply
from graders.sandbox.inside import codec

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**1200), max_value=10**1200)
    | st.floats()
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["id", "ok", "error", "attempts", "audit", "type", "message", "where", "stage", "bases",
     "rule", "module", "file", "line", "kind", "what", "value"]
)  # fmt: skip
RECORD = st.dictionaries(FIELDS, JSON, max_size=6)
HEADER = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.just(1), JSON),
        "ok": st.one_of(st.just(True), JSON),
        "error": st.one_of(RECORD, JSON),
        "attempts": st.one_of(st.lists(st.one_of(RECORD, JSON), max_size=5), JSON),
        "audit": st.one_of(st.lists(st.one_of(RECORD, JSON), max_size=5), JSON),
    },
)


@settings(max_examples=400, deadline=None)
@given(header=HEADER, value=JSON)
def test_any_reply_is_an_answer_an_exception_or_a_crash(header, value):
    try:
        reply.outcome(header, {"value": value}, 1, "a1.pure:trace")
    except reply.StudentRaised as raised:
        assert isinstance(raised.type_name, str) and raised.type_name
        assert isinstance(raised.message, str) and len(raised.message) <= 2000
        assert raised.stage in reply.STAGES
        assert all(isinstance(b, str) and len(b) <= 100 for b in raised.bases)
    except reply.ReplyError:
        pass
    for record in reply.attempts(header) + reply.audit(header):
        assert all(isinstance(v, str) and len(v) <= 300 for k, v in record.items() if k != "line")
        assert isinstance(record["line"], int) and 0 <= record["line"] <= reply.MAX_LINE
        # What the result builder makes of it is printable at once.
        Violation(rule="r", summary="s", module=record.get("module", ""),
                  file=record["file"], line=record["line"], detected_by="x").describe()  # fmt: skip


def test_forged_fields_from_the_report():
    header = {
        "id": 1,
        "ok": False,
        "error": {"type": 5, "message": ["x"], "where": None, "stage": 7, "bases": 5},
        "attempts": [{"rule": "no-ml-frameworks", "module": "torch", "file": "a.py",
                      "line": "9" * 5000}, 17, {"line": 10**5000}],
        "audit": {"kind": "program"},
    }  # fmt: skip
    try:
        reply.outcome(header, {}, 1, "a1.pure:trace")
    except reply.StudentRaised as raised:
        assert (raised.type_name, raised.message, raised.stage, raised.bases) == (
            "Exception",
            "",
            "call",
            ("Exception",),
        )
    assert [a["line"] for a in reply.attempts(header)] == [0, 0]
    assert reply.audit(header) == []
    assert reply.line_number("12") == 12 and reply.line_number(True) == 0


def test_integers_outside_the_float_range_are_not_answers():
    def decoded(node):
        return codec.decode_values({"value": node}, [], ("value",))["value"]

    assert decoded(10**300) == 10**300
    assert isinstance(decoded(10**1200), codec.Opaque)  # a forged header's bare integer
    assert isinstance(decoded({"$bigint": str(10**400)}), codec.Opaque)
    assert isinstance(decoded({"$bigint": str(2**1100)}), codec.Opaque)
    assert float(decoded({"$bigint": str(2**1000)})) > 0


def test_what_a_message_decodes_to_is_bounded_whatever_it_refers_to():
    """Each reference to a blob counts again: one blob named many times is refused, the
    same data sent as separate blobs (already bounded on the wire) is not."""
    blob = b"x" * 1000
    aliases = {"value": [{"$bytes": 0}] * 100}
    with pytest.raises(codec.ProtocolError, match="decodes to more than"):
        codec.decode_values(aliases, [blob], ("value",), max_decoded_bytes=50_000)
    assert (
        len(codec.decode_values(aliases, [blob], ("value",), max_decoded_bytes=100_000)["value"])
        == 100
    )
    assert codec.decode_values(aliases, [blob], ("value",))["value"][0] == blob  # no bound asked
