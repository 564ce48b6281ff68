"""Hostile code for a1's ``trace``, shared by the hostile-submission tests and
``bench/soak.py``: each snippet is what a student who wants to exhaust the grading host
would put first thing in the function (see ``helpers.inject_at_start``)."""

from __future__ import annotations

# Forty files of 60 MiB, written: 2.4 GiB, far past the scratch limit.
FILL_SCRATCH = (
    "import os, time\n"
    "    for _i in range(40):\n"
    "        open(f'fill{_i}', 'wb').write(os.urandom(1) * (60 * 2**20))\n"
    "    time.sleep(5)"
)


# Files deleted while still held: a folder walk no longer sees them, the disk does.
HIDDEN_DISK = {
    "deleted, held open": (
        "import os, time\n"
        "    _held = []\n"
        "    for _i in range(12):\n"
        "        _f = open(f'hold{_i}', 'wb')\n"
        "        os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
        "        os.unlink(f'hold{_i}')\n"
        "        _held.append(_f)\n"
        "    time.sleep(5)"
    ),
    "deleted, held mapped": (
        "import os, mmap, time\n"
        "    _held = []\n"
        "    for _i in range(12):\n"
        "        with open(f'map{_i}', 'wb+') as _f:\n"
        "            os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
        "            _held.append(mmap.mmap(_f.fileno(), 60 * 2**20))\n"
        "        os.unlink(f'map{_i}')\n"
        "    time.sleep(5)"
    ),
    # Mapped with its descriptor closed: only /proc/<pid>/map_files/ reaches it, which a
    # container's root may list but not open (its size is then counted at the bound).
    "deleted, mapped only": (
        "import os, ctypes, time\n"
        "    _libc = ctypes.CDLL(None); _libc.mmap.restype = ctypes.c_void_p\n"
        "    _libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
        "    for _i in range(12):\n"
        "        _fd = os.open(f'only{_i}', os.O_RDWR | os.O_CREAT)\n"
        "        os.posix_fallocate(_fd, 0, 60 * 2**20)\n"
        "        _libc.mmap(None, 4096, 1, 1, _fd, 0); os.close(_fd); os.unlink(f'only{_i}')\n"
        "    time.sleep(5)"
    ),
    # Non-dumpable, its open files would be hidden from a grader without CAP_SYS_PTRACE.
    "hidden from the grader, then held open": (
        "import os, ctypes, time\n"
        "    _hidden = ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
        "    _held = []\n"
        "    for _i in range(12):\n"
        "        _f = open(f'hide{_i}', 'wb')\n"
        "        os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
        "        os.unlink(f'hide{_i}')\n"
        "        _held.append(_f)\n"
        "    time.sleep(5)"
    ),
    # Held by a second thread after the first one ended (a raw exit of that thread alone):
    # /proc/<pid>/fd and maps show the first thread's, which are gone (a zombie leader).
    "held by a thread after the first one ended": (
        "import os, threading, time, ctypes\n"
        "    def _hold():\n"
        "        _held = []\n"
        "        for _i in range(12):\n"
        "            _f = open(f'orphan{_i}', 'wb')\n"
        "            os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
        "            os.unlink(f'orphan{_i}')\n"
        "            _held.append(_f)\n"
        "        time.sleep(60)\n"
        "    threading.Thread(target=_hold).start()\n"
        "    ctypes.CDLL(None).syscall({'x86_64': 60, 'aarch64': 93}[os.uname().machine], 0)"
    ),
}


# What a walk by path, or one that counts only files, would not see.
HIDDEN_FROM_A_WALK = {
    # 25 folders of 200-character names: below them every path is longer than PATH_MAX,
    # which a walk that opens folders by path cannot open.
    "below PATH_MAX": (
        "import os, time\n"
        "    for _i in range(25):\n"
        "        os.mkdir('d' * 200); os.chdir('d' * 200)\n"
        "    for _i in range(9):\n"
        "        with open(f'deep{_i}', 'wb') as _f:\n"
        "            os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
        "    time.sleep(2)"
    ),
    # 510 MiB of files (under the 512 MiB limit) and three folders swollen by 6,000 long
    # names each (links to one empty file), then emptied: a folder keeps its blocks (about
    # 2 MiB each), and the disk holds them.
    "in emptied folders": (
        "import os, time\n"
        "    open('one', 'w').close()\n"
        "    for _d in range(3):\n"
        "        os.mkdir(f'swollen{_d}')\n"
        "        _names = [f'swollen{_d}/' + f'{_i:05d}'.ljust(255, 'x') for _i in range(6000)]\n"
        "        for _n in _names: os.link('one', _n)\n"
        "        for _n in _names: os.unlink(_n)\n"
        "    for _i in range(8):\n"
        "        with open(f'fill{_i}', 'wb') as _f:\n"
        "            os.posix_fallocate(_f.fileno(), 0, 510 * 2**20 // 8)\n"
        "    time.sleep(2)"
    ),
}


# Forty 60 MiB files reserved as fast as the kernel allows: with fallocate, 2.4 GiB of
# disk in a few milliseconds, long before the watcher's next look (0.2 s).
DISK_BURST = (
    "import os, time\n"
    "    for _i in range(40):\n"
    "        with open(f'burst{_i}', 'wb') as _f:\n"
    "            os.posix_fallocate(_f.fileno(), 0, 60 * 2**20)\n"
    "    time.sleep(2)"
)


# A reply whose header names one 1 MiB blob a thousand times: 1 MiB on the wire, 1 GiB
# once decoded reference by reference (a few such students graded with --jobs 2 would take
# the grader's machine down).
ALIAS_BOMB = (
    "import json, os, struct, sys\n"
    "    _config = json.loads(sys.argv[1])\n"
    "    _id = sys._getframe(1).f_locals['request_id']\n"
    "    _head = json.dumps({'id': _id, 'ok': True, 'value': [{'$bytes': 0}] * 1000, "
    "'blobs': [2 ** 20]}).encode()\n"
    "    os.write(_config['response_fd'], struct.pack('>Q', len(_head)) + _head + b'x' * 2 ** 20)\n"
    "    os.read(_config['request_fd'], 1)"
)
