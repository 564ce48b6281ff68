"""What a worker may see: the paths of its filesystem allowlist, and its ``sys.path``.

One list drives both strong layers: bubblewrap mounts exactly these paths (and nothing
else exists in the sandbox), and Landlock grants exactly these rights (and every other
open fails). A sandbox's libraries are the installed distributions that it names plus
everything they require, so "a1/pure.py sees only the standard library" and "a4 sees
torch and torchvision" are facts of the filesystem, whatever the import machinery does.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class PathRule:
    """One allowed path and its ``access``: "ro" (read), "rw" (the scratch), "device", or
    "list" (the folder's names only, e.g. site-packages). ``hide``: children left out."""

    path: str
    access: str = "ro"
    hide: tuple[str, ...] = ()


class UnknownLibrary(Exception):
    """A sandbox names a library that is not installed."""


#: Files of the base system that the interpreter and compiled libraries read.
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
#: Read-only system information (core counts) that numeric libraries consult.
_SYSTEM_INFO = ("/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
#: Library folders too broad to allow whole: they hold other Pythons' packages.
_TOO_BROAD = {"/", "/usr", "/usr/lib", "/usr/local", "/usr/local/lib", "/opt", "/home", "/root"}


def _triplet() -> str:
    return sysconfig.get_config_var("MULTIARCH") or f"{os.uname().machine}-linux-gnu"


@functools.cache
def system_rules() -> tuple[PathRule, ...]:
    """Shared-library folders, the loader's cache, harmless system facts and null devices."""
    triplet = _triplet()
    folders = ["/lib64", "/lib32", "/usr/lib64", "/usr/lib32", f"/lib/{triplet}",
               f"/usr/lib/{triplet}", "/lib"]  # fmt: skip
    rules: dict[str, PathRule] = {}
    for folder in folders:
        real = os.path.realpath(folder)
        if os.path.isdir(real) and real not in _TOO_BROAD and not _holds_python_packages(real):
            rules.setdefault(real, PathRule(real))
    for path in _mapped_system_libraries():
        folder = os.path.dirname(path)
        if folder not in _TOO_BROAD and not any(_beneath(folder, r) for r in rules):
            rules.setdefault(path, PathRule(path))
    for path in _SYSTEM_FILES + _SYSTEM_INFO:
        if os.path.exists(path):
            rules.setdefault(path, PathRule(path))
    for path in _DEVICES:
        if os.path.exists(path):
            rules[path] = PathRule(path, "device")
    for device in sorted(Path("/dev").glob("nvidia*")):  # CUDA stays usable when present
        rules[str(device)] = PathRule(str(device), "device")
    return tuple(rules.values())


def _holds_python_packages(folder: str) -> bool:
    return any(
        name.startswith("python") and os.path.isdir(os.path.join(folder, name))
        for name in _listdir(folder)
    )


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _beneath(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mapped_files() -> list[str]:
    """Files this interpreter has mapped (its shared libraries), from ``/proc/self/maps``."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    found = {parts[5] for line in lines if len(parts := line.split(None, 5)) == 6}
    return sorted(path for path in found if path.startswith("/") and os.path.isfile(path))


def _mapped_system_libraries() -> list[str]:
    """Shared objects this interpreter has loaded from outside any Python folder."""
    pythons = (os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix))
    return [
        path
        for path in _mapped_files()
        if ".so" in path
        and "-packages/" not in path
        and not any(_beneath(path, p) for p in pythons)
    ]


@functools.cache
def interpreter() -> str:
    """The real interpreter binary (not a virtual environment's link to it)."""
    return os.path.realpath(sys.executable)


@functools.cache
def python_rules() -> tuple[tuple[PathRule, ...], tuple[str, ...]]:
    """The interpreter, its shared library and the standard library (without site-packages)."""
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    dynload = next(
        (os.path.realpath(p) for p in sys.path if p.rstrip("/").endswith("lib-dynload")),
        os.path.join(stdlib, "lib-dynload"),
    )
    platstdlib = os.path.dirname(dynload) if os.path.isdir(dynload) else stdlib
    rules = {interpreter(): PathRule(interpreter())}
    for folder in dict.fromkeys((stdlib, platstdlib)):
        rules[folder] = PathRule(folder, "ro", hide=("site-packages", "dist-packages"))
    base = os.path.realpath(sys.base_prefix)
    for path in _mapped_under(base):
        rules.setdefault(path, PathRule(path))
    sys_path = [stdlib]
    if platstdlib != stdlib:
        sys_path.append(platstdlib)
    if os.path.isdir(dynload):
        sys_path.append(dynload)
    return tuple(rules.values()), tuple(sys_path)


def _mapped_under(folder: str) -> list[str]:
    """Shared objects loaded from ``folder`` (e.g. libpython of a shared-library build)."""
    return [
        path
        for path in _mapped_files()
        if _beneath(path, folder) and "-packages/" not in path and "/lib/python" not in path
    ]


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def library_rules(requirements: tuple[str, ...]) -> tuple[tuple[PathRule, ...], tuple[str, ...]]:
    """Every file of the named distributions and of all they require, and their folders.

    ``requirements`` are names with optional extras (``"gymnasium[box2d]"``). Requirements
    of a distribution that are not installed (optional, other platforms) are skipped; a
    named library that is not installed is an error.
    """
    rules: dict[str, PathRule] = {}
    folders: dict[str, None] = {}
    seen: set[tuple[str, str]] = set()
    stack: list[tuple[str, frozenset[str], bool]] = []
    for text in requirements:
        match = _NAME.match(text)
        if not match:
            raise UnknownLibrary(f"cannot read the library name {text!r}")
        extras = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
        stack.append((match.group(1), extras, True))
    while stack:
        name, extras, named = stack.pop()
        key = (_canonical(name), ",".join(sorted(extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if named:
                raise UnknownLibrary(f"the library {name} is not installed") from None
            continue
        site = os.path.realpath(str(dist.locate_file("")))
        if site not in folders:
            folders[site] = None
            rules.setdefault(site, PathRule(site, "list"))  # listing only: finds the packages
        for top in _top_level_entries(dist):
            path = os.path.join(site, top)
            if os.path.exists(path):
                rules.setdefault(path, PathRule(path))
        requires = dist.requires or ()
        if requires:  # packaging is imported only when there is something to read
            from packaging.requirements import InvalidRequirement, Requirement
        for text in requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras | {""})
            ):
                stack.append((requirement.name, frozenset(requirement.extras), False))
    return tuple(rules.values()), tuple(folders)


def _top_level_entries(dist: metadata.Distribution) -> set[str]:
    """First path components of the distribution's installed files (inside its folder)."""
    tops = set()
    for file in dist.files or ():
        parts = file.parts  # a PackagePath: parsed once already (numpy lists 1,500 files)
        if parts and parts[0] not in ("..", "/", "__pycache__") and not parts[0].endswith(".pth"):
            tops.add(parts[0])
    return tops
