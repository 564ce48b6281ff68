"""Entry point of the worker process that runs student code.

It is started as ``python -I -S -B main.py CONFIG`` from the staged runtime folder (a
grader-made copy of this package, never the checkout). Order matters: limits, then the
lockdown (uid, Landlock, seccomp), then the audit hook and the import blocker, then
``sys.path`` is set to exactly the runtime, the standard library, the allowed libraries
and the student's scratch folder. Only then is student code imported, on request. Nothing
here is trusted by the grader: answers are data to check.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource  # before the lock-down: imports after it go through sys.path
import sys
import traceback


def _apply_limits(limits: dict) -> None:
    table = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "address_space_bytes": resource.RLIMIT_AS,
        "data_bytes": resource.RLIMIT_DATA,
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


def _where(error: BaseException, student_roots: tuple[str, ...]) -> str:
    """Where in student code ``error`` happened, as ``file:line in function``: for a
    SyntaxError the line that does not parse, else the innermost student frame."""
    if isinstance(error, SyntaxError) and isinstance(error.filename, str):
        for root in student_roots:
            if error.filename.startswith(root) and error.lineno:
                return f"{error.filename[len(root) :]}:{error.lineno}"
    where = ""
    tb = error.__traceback__
    for frame in traceback.extract_tb(tb):
        for root in student_roots:
            if frame.filename.startswith(root):
                where = f"{frame.filename[len(root) :]}:{frame.lineno} in {frame.name}"
    return where


class _Stage(Exception):
    """Wraps a failure to import the target module or to find the function in it."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(str(error))
        self.stage = stage
        self.error = error


def _message(error: BaseException) -> str:
    if isinstance(error, SyntaxError):  # its file and line are told as the place (_where)
        return str(error.msg)
    try:
        return str(error)
    except BaseException:  # a student exception whose __str__ itself fails
        return f"<{type(error).__name__} whose message cannot be shown>"


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


def _lock_down(config: dict) -> tuple[list[str], dict[str, str]]:
    from graders.sandbox.inside import lockdown

    try:
        return lockdown.apply(config["lockdown"])
    except lockdown.LockdownFailed as exc:
        sys.stderr.write(f"nngrade worker: confinement failed: {exc}\n")
        os._exit(70)


def _set_path(config: dict, anchors: dict[str, str]) -> str:
    """``sys.path``: runtime, standard library, allowed libraries, the student's folder."""
    from graders.sandbox.inside.lockdown import rewrite_path

    student_root = rewrite_path(config["student_root"], anchors)
    sys.path[:] = [rewrite_path(p, anchors) for p in config["sys_path"]] + [student_root]
    for module in list(sys.modules.values()):  # packages imported before the uid drop
        search = getattr(module, "__path__", None)
        if anchors and isinstance(search, list):
            search[:] = [rewrite_path(p, anchors) for p in search]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    readable = _readable_paths(config, anchors)
    if readable:
        from graders.sandbox.inside import visible

        visible.install(readable)
    return student_root


def _readable_paths(config: dict, anchors: dict[str, str]) -> tuple[str, ...]:
    """The allowlist's readable paths in every form the worker may reach them by: as they
    are, and through each anchor above them (``sys.path`` holds the standard library's
    folder by its anchor, and its files are found below that)."""
    paths = [
        entry["path"]
        for entry in config["lockdown"].get("paths", ())
        if entry.get("access") in ("ro", "rw")
    ]
    forms: dict[str, None] = {}
    for path in paths:
        forms[path] = None
        for original, alias in anchors.items():
            top = original.rstrip("/")
            if path == top or path.startswith(top + "/"):
                forms[alias + path[len(top) :]] = None
    return tuple(forms)


def serve(config: dict, guarantees: list[str], anchors: dict[str, str]) -> None:
    real_root = config["student_root"].rstrip("/") + "/"
    student_root = _set_path(config, anchors).rstrip("/") + "/"
    from graders.sandbox.inside import audit, channel, probes
    from graders.sandbox.inside.authorship import Authorship
    from graders.sandbox.inside.import_guard import ImportGuard
    from graders.sandbox.inside.lockdown import rewrite_path
    from graders.sandbox.inside.rules import ImportRule

    roots = tuple(dict.fromkeys((student_root, real_root)))
    folders = config.get("library_folders", ())
    authorship = Authorship(
        roots, tuple(dict.fromkeys(p for f in folders for p in (rewrite_path(f, anchors), f)))
    )
    watcher = audit.Audit(authorship)
    watcher.install()
    audit.CURRENT = watcher
    probes.STUDENT_ROOTS = roots
    guard = ImportGuard(
        [ImportRule.from_json(r) for r in config["rules"]],
        authorship,
        frozenset(config["local_modules"]),
    )
    guard.install()
    os.chdir(student_root)
    os.environ.pop("NNGRADE_CONFIG", None)
    request_fd, response_fd = config["request_fd"], config["response_fd"]
    max_request = config["max_request_bytes"]

    def answer(request_id: object, target: str | None, args: list, kwargs: dict) -> bool:
        """Run one call (``target`` None: the handshake's ping) and send its reply; True
        when it succeeded."""
        reply: dict = {"id": request_id}
        result = None
        try:
            if target is None:
                result = {"pid": os.getpid(), "guarantees": guarantees}
            else:
                result = _resolve(target)(*args, **kwargs)
            reply["ok"] = True
        except BaseException as exc:  # student code may raise anything, SystemExit included
            stage = exc.stage if isinstance(exc, _Stage) else "call"
            error = exc.error if isinstance(exc, _Stage) else exc
            reply["ok"] = False
            reply["error"] = {
                "type": type(error).__name__,
                "message": _message(error)[:2000],
                "where": _where(error, roots),
                "stage": stage,
                "bases": [cls.__name__ for cls in type(error).__mro__][:20],
            }
        reply["attempts"] = guard.drain()
        reply["audit"] = watcher.drain()
        try:
            channel.send(response_fd, reply, {"value": result} if reply["ok"] else {})
        except BaseException as exc:  # the answer could not be encoded
            reply = {
                "id": request_id,
                "ok": False,
                "error": {"type": "UnsendableAnswer", "message": _message(exc)[:500], "where": ""},
                "attempts": reply["attempts"],
                "audit": reply["audit"],
            }
            channel.send(response_fd, reply)
        return reply["ok"]

    while True:
        try:
            header, values = channel.receive(
                request_fd, ("args", "kwargs", "calls"), max_bytes=max_request
            )
        except channel.ChannelClosed:
            _leave()
        op = header.get("op")
        if op == "ping":
            answer(header.get("id"), None, [], {})
        elif op == "map":
            # Many calls, one request: each item answered as it ends, in order, under the
            # grader's watch of that item; with "until_error" the first failure ends it.
            for item, (target, (args, kwargs)) in enumerate(
                zip(header["targets"], values["calls"], strict=True)
            ):
                ok = answer([header.get("id"), item], target, args, kwargs)
                if not ok and header.get("until_error"):
                    break
        else:
            answer(header.get("id"), header["target"], values["args"], values["kwargs"])


def _leave() -> None:
    """The grader is done with this worker: leave at once, what the student printed
    flushed, without the interpreter's teardown of every module (about 30 ms of each stop
    the grader waits for)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):  # a student may have replaced or closed it
            stream.flush()
    os._exit(0)


def main() -> None:
    config = json.loads(sys.argv[1])
    runtime_root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    )
    if runtime_root not in sys.path:
        sys.path.insert(0, runtime_root)
    sys.dont_write_bytecode = True
    guarantees, anchors = _lock_down(config)
    _apply_limits(config["limits"])  # after the lock-down, which opens many paths
    serve(config, guarantees, anchors)


if __name__ == "__main__":
    main()
