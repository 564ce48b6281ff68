"""Entry point of the worker process that runs student code (started as ``python -I -B``).

Order matters: limits are set and the import blocker is installed before any student
module is imported. After that the worker answers requests on a dedicated pipe until the
grader closes it. Nothing here is trusted by the grader: answers are data to check.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path


def _apply_limits(limits: dict) -> None:
    import resource

    table = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "address_space_bytes": resource.RLIMIT_AS,
        "file_size_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "core_bytes": resource.RLIMIT_CORE,
        "processes": getattr(resource, "RLIMIT_NPROC", None),
    }
    for key, value in limits.items():
        which = table.get(key)
        if which is None or value is None:
            continue
        soft, hard = value if isinstance(value, list) else (value, value)
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def _where(tb, student_root: str) -> str:
    """The innermost student frame of a traceback, as ``file:line in function``."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(student_root):
            where = f"{frame.filename[len(student_root) :]}:{frame.lineno} in {frame.name}"
    return where


class _Stage(Exception):
    """Wraps a failure to import the target module or to find the function in it."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(str(error))
        self.stage = stage
        self.error = error


def _message(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"{error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
    return str(error)


def _resolve(target: str):
    module_name, _, attribute = target.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except BaseException as exc:
        raise _Stage("import", exc) from exc
    try:
        for part in attribute.split(".") if attribute else ():
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise _Stage("lookup", exc) from exc
    if not callable(obj):
        raise _Stage("lookup", TypeError(f"{attribute} is not a function"))
    return obj


def serve(config: dict) -> None:
    from graders.core.rules import ImportRule
    from graders.sandbox import channel, runtime
    from graders.sandbox.import_guard import ImportGuard

    student_root = config["student_root"]
    guard = ImportGuard(
        [ImportRule.from_json(r) for r in config["rules"]],
        Path(student_root),
        frozenset(config["local_modules"]),
    )
    guard.install()
    sys.path.append(student_root)
    os.chdir(student_root)
    request_fd, response_fd = config["request_fd"], config["response_fd"]
    max_request = config["max_request_bytes"]
    prefix = student_root.rstrip("/") + "/"
    runtime.STUDENT_ROOT = prefix

    while True:
        try:
            header, values = channel.receive(request_fd, ("args", "kwargs"), max_bytes=max_request)
        except channel.ChannelClosed:
            return
        reply: dict = {"id": header.get("id")}
        result = None
        try:
            if header.get("op") == "ping":
                result = os.getpid()
            else:
                function = _resolve(header["target"])
                result = function(*values["args"], **values["kwargs"])
            reply["ok"] = True
        except BaseException as exc:  # student code may raise anything, SystemExit included
            stage = exc.stage if isinstance(exc, _Stage) else "call"
            error = exc.error if isinstance(exc, _Stage) else exc
            reply["ok"] = False
            reply["error"] = {
                "type": type(error).__name__,
                "message": _message(error)[:2000],
                "where": _where(error.__traceback__, prefix),
                "stage": stage,
                "bases": [cls.__name__ for cls in type(error).__mro__][:20],
            }
        reply["attempts"] = guard.drain()
        try:
            channel.send(response_fd, reply, {"value": result} if reply["ok"] else {})
        except Exception as exc:  # the answer could not be encoded
            reply = {
                "id": header.get("id"),
                "ok": False,
                "error": {"type": "UnsendableAnswer", "message": str(exc)[:500], "where": ""},
                "attempts": reply["attempts"],
            }
            channel.send(response_fd, reply)


def main() -> None:
    config = json.loads(sys.argv[1])
    _apply_limits(config["limits"])
    harness_root = config["harness_root"]
    if harness_root not in sys.path:
        sys.path.insert(0, harness_root)
    sys.dont_write_bytecode = True
    serve(config)


if __name__ == "__main__":
    main()
