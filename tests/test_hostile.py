"""The hostile corpus: one submission per attack class, under every layer nngrade accepts
for grading. Each asserts the exact points and that nothing happened outside the worker's
scratch: the install, the class folder and a canary file are unchanged, nothing secret is
in any output, and no process and no temporary folder is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import container
import pytest
from a1_cases import FULL
from attacks import ALIAS_BOMB, DISK_BURST, FILL_SCRATCH, HIDDEN_DISK, HIDDEN_FROM_A_WALK
from helpers import (
    REFERENCE,
    REPO,
    TEMPLATE,
    build_submission,
    inject_at_start,
    points_by_criterion,
    tree_digest,
)

from graders.sandbox import confinement
from graders.sandbox.workspace import base_folder

STUB = dict.fromkeys(FULL, 0.0)

#: Every kind that nngrade accepts for grading others' work on this machine.
STRONG = [
    kind
    for kind in ("bubblewrap", "landlock")
    if confinement.available(kind)
    and not confinement.build(kind).missing(confinement.STRICT_LAYERS)
]
pytestmark = pytest.mark.skipif(not STRONG, reason="no strong confinement layer on this machine")

SECRET = "nngrade-canary-secret-5d1c"


def _leftovers() -> set[str]:
    return {p.name for p in base_folder().glob("nngrade-*")}


def _worker_processes() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "sandbox/inside/main.py" in cmd and os.environ.get("NNGRADE_WORK_DIR", "/") in cmd:
                found.append(cmd[:200])  # a worker of this test session (conftest.py)
    return found


@pytest.fixture
def host(tmp_path):
    """Things a hostile submission must not reach: a canary, a 0600 secret, the install."""
    canary = tmp_path / "host" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("untouched\n")
    secret = tmp_path / "host" / "secrets.json"
    secret.write_text(f'{{"a5": {{"evaluation_seed": 1}}, "note": "{SECRET}"}}')
    os.chmod(secret, 0o600)
    state = {
        "canary": canary,
        "secret": secret,
        "install": tree_digest(REPO / "graders"),
        "reference": tree_digest(REFERENCE),
        "leftovers": _leftovers(),
    }
    yield state
    assert canary.read_text() == "untouched\n"
    assert sorted(p.name for p in canary.parent.iterdir()) == ["canary.txt", "secrets.json"]
    assert tree_digest(REPO / "graders") == state["install"]
    assert tree_digest(REFERENCE) == state["reference"]
    assert _worker_processes() == []
    assert _leftovers() <= state["leftovers"]


def _text(result) -> str:
    return repr(result.to_dict())


def grade(grade_a1, submission: Path, layer: str):
    result = grade_a1(submission, confinement=layer)
    assert result.confinement == layer
    assert result.internal_errors == []
    assert SECRET not in _text(result)
    return result


def at_import(code: str):
    """An edit that appends ``code`` to a module (it runs when the module is imported)."""
    return lambda text: text + "\n" + code + "\n"


# -- 1. copying the reference: the checkout and the install are not in the sandbox --------
COPY_REFERENCE = """
import pathlib as _p, sys as _s
_found = []
try:
    import graders as _g
    _found.append(_p.Path(_g.__file__).resolve().parents[1])
except Exception:
    pass
_found += [_p.Path(_s.prefix), _p.Path.cwd(), *_p.Path.cwd().parents, _p.Path({repo!r})]
for _root in _found:
    for _candidate in (_root / "reference" / "a1" / "pure.py", _root / "a1" / "pure.py"):
        try:
            _code = _candidate.read_text()
        except OSError:
            continue
        if "NotImplementedError" not in _code:
            exec(compile(_code, "copied", "exec"), globals())
            break
"""


@pytest.mark.parametrize("layer", STRONG)
def test_the_reference_cannot_be_copied(layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", base=TEMPLATE,
        edits={"a1/pure.py": at_import(COPY_REFERENCE.format(repo=str(REPO)))},
    )  # fmt: skip
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == STUB


# -- 2. other programs and processes ----------------------------------------------------
PROGRAMS = {
    "subprocess": "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import numpy'])",
    "os.system": "import os; os.system('python3 -c 1')",
    "os.execv": "import os, sys; os.execv(sys.executable, [sys.executable, '-c', '1'])",
    "os.fork": "import os; os.fork() or os._exit(0)",
    "ctypes execve": (
        "import ctypes; _r = ctypes.CDLL(None).execve(b'/bin/sh', None, None); "
        "raise PermissionError(f'execve returned {_r}')"
    ),
    "ctypes fork": (
        "import ctypes; _r = ctypes.CDLL(None).fork(); "
        "raise PermissionError(f'fork returned {_r}') if _r == -1 else ctypes.CDLL(None)._exit(0)"
    ),
}


@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize("attack", list(PROGRAMS))
def test_no_other_program_or_process_can_start(attack, layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", PROGRAMS[attack])}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "trace raised PermissionError" in reason, reason
    if not attack.startswith("ctypes"):
        assert any("not allowed" in n and "a1/pure.py:" in n for n in result.notices), (
            result.notices
        )


# -- 3. a library the rules forbid, however it is imported ------------------------------
@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize(
    "how",
    [
        "import pkgutil; pkgutil.resolve_name('numpy.linalg:det')",
        "import importlib; importlib.import_module('numpy')",
        "import sys; sys.path.append({site!r}); __import__('numpy')",
    ],
)
def test_a_library_that_is_not_mounted_cannot_be_imported(how, layer, grade_a1, host, tmp_path):
    import numpy

    site = str(Path(numpy.__file__).parents[1])
    code = how.format(site=site)
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", code)}
    )
    result = grade(grade_a1, submission, layer)
    pure = {c: 0.0 for c in FULL if c.startswith("pure.")}
    assert points_by_criterion(result) == {**FULL, **pure, "agreement": 0.0}  # the rule's criteria
    assert {(v.rule, v.module, v.file) for v in result.violations} == {
        ("stdlib-only", "numpy", "a1/pure.py")
    }


# -- 4. links: the grader never follows a link that student code could make --------------
LINKS = """
import os as _os
def _plant(path):
    _dir = _os.path.dirname(_os.path.abspath(path))
    for _name in ("system_1.txt", "system_2.txt", "malformed_0.txt", "planted.txt"):
        for _make in (lambda p: _os.symlink({canary!r}, p), lambda p: open(p, "w").write("x")):
            try:
                _make(_os.path.join(_dir, _name))
            except OSError:
                pass
    for _path in ({canary!r}, {reference!r}):
        try:
            _os.symlink(_path, "planted-link")
        except OSError:
            pass
        try:
            open(_path, "a").write("hacked")
        except OSError:
            pass
    for _make in (lambda: _os.mkfifo("pipe"), lambda: _os.mknod("dev", 0o20666, _os.makedev(5, 2))):
        try:
            _make()
        except OSError:
            pass
"""


@pytest.mark.parametrize("layer", STRONG)
def test_links_pipes_and_devices_cannot_be_planted(layer, grade_a1, host, tmp_path):
    code = LINKS.format(canary=str(host["canary"]), reference=str(REFERENCE / "a1" / "pure.py"))
    submission = build_submission(
        tmp_path / "s",
        edits={"a1/pure.py": lambda t: inject_at_start("load_system", "_plant(path)")(t) + code},
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == FULL  # every later input still read correctly


# -- 5. files of the grader's user, /root, the secrets file -----------------------------
READ_SECRETS = """
def _peek():
    import os
    seen = []
    for _path in ({secret!r}, "/etc/shadow", "/root", {canary!r}, {data!r}):
        try:
            seen.append(open(_path).read(200) if not os.path.isdir(_path) else str(os.listdir(_path)))
        except OSError:
            pass
    if seen:
        raise ValueError("leak: " + " | ".join(seen))
"""


@pytest.mark.parametrize("layer", STRONG)
def test_files_of_the_host_are_unreadable(layer, grade_a1, host, tmp_path):
    code = READ_SECRETS.format(
        secret=str(host["secret"]), canary=str(host["canary"]),
        data=str(REPO.parent / "shared" / "data"),
    )  # fmt: skip
    submission = build_submission(
        tmp_path / "s",
        edits={"a1/pure.py": lambda t: inject_at_start("trace", "_peek()")(t) + code},
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == FULL, _text(result)


# -- 6. the network ---------------------------------------------------------------------
@pytest.mark.parametrize("layer", STRONG)
def test_no_network_and_no_local_sockets(layer, grade_a1, host, tmp_path):
    code = (
        "import socket; _s = socket.socket(socket.AF_UNIX); "
        "_s.connect('/run/dbus/system_bus_socket')"
    )
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", code)}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "PermissionError" in reason, reason


# -- 7. filling the disk ----------------------------------------------------------------
@pytest.mark.parametrize("layer", STRONG)
def test_filling_the_scratch_folder_stops_the_worker(layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", FILL_SCRATCH)}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "filled its folder past the limit" in reason or "larger than" in reason, reason


def _disk_used() -> int:
    usage = os.statvfs(str(base_folder()))
    return (usage.f_blocks - usage.f_bfree) * usage.f_frsize


# Under bubblewrap the scratch is a tmpfs, whose folders give everything back once emptied:
# that route hides nothing there.
HIDDEN = {**HIDDEN_DISK, **HIDDEN_FROM_A_WALK}


@pytest.mark.parametrize(
    "how, layer",
    [
        (how, layer)
        for how in HIDDEN
        for layer in STRONG
        if not (how == "in emptied folders" and layer == "bubblewrap")
    ],
)
def test_hidden_disk_counts_against_the_folder(how, layer, grade_a1, host, tmp_path):
    """Deleted files still held, files below PATH_MAX, emptied folders: the disk holds
    them, so the folder's count does."""
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", HIDDEN[how])}
    )
    before = _disk_used()
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "filled its folder past the limit" in reason, reason
    assert _disk_used() - before < 256 * 2**20  # all of it given back


@pytest.mark.parametrize("layer", STRONG)
def test_a_disk_burst_takes_no_more_than_the_watcher_allows(layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", DISK_BURST)}
    )
    before, peak, done = _disk_used(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _disk_used() - before)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = grade(grade_a1, submission, layer)
    finally:
        done.set()
        sampler.join()
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "filled its folder past the limit" in reason or "No space left" in reason, reason
    assert peak[0] < 1024 * 2**20, f"the disk held {peak[0] / 2**20:.0f} MiB at its peak"


def _basic_ops_as_container_root(submission: Path) -> dict:
    """a1's pure.basic_ops of ``submission`` graded by ``nngrade check`` as a default
    container's root (Landlock alone), as its JSON record."""
    command = [
        sys.executable, "-m", "graders.cli", "check", "a1", "--submission", str(submission),
        "--only", "pure.basic_ops", "--confinement", "landlock", "--format", "json",
    ]  # fmt: skip
    done = subprocess.run(
        container.container_root(command), capture_output=True, text=True, timeout=300,
        cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    return report["assignments"][0] if "assignments" in report else report


#: Many deleted files, each only mapped, under folders with long names: in a container each
#: is a fact the grader cannot read, named in the report with the file's path.
LONG_NAMED_MAPS = (
    "import os, ctypes, time\n"
    "    _libc = ctypes.CDLL(None); _libc.mmap.restype = ctypes.c_void_p\n"
    "    _libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
    "    _deep = os.path.join(*[_c * 250 for _c in 'abcd'])\n"
    "    os.makedirs(_deep, exist_ok=True)\n"
    "    for _i in range(300):\n"
    "        _name = os.path.join(_deep, f'm{_i}')\n"
    "        _fd = os.open(_name, os.O_RDWR | os.O_CREAT)\n"
    "        os.posix_fallocate(_fd, 0, 4096)\n"
    "        _libc.mmap(None, 4096, 1, 1, _fd, 0); os.close(_fd); os.unlink(_name)\n"
    "    time.sleep(5)"
)


@pytest.mark.skipif(container.available() is not None, reason=str(container.available()))
@pytest.mark.skipif(not confinement.available("landlock"), reason="needs Landlock")
def test_what_the_grader_cannot_read_is_named_within_bounds(tmp_path):
    """A worker cannot flood the report with facts the grader could not confirm: each is
    one line clipped like every notice (500 characters), and there are at most ten."""
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", LONG_NAMED_MAPS)}
    )
    result = _basic_ops_as_container_root(submission)
    criterion = next(c for c in result["criteria"] if c["id"] == "pure.basic_ops")
    assert "filled its folder past the limit" in criterion["reason"], criterion["reason"]
    named = [n for n in result["notices"] if n.startswith("not confirmed from outside")]
    assert named and len(named) <= 10
    assert all(len(notice) <= 500 for notice in named), max(map(len, named))


@pytest.mark.skipif(container.available() is not None, reason=str(container.available()))
@pytest.mark.skipif(not confinement.available("landlock"), reason="needs Landlock")
@pytest.mark.parametrize("how", list(HIDDEN_DISK))
def test_deleted_files_still_held_count_as_a_container_root(how, tmp_path):
    """The same attacks where the grader has Docker's default capabilities (Gradescope):
    no CAP_SYS_PTRACE to read another uid's open files, no CAP_SYS_ADMIN for map_files."""
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", HIDDEN_DISK[how])}
    )
    before = _disk_used()
    result = _basic_ops_as_container_root(submission)
    criterion = next(c for c in result["criteria"] if c["id"] == "pure.basic_ops")
    assert criterion["points"] == 1.2, criterion["reason"]
    assert "filled its folder past the limit" in criterion["reason"], criterion["reason"]
    assert _disk_used() - before < 256 * 2**20


# -- 7b. channels between workers, memory the address-space limit does not count ---------
# Each of these could carry bits between two live workers (a1's pure.py asking
# vectorized.py for numpy's answers) or hold memory outside RLIMIT_AS: all are refused.
CHANNELS = {
    "flock": "import fcntl, os; fcntl.flock(os.open(os.__file__, os.O_RDONLY), fcntl.LOCK_SH)",
    "fcntl lock": (
        "import fcntl, os, struct; fcntl.fcntl(os.open(os.__file__, os.O_RDONLY), "
        "fcntl.F_SETLK, struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 1, 0))"
    ),
    "OFD lock": (
        "import fcntl, os, struct; fcntl.fcntl(os.open(os.__file__, os.O_RDONLY), 37, "
        "struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 1, 0))"
    ),
    "lock query": (
        "import fcntl, os, struct; fcntl.fcntl(os.open(os.__file__, os.O_RDONLY), "
        "fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 1, 0))"
    ),
    "System V shared memory": (
        "import ctypes; _r = ctypes.CDLL(None, use_errno=True).shmget(0, 4096, 0o1666); "
        "raise PermissionError(f'shmget returned {_r}') if _r == -1 else None"
    ),
    "System V message queue": (
        "import ctypes; _r = ctypes.CDLL(None, use_errno=True).msgget(0x5eed, 0o1666); "
        "raise PermissionError(f'msgget returned {_r}') if _r == -1 else None"
    ),
    "memfd": "import os; os.memfd_create('hold')",
}


@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize("channel", list(CHANNELS))
def test_no_lock_ipc_or_memfd_between_or_beyond_workers(channel, layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", CHANNELS[channel])}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "trace raised PermissionError" in reason, reason


# Reading or steering which pages of a shared library file are resident is a channel
# between two workers (or two students graded at once): drop a page with fadvise or
# madvise, probe it with mincore, cachestat or a read that must not wait. Each route is
# called with arguments the kernel itself would refuse (a bad descriptor, address 0), so
# EPERM can only be the filter's answer; the probe raises what was not refused.
PAGE_CACHE_PROBE = """
import ctypes, errno
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_routes = {
    "fadvise64 DONTNEED": (221, -1, 0, 0, 4), "readahead": (187, -1, 0, 4096),
    "mincore": (27, 0, 4096, 0), "cachestat": (451, -1, 0, 0, 0),
    "process_madvise": (440, -1, 0, 1, 21, 0), "preadv2 RWF_NOWAIT": (327, -1, 0, 0, 0, 0, 8),
    "pwritev2 RWF_NOWAIT": (328, -1, 0, 0, 0, 0, 8), "madvise WILLNEED": (28, 0, 4096, 3),
    "madvise COLD": (28, 0, 4096, 20), "madvise PAGEOUT": (28, 0, 4096, 21),
    "madvise POPULATE_READ": (28, 0, 4096, 22),
}
_allowed = []
for _name, _args in _routes.items():
    ctypes.set_errno(0)
    if _libc.syscall(*[ctypes.c_long(a) for a in _args]) == -1 and ctypes.get_errno() == errno.EPERM:
        continue
    _allowed.append(_name)
ctypes.set_errno(0)
_libc.syscall(ctypes.c_long(28), ctypes.c_long(0), ctypes.c_long(4096), ctypes.c_long(4))
if ctypes.get_errno() == errno.EPERM:
    _allowed.append("(MADV_DONTNEED refused: allocators need it)")
raise PermissionError("page cache: " + (", ".join(_allowed) + " allowed" if _allowed else "every route refused"))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="system call numbers of x86_64")
@pytest.mark.parametrize("layer", STRONG)
def test_no_page_cache_channel(layer, grade_a1, tmp_path):
    submission = build_submission(
        tmp_path / "s",
        edits={"a1/pure.py": inject_at_start("trace", f"exec({PAGE_CACHE_PROBE!r}, {{}})")},
    )
    result = grade(grade_a1, submission, layer)
    reason = next(c.reason for c in result.criteria if c.id == "pure.basic_ops")
    assert "page cache: every route refused" in reason, reason


def test_a_submissions_workers_are_never_alive_together(tmp_path):
    """a1's two sandboxes take turns: calling one stops the other's worker first."""
    from helpers import FAST_A1

    from graders.core.context import GradingContext
    from graders.core.submission import stage
    from graders.sandbox.confinement import select

    staged = stage(REFERENCE, FAST_A1)
    context = GradingContext(FAST_A1, staged, select("auto"))
    try:
        pure, vectorized = context.sandbox("pure"), context.sandbox("vectorized")
        matrix = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]
        assert pure.call("a1.pure:trace", (matrix,)) == 6.0
        assert pure._worker is not None and pure._worker.alive
        assert vectorized.call("a1.vectorized:trace", (matrix,)) == 6.0
        assert pure._worker is None and vectorized._worker.alive
        assert pure.call("a1.pure:trace", (matrix,)) == 6.0
        assert vectorized._worker is None and pure._worker.alive
    finally:
        context.close()
        staged.cleanup()


@pytest.mark.parametrize("layer", STRONG)
def test_a_worker_started_ahead_runs_no_student_code_before_its_turn(layer, tmp_path):
    """a1's pure Python worker boots while numpy's criteria run (start_ahead with after):
    the student's pure.py is imported only by pure's first call, after numpy's worker is
    stopped, so the two modules' code never runs at once."""
    import time

    from helpers import FAST_A1

    from graders.core.context import GradingContext
    from graders.core.submission import stage
    from graders.sandbox.confinement import select

    submission = build_submission(
        tmp_path / "s",
        edits={"a1/pure.py": lambda source: source + IMPORT_CLOCK},
    )
    staged = stage(submission, FAST_A1)
    context = GradingContext(FAST_A1, staged, select(layer))
    try:
        vectorized, pure = context.sandbox("vectorized"), context.sandbox("pure")
        vectorized.start_ahead()
        pure.start_ahead(after=vectorized)
        matrix = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]
        assert vectorized.call("a1.vectorized:trace", (matrix,)) == 6.0
        pure._ahead[1].wait(60)  # pure's worker has booted
        assert pure._ahead_worker is not None and pure._ahead_worker.alive
        booted = time.monotonic()
        time.sleep(0.2)
        imported = pure.call("a1.pure:imported_at")
        assert imported > booted + 0.1, "pure.py ran before its sandbox took the turn"
        assert vectorized._worker is None and pure._worker.alive
    finally:
        context.close()
        staged.cleanup()


#: Appended to pure.py: when the module was imported (CLOCK_MONOTONIC is the machine's).
IMPORT_CLOCK = (
    "\n\nimport time as _time\n_IMPORTED_AT = _time.monotonic()\n\n\n"
    "def imported_at():\n    return _IMPORTED_AT\n"
)

# -- 7c. a host side that is total: student-shaped data gives a graded reason -----------
# The worker is a black box: student code can replace its dispatch loop and answer the
# grader's request itself, with any header; it can leave any folder tree behind.
FORGED = (
    "import json, os, sys; from graders.sandbox.inside import channel\n"
    "    _config = json.loads(sys.argv[1])\n"
    "    _id = sys._getframe(1).f_locals['request_id']\n"
    "    while True:  # the worker's loop, replaced: every request gets a forged reply\n"
    "        channel.send(_config['response_fd'], {{'id': _id, 'ok': False, "
    "'error': {{'type': 'Forged', 'message': 7, 'stage': 9, 'bases': 5}}, {records}}}, "
    "{{'value': 10 ** 1200}})\n"
    "        try:\n"
    "            _id = channel.receive(_config['request_fd'], (), max_bytes=2**30)[0].get('id')\n"
    "        except channel.ChannelClosed:\n"
    "            os._exit(0)"
)
FORGED_REPLIES = {
    "error fields of the wrong types": FORGED.format(
        records="'audit': [{'kind': 'program', 'what': 'x', 'line': 10 ** 1200}, 5]"
    ),
    "a blocker record with a 5,000-digit line": FORGED.format(
        records="'attempts': [{'rule': 'no-ml-frameworks', 'module': 'torch', "
        "'file': 'a1/pure.py', 'line': '9' * 5000}]"
    ),
}
NESTED_FOLDERS = (
    "import os; _here = os.getcwd(); "
    "[(os.path.isdir('d') or os.mkdir('d'), os.chdir('d')) for _ in range(1500)]; "
    "os.chdir(_here)"
)


@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize("forgery", list(FORGED_REPLIES))
def test_a_forged_reply_is_graded_not_a_crash(forgery, layer, grade_a1, host, tmp_path):
    edit = inject_at_start("trace", FORGED_REPLIES[forgery])
    submission = build_submission(tmp_path / "s", edits={"a1/vectorized.py": edit})
    result = grade(grade_a1, submission, layer)  # no internal error
    points = points_by_criterion(result)
    if forgery.startswith("error"):
        assert {c: points[c] for c in FULL if c.startswith("pure.")} == {
            c: p for c, p in FULL.items() if c.startswith("pure.")
        }
        reason = next(c.reason for c in result.criteria if c.id == "vectorized.basic_ops")
        assert points["vectorized.basic_ops"] < 1 and "raised Forged" in reason, reason
    else:  # the record it forged is its own loss: the rule it claims to break
        assert [(v.rule, v.line) for v in result.violations] == [("no-ml-frameworks", 0)]
        assert all(p == 0 for p in points.values())


@pytest.mark.parametrize("layer", STRONG)
def test_a_reply_cannot_decode_to_more_than_the_answer_limit(layer, grade_a1, host, tmp_path):
    edit = inject_at_start("trace", ALIAS_BOMB)
    submission = build_submission(tmp_path / "s", edits={"a1/vectorized.py": edit})
    result = grade(grade_a1, submission, layer)
    reason = next(c.reason for c in result.criteria if c.id == "vectorized.basic_ops")
    assert "trace crashed: sent an invalid answer: answer decodes to more than 256 MiB" in reason
    assert points_by_criterion(result)["vectorized.basic_ops"] < 1


# The grading process bounded to what it holds plus 160 MiB (graders.core.own_memory, as a
# batch job bounds itself at 4 GiB); the student's function first uses 768 MiB inside its
# worker (its own limits apply there, not the grader's), then answers with 240 MiB, within
# the answer limit but beyond what the grader may still take.
OWN_MEMORY_PROGRAM = """
import json, sys
sys.path.insert(0, sys.argv[1])
from helpers import FAST_A1
from graders.core import own_memory
from graders.core.options import GradeOptions
from graders.core.runner import grade
held = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmData'))
own_memory.bound_own_memory(held * 1024 + 160 * 2**20)
from pathlib import Path
import dataclasses
spec = dataclasses.replace(FAST_A1, limits=dataclasses.replace(FAST_A1.limits, call_timeout_s=20))
result = grade(spec, Path(sys.argv[2]), GradeOptions(confinement=sys.argv[3],
               only=('vectorized.basic_ops', 'vectorized.solvers')))
print(json.dumps({c.id: [c.points, c.reason] for c in result.criteria}))
"""
OWN_MEMORY_ANSWER = (
    "import numpy as _np\n"
    "    _used = _np.empty(96 * 2**20); _used[::4096] = 2; del _used\n"
    "    return _np.zeros(30 * 2**20)"
)


@pytest.mark.parametrize("layer", STRONG)
def test_the_graders_own_memory_is_bounded_and_its_workers_keep_theirs(layer, tmp_path):
    edit = inject_at_start("trace", OWN_MEMORY_ANSWER)
    submission = build_submission(tmp_path / "s", edits={"a1/vectorized.py": edit})
    program = tmp_path / "bounded.py"
    program.write_text(OWN_MEMORY_PROGRAM)
    tests = str(Path(__file__).parent)
    run = subprocess.run(
        [sys.executable, str(program), tests, str(submission), layer],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    criteria = json.loads(run.stdout.strip().splitlines()[-1])
    points, reason = criteria["vectorized.basic_ops"]
    assert "trace crashed: sent an answer that needs more of the grader's memory" in reason
    assert "MemoryError" not in reason  # the worker could use its own 768 MiB
    assert points < 1
    assert criteria["vectorized.solvers"][0] > 0  # the grading went on


@pytest.mark.parametrize("layer", STRONG)
def test_a_deep_folder_tree_in_the_scratch_is_removed(layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", NESTED_FOLDERS)}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == FULL


def test_a_deep_folder_tree_in_the_submission_is_left_out(grade_a1, tmp_path):
    submission = build_submission(tmp_path / "s")
    deep = submission / "a1" / "data"
    (deep / "/".join(["d"] * 300)).mkdir(parents=True)
    result = grade_a1(submission)
    assert points_by_criterion(result) == FULL
    assert any("nested more than 32 levels deep" in n for n in result.notices), result.notices


# -- 8. answers that are not answers ----------------------------------------------------
@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize(
    "answer",
    ["10**5000", "float('nan')", "[" * 70 + "1" + "]" * 70,
     "{1: 2}", "type('X', (), {'__repr__': lambda s: 1/0})()", "2**80"],
)  # fmt: skip
def test_any_returned_value_is_just_a_wrong_answer(answer, layer, grade_a1, host, tmp_path):
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", f"return {answer}")}
    )
    result = grade(grade_a1, submission, layer)
    assert points_by_criterion(result) == {**FULL, "pure.basic_ops": 1.2, "agreement": 0.0}


# -- 9. output that drives the terminal -------------------------------------------------
def test_student_output_loses_its_control_characters(grade_a1, tmp_path):
    code = (
        "print('\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil'); raise ValueError('\\x1b[31mred')"
    )
    submission = build_submission(
        tmp_path / "s", edits={"a1/pure.py": inject_at_start("trace", code)}
    )
    result = grade_a1(submission, verbose=True)
    text = _text(result)
    assert "pwned" in text and "red" in text
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in text


# -- 10. nothing outlives a job killed by its timeout -----------------------------------
def test_a_job_killed_by_its_timeout_leaves_no_folder(tmp_path):
    from graders.batch.job import Job, run_isolated

    submissions = build_submission(
        tmp_path / "class" / "mallory", edits={"a1/pure.py": at_import("while True: pass")}
    )
    before = _leftovers()
    job = Job("mallory", "a1", str(submissions), "f", timeout_s=8)
    outcome = run_isolated(job)
    assert outcome.status == "timeout"
    assert _leftovers() <= before
    assert _worker_processes() == []


def test_job_temporary_folders_are_the_drivers(tmp_path):
    """The job's own temporary folder is where its sandboxes live (so it can remove them),
    unless a worker of another uid could not reach it."""
    import tempfile

    work = Path(tempfile.mkdtemp(dir="/tmp", prefix="hostile-work-"))
    os.chmod(work, 0o711)
    env = {**os.environ, "NNGRADE_WORK_DIR": str(work), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", "from graders.sandbox.workspace import base_folder; print(base_folder())"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == str(work)
    os.chmod(work, 0o700)
    done = subprocess.run(
        [sys.executable, "-c", "from graders.sandbox.workspace import base_folder; print(base_folder())"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert done.stdout.strip() != str(work)
    work.rmdir()


# -- 11. a class: classmates, the secrets file and the output folder ---------------------
CLASSMATE = """
import os as _os, pathlib as _p
def _walk(_target):
    try:
        return [_p.Path(_target), *_p.Path(_target).rglob("*")]
    except OSError:
        return [_p.Path(_target)]
for _target in ({alice!r}, {out!r}, {secrets!r}):
    for _path in _walk(_target):
        try:
            if _path.is_file():
                _stolen = _path.read_text()
                _path.write_text("overwritten by mallory")
        except OSError:
            pass
    try:
        (_p.Path(_target) / "mallory-was-here").write_text("x")
    except OSError:
        pass
"""


@pytest.mark.parametrize("layer", STRONG)
def test_a_classmate_cannot_reach_the_class(layer, host, tmp_path):
    import csv

    from graders.batch.run import BatchOptions, grade_class
    from graders.core.options import GradeOptions

    submissions, out = tmp_path / "class", tmp_path / "out"
    alice = build_submission(submissions / "alice")
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"a5": {"evaluation_seed": 5544332211}}')
    os.chmod(secrets, 0o600)
    attack = CLASSMATE.format(alice=str(alice), out=str(out), secrets=str(secrets))
    build_submission(submissions / "mallory", edits={"a1/pure.py": at_import(attack)})
    before = tree_digest(alice)
    options = BatchOptions(
        ("a1",), submissions, out, jobs=2, progress=False,
        grading=GradeOptions(confinement=layer, secrets_file=secrets).for_shared_grading(),
    )  # fmt: skip
    grade_class(options)
    assert tree_digest(alice) == before
    with (out / "gradebook.csv").open(newline="") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    assert rows["alice"]["a1"] == "10" and rows["mallory"]["a1"] == "10"
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "5544332211" not in text and "overwritten by mallory" not in text, path
    assert not any(p.name == "mallory-was-here" for p in tmp_path.rglob("*"))


# -- 12. the policy: shared grading refuses a weaker sandbox, loudly overridable ----------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", *args], capture_output=True, text=True,
        cwd=REPO, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_shared_formats_refuse_a_weak_sandbox_unless_told_loudly(tmp_path):
    submission = build_submission(tmp_path / "s")
    refused = _cli("check", "a1", "--submission", str(submission), "--confinement", "none",
                   "--format", "gradescope")  # fmt: skip
    assert refused.returncode == 3
    assert "refusing to grade" in refused.stderr and "separate-uid" in refused.stderr
    forced = _cli("check", "a1", "--submission", str(submission), "--confinement", "none",
                  "--format", "json", "--insecure-sandbox")  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert "INSECURE: graded with --insecure-sandbox" in forced.stdout
    own = _cli("check", "a1", "--submission", str(submission), "--confinement", "none")
    assert own.returncode == 0 and own.stdout.rstrip().endswith("Points 10/10")
    assert "course grading refuses it" in own.stdout
    assert "note: the sandbox here (none) lacks" in own.stdout  # one prefix, not "note: warning:"
    assert "not sandboxed (base limits only); checked on your machine" in own.stdout


def test_a_layer_that_fails_to_apply_stops_grading(tmp_path, monkeypatch):
    """A worker that cannot apply a layer the grader claims never runs student code."""
    from graders.core.options import GradeOptions
    from graders.core.runner import grade as grade_assignment
    from graders.sandbox import client

    layer = STRONG[0]
    real = client.Worker._lockdown

    def broken(self):
        config = real(self)
        config["seccomp_filter"] = None  # the filter is claimed but not loaded
        return config

    monkeypatch.setattr(client.Worker, "_lockdown", broken)
    from helpers import FAST_A1

    result = grade_assignment(
        FAST_A1, build_submission(tmp_path / "s"), GradeOptions(confinement=layer)
    )
    assert result.points == 0
    assert result.internal_errors and all(
        "did not apply seccomp, no-exec, no-new-processes, no-sockets" in e
        for e in result.internal_errors
    )


@pytest.mark.parametrize("layer", STRONG)
@pytest.mark.parametrize("hidden", ["seccomp", "separate-uid", "no-new-privileges"])
def test_a_layer_the_kernel_does_not_show_stops_grading(hidden, layer, tmp_path, monkeypatch):
    """The worker's word is checked against /proc from outside: a worker whose status
    lacks what it claims (as a lying worker's would) never runs student code."""
    from helpers import FAST_A1

    from graders.core.options import GradeOptions
    from graders.core.runner import grade as grade_assignment
    from graders.sandbox import processes

    real = processes.kernel_view
    field = {"seccomp": "seccomp", "separate-uid": "uids", "no-new-privileges": "no_new_privs"}

    def without(pid):
        view = real(pid)
        if view and pid != os.getpid():
            view[field[hidden]] = (0, 0, 0, 0) if hidden == "separate-uid" else False
        return view

    monkeypatch.setattr(processes, "kernel_view", without)
    result = grade_assignment(
        FAST_A1, build_submission(tmp_path / "s"), GradeOptions(confinement=layer)
    )
    assert result.points == 0
    assert result.internal_errors and all(
        f"did not apply {hidden}" in e for e in result.internal_errors
    ), result.internal_errors


# -- 13. a grader killed mid-run leaves no worker behind ---------------------------------
@pytest.mark.parametrize("layer", STRONG)
def test_workers_die_with_a_killed_grader(layer, tmp_path):
    import signal
    import time

    from graders.sandbox.workspace import remove_tree

    # numpy's load_system runs first (a1's run_first) in the worker started ahead, on a
    # thread of its own: the kill finds that worker looping in student code.
    submission = build_submission(
        tmp_path / "s",
        edits={"a1/vectorized.py": inject_at_start("load_system", "while True: pass")},
    )
    import tempfile

    # The killed grader's folders go here, so only they are removed; inside the session's
    # work folder, so that its workers are this session's (conftest.py).
    work = Path(tempfile.mkdtemp(dir=base_folder(), prefix="hostile-killed-"))
    os.chmod(work, 0o711)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from helpers import FAST_A1; "
        "from graders.core.runner import grade, GradeOptions; from pathlib import Path; "
        "grade(FAST_A1, Path(sys.argv[2]), GradeOptions(confinement=sys.argv[3]))"
    )
    grader = subprocess.Popen(
        [sys.executable, "-c", script, str(REPO / "tests"), str(submission), layer],
        env={**os.environ, "PYTHONPATH": str(REPO), "NNGRADE_WORK_DIR": str(work)},
    )
    try:
        deadline = time.monotonic() + 60
        while not _worker_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _worker_processes(), "no worker started"
        time.sleep(0.5)  # the worker is now looping in student code
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _worker_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _worker_processes() == []
    finally:
        grader.kill()
        remove_tree(work, 30)  # a killed grader cannot tidy up: its driver does
