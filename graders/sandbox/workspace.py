"""The folders of one sandbox on the host, and the only host operations on them.

::

    nngrade-sandbox-XXXX/     grader's, 0711: workers may pass through, not list
        runtime/              grader's, read-only to workers: the staged worker code
        inputs/               grader's, read-only to workers: files the grader hands in
        work-1/, work-2/ ...  one scratch copy of the submission per worker (its uid's)

The worker's code comes from ``runtime/``, a copy made here of the few modules it needs,
never from the checkout or the install. Inputs are written by the grader into a folder
no worker can write, so the grader never meets a link a student made. The scratch is the
only student-writable place; the host touches it only to fill it before the worker starts
and to remove it after every process of the worker is gone, without following links.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import marshal
import os
import random
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from graders.sandbox import processes, seccomp_filter
from graders.sandbox.owners import make_folder

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the graders package
_INSIDE = Path(__file__).resolve().with_name("inside")
WORKER_MAIN = "graders/sandbox/inside/main.py"

#: Dedicated uids for workers: a random one per worker from a range no system assigns.
UID_BASE = 1_900_000_000
UID_SPAN = 90_000_000


class WorkspaceError(Exception):
    """A host-side operation on a sandbox folder was refused (a link, a device, too slow)."""


def traversable_by_anyone(path: Path) -> bool:
    """Whether a uid that owns nothing can walk down to ``path``."""
    current = path.resolve()
    for folder in [current, *current.parents]:
        try:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def base_folder() -> Path:
    """A temporary folder that a worker with another uid can reach."""
    for candidate in (
        os.environ.get("NNGRADE_WORK_DIR"),
        tempfile.gettempdir(),
        "/tmp",
        "/var/tmp",
        "/dev/shm",
    ):
        if candidate and Path(candidate).is_dir() and traversable_by_anyone(Path(candidate)):
            return Path(candidate)
    return Path(tempfile.gettempdir())


def allocate_uid() -> int:
    """A uid that owns nothing: random in a reserved range, and used by no process now."""
    busy = set().union(*processes.process_uids().values())
    while True:
        uid = UID_BASE + random.SystemRandom().randrange(UID_SPAN)
        if uid not in busy:
            return uid


_CACHE_TAG = sys.implementation.cache_tag


@functools.lru_cache(maxsize=64)
def _compiled(source: bytes) -> bytes:
    """``source`` byte-compiled, as an unchecked hash-based .pyc (PEP 552): valid whatever
    the staged copy's time stamp. Workers start with ``-B`` (they write no .pyc), so without
    it every worker compiled the runtime again; the grader compiles it once."""
    code = compile(source, "<nngrade worker runtime>", "exec", dont_inherit=True)
    flags = (0b01).to_bytes(4, "little")  # hash-based, source not checked
    return (
        importlib.util.MAGIC_NUMBER
        + flags
        + importlib.util.source_hash(source)
        + marshal.dumps(code)
    )


class Workspace:
    """The folders of one sandbox: runtime and inputs shared by its workers, one scratch each."""

    def __init__(self, worker_modules: tuple[str, ...] = ()):
        self.root = make_folder("sandbox", base_folder())
        try:
            os.chmod(self.root, 0o711)
            self.runtime = self.root / "runtime"
            self.inputs = self.root / "inputs"
            self.inputs.mkdir(mode=0o755)
            os.chmod(self.inputs, 0o755)
            self._stage_runtime(worker_modules)
            self._scratches = 0
        except BaseException:  # also Ctrl+C or a stop signal: no half-made folder is left
            remove_tree(self.root, 120.0)
            raise

    # -- runtime --------------------------------------------------------------------------
    def _stage_runtime(self, worker_modules: tuple[str, ...]) -> None:
        target = self.runtime / "graders"
        (target / "sandbox" / "inside").mkdir(parents=True)
        for name in ("graders/__init__.py", "graders/sandbox/__init__.py"):
            (self.runtime / name).write_text('"""Staged worker runtime of nngrade."""\n')
        for source in sorted(_INSIDE.glob("*.py")):
            shutil.copyfile(source, target / "sandbox" / "inside" / source.name)
        for module in worker_modules:
            parts = module.split(".")
            if parts[0] != "graders":
                raise ValueError(f"worker module {module} is not part of nngrade")
            folder = self.runtime.joinpath(*parts[:-1])
            folder.mkdir(parents=True, exist_ok=True)
            for depth in range(1, len(parts)):
                init = self.runtime.joinpath(*parts[:depth], "__init__.py")
                if not init.exists():
                    init.write_text("")
            shutil.copyfile(_PACKAGE_ROOT.joinpath(*parts[1:-1], parts[-1] + ".py"),
                            folder / (parts[-1] + ".py"))  # fmt: skip
        if seccomp_filter.available():
            seccomp_filter.write(str(self.runtime / "seccomp.bpf"))
        for source in list(self.runtime.rglob("*.py")):
            if not str(source).endswith(WORKER_MAIN):  # run as a script: never read from a .pyc
                cached = source.parent / "__pycache__" / f"{source.stem}.{_CACHE_TAG}.pyc"
                cached.parent.mkdir(exist_ok=True)
                cached.write_bytes(_compiled(source.read_bytes()))
        for path in [self.runtime, *self.runtime.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    @property
    def seccomp_path(self) -> str | None:
        path = self.runtime / "seccomp.bpf"
        return str(path) if path.is_file() else None

    @property
    def worker_main(self) -> Path:
        return self.runtime / WORKER_MAIN

    # -- inputs ---------------------------------------------------------------------------
    def put_input(self, relative: str, data: bytes) -> Path:
        """Write an input file (grader-owned, read-only to workers) and return its path."""
        parts = Path(relative).parts
        if not parts or any(p in ("..", "") or p.startswith("/") for p in parts):
            raise WorkspaceError(f"input name {relative!r} must stay inside the inputs folder")
        folder = self.inputs
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise WorkspaceError(f"{folder} is a link")
            folder.mkdir(mode=0o755, exist_ok=True)
        target = folder / parts[-1]
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(target, flags, 0o644)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(target, 0o644, follow_symlinks=False)
        return target

    # -- scratch --------------------------------------------------------------------------
    def new_scratch(self, source: Path, uid: int | None) -> Path:
        """A fresh scratch folder with a copy of ``source`` (made before the worker starts)."""
        self._scratches += 1
        scratch = self.root / f"work-{self._scratches}"
        scratch.mkdir(mode=0o700)
        shutil.copytree(source, scratch, dirs_exist_ok=True, symlinks=True)
        (scratch / ".tmp").mkdir(exist_ok=True)
        if uid is not None:
            _chown_fresh_tree(scratch, uid)
        return scratch

    def remove_scratch(self, scratch: Path, timeout_s: float = 60.0) -> None:
        remove_tree(scratch, timeout_s)

    def close(self) -> None:
        remove_tree(self.root, 120.0)


def _chown_fresh_tree(root: Path, uid: int) -> None:
    """Give a tree the grader just made to ``uid``; refuses anything but folders and files."""
    for directory, dirnames, filenames in os.walk(root):
        os.chown(directory, uid, uid, follow_symlinks=False)
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise WorkspaceError(f"refusing to hand {path} to a worker: not a plain file")
            os.chown(path, uid, uid, follow_symlinks=False)


def remove_tree(root: Path, timeout_s: float) -> None:
    """Delete ``root`` without following links or opening devices, within ``timeout_s``.

    Every folder is opened relative to a folder's descriptor with ``O_NOFOLLOW``, so a link
    swapped in mid-way is unlinked, never entered. The walk is flat, not recursive: each
    sub-folder found is first moved up into ``root`` (a rename never follows links), so a
    student's 100,000 nested folders need neither deep recursion nor one open descriptor
    per level.
    """
    deadline = time.monotonic() + timeout_s
    try:
        parent_fd = os.open(root.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if _is_folder(parent_fd, root.name):
            _empty_flat(parent_fd, root.name, deadline)
        with contextlib.suppress(OSError):
            if _is_folder(parent_fd, root.name):
                os.rmdir(root.name, dir_fd=parent_fd)
            else:
                os.unlink(root.name, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)


def _is_folder(parent_fd: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(name, dir_fd=parent_fd).st_mode)
    except OSError:
        return False


def _open_folder(parent_fd: int, name: str) -> int | None:
    try:
        return os.open(
            name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd
        )
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=parent_fd)  # it became a link: remove the link itself
        return None


def _empty_flat(parent_fd: int, name: str, deadline: float) -> None:
    """Empty the folder ``name``: its files are unlinked, its sub-folders moved up into it
    and emptied in turn, then removed; at most two descriptors are open at a time."""
    top = _open_folder(parent_fd, name)
    if top is None:
        return
    moved = 0
    try:
        pending = [None]  # None: the top folder itself; else a name moved into it
        while pending:
            if time.monotonic() > deadline:
                raise WorkspaceError("removing a sandbox folder took too long")
            current = pending.pop()
            fd = top if current is None else _open_folder(top, current)
            if fd is None:
                continue
            try:
                with os.scandir(fd) as entries:
                    names = [entry.name for entry in entries]
                for child in names:
                    if not _is_folder(fd, child):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(child, dir_fd=fd)
                        continue
                    while True:
                        moved += 1
                        target = f".nngrade-removing-{moved}"
                        try:
                            os.rename(child, target, src_dir_fd=fd, dst_dir_fd=top)
                            break
                        except FileExistsError:
                            continue
                        except OSError as error:
                            if error.errno == 39:  # ENOTEMPTY: a folder of that name exists
                                continue
                            raise
                    pending.append(target)
            finally:
                if fd != top:
                    os.close(fd)
            if current is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.rmdir(current, dir_fd=top)
    finally:
        os.close(top)
