"""Landlock through a few ``ctypes`` calls: the kernel's own filesystem allowlist.

A process that restricts itself can afterwards open only what lies beneath the paths it
listed, with the rights it listed, and so can every process it starts. No namespace and
no privilege is needed, so this works in Docker (Gradescope) and on Ubuntu laptops where
user namespaces are blocked. Network rules (ABI 4) and scopes (ABI 6: no signals to, and
no abstract sockets of, processes outside the sandbox) are used when the kernel has them.
"""

from __future__ import annotations

import ctypes
import os

_SYS_CREATE_RULESET = 444  # the same number on every architecture (new syscalls are unified)
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

#: Rights on a read-only path (a directory's rights apply to everything beneath it).
READ_ONLY = READ_FILE | READ_DIR
#: Rights on the scratch folder: files and folders, never links, pipes, sockets or devices.
READ_WRITE = READ_ONLY | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | REFER
READ_WRITE_TRUNCATE = READ_WRITE | TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class LandlockError(OSError):
    """The kernel refused a Landlock call (the message says which one)."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    try:
        version = _libc().syscall(
            _SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
        )
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def handled_fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # EXECUTE .. MAKE_SYM (ABI 1)
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class Ruleset:
    """A Landlock ruleset being built: add rules (any privilege), then restrict the process.

    Rules are added one open descriptor at a time, so a long allowlist never needs more
    than one descriptor; the caller may add them before dropping its privileges (paths
    only root can reach) and restrict afterwards.
    """

    def __init__(self, abi: int):
        self._libc = _libc()
        self.handled = handled_fs_rights(abi)
        attr = _RulesetAttr(handled_access_fs=self.handled)
        size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 16 if abi >= 4 else 8
        self.guarantees = ["landlock-filesystem"]
        if abi >= 4:
            attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
            self.guarantees.append("landlock-network")
        if abi >= 6:
            attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
            self.guarantees.append("landlock-scope")
        self.fd = self._libc.syscall(
            _SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
        )
        if self.fd < 0:
            raise LandlockError(ctypes.get_errno(), "landlock_create_ruleset failed")

    def add(self, fd: int, rights: int) -> None:
        """Allow ``rights`` beneath the open path ``fd`` (only file rights on a file)."""
        beneath = _PathBeneathAttr(allowed_access=rights & self.handled, parent_fd=fd)
        if _is_file(fd):
            beneath.allowed_access &= READ_FILE | WRITE_FILE | TRUNCATE | EXECUTE | IOCTL_DEV
        done = self._libc.syscall(
            _SYS_ADD_RULE,
            ctypes.c_int(self.fd),
            ctypes.c_int(_RULE_PATH_BENEATH),
            ctypes.byref(beneath),
            ctypes.c_uint32(0),
        )
        if done < 0:
            raise LandlockError(ctypes.get_errno(), "landlock_add_rule failed")

    def restrict(self) -> list[str]:
        """Enforce the ruleset on this process for good (needs ``no_new_privs``)."""
        try:
            if self._libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0)):
                raise LandlockError(ctypes.get_errno(), "landlock_restrict_self failed")
        finally:
            os.close(self.fd)
        return list(self.guarantees)


def _is_file(fd: int) -> bool:
    import stat

    return not stat.S_ISDIR(os.fstat(fd).st_mode)
