"""A worker's reply, read as untrusted data.

Student code runs in the worker's interpreter, so it can replace the worker's dispatch
loop and send any header it likes: wrong types, huge numbers, deep nesting, missing keys.
Every field the grader reads from a reply goes through here: each is checked for type,
bounded in size, and replaced by a harmless default when it is not what the worker's own
code would send. Nothing in a reply can raise anything but :class:`ReplyError` (the worker
garbled its answer) or :class:`StudentRaised` (student code raised, as it reports).
"""

from __future__ import annotations

from typing import Any

STAGES = ("import", "lookup", "call")
MAX_RECORDS = 100
MAX_LINE = 10_000_000


class ReplyError(Exception):
    """The reply is not an answer to the call: the worker is treated as crashed."""


class StudentRaised(Exception):
    """Student code raised an exception; carries its type, message and location."""

    def __init__(
        self, type_name: str, message: str, where: str, stage: str, target: str, bases: tuple = ()
    ):
        super().__init__(f"{type_name}: {message}")
        self.bases = tuple(bases) or (type_name,)
        self.type_name = type_name
        self.message = message
        self.where = where
        self.stage = stage
        self.target = target


def text(value: Any, limit: int) -> str:
    """``value`` cut to ``limit`` characters when it is a string; anything else is empty
    (the worker's own code only ever sends strings there)."""
    return value[:limit] if isinstance(value, str) else ""


def line_number(value: Any) -> int:
    """A line number between 0 and ``MAX_LINE``; anything else is 0 (unknown)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if 0 <= value <= MAX_LINE else 0
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 8:
        return int(value)
    return 0


def _records(header: dict, key: str, fields: dict[str, int]) -> list[dict]:
    """The records under ``key``: dicts of the named text fields (each cut to its length)
    and a bounded ``line``; anything else in the list is dropped."""
    found = header.get(key)
    return [
        {**{name: text(r.get(name), limit) for name, limit in fields.items()},
         "line": line_number(r.get("line"))}
        for r in (found[:MAX_RECORDS] if isinstance(found, list) else [])
        if isinstance(r, dict)
    ]  # fmt: skip


def attempts(header: dict) -> list[dict]:
    """The import blocker's records of a reply: (rule, module, file, line), bounded."""
    return _records(header, "attempts", {"rule": 100, "module": 200, "file": 300})


def audit(header: dict) -> list[dict]:
    """The audit hook's records of a reply: (kind, what, file, line), bounded."""
    return _records(header, "audit", {"kind": 40, "what": 100, "file": 300})


def outcome(header: dict, values: dict, request_id: object, target: str) -> Any:
    """The answer of the call ``request_id`` (``[request, item]`` for an item of a batch),
    or :class:`StudentRaised` as reported."""
    if header.get("id") != request_id or isinstance(header.get("id"), bool):
        raise ReplyError("sent an answer that does not belong to the call")
    if header.get("ok") is True:
        if "value" not in values:
            raise ReplyError("sent an answer without a value")
        return values["value"]
    error = header.get("error") if isinstance(header.get("error"), dict) else {}
    bases = error.get("bases")
    stage = error.get("stage")
    raise StudentRaised(
        text(error.get("type"), 100) or "Exception",
        text(error.get("message"), 2000),
        text(error.get("where"), 300),
        stage if stage in STAGES else "call",
        target,
        tuple(text(b, 100) for b in bases[:20] if isinstance(b, str))
        if isinstance(bases, list)
        else (),
    )
