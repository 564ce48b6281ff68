"""Packages outside the allowlist are absent, under every layer.

Under bubblewrap a package the worker may not use is not mounted: ``import tqdm`` raises
``ModuleNotFoundError``, which libraries expect for their optional imports (torch does
``try: import tqdm except ImportError``). Under Landlock the worker may list
``site-packages`` (to find its allowed packages) and ``stat`` anything, so Python's path
finder would find ``tqdm/__init__.py`` and then fail to open it: ``PermissionError``,
which no library expects. This finder takes the place of :class:`PathFinder` and keeps
only modules and distributions whose files lie inside the readable allowlist, so both
layers show the worker the same set of packages. The kernel still decides what can be
opened; this only makes the answer the one Python code expects.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder


class VisiblePathFinder:
    """:class:`PathFinder`, limited to files under ``readable`` folders and files."""

    def __init__(self, readable: tuple[str, ...]):
        self.readable = frozenset(path.rstrip("/") or "/" for path in readable)

    def _inside(self, path: str) -> bool:
        path = os.path.normpath(path)
        while True:
            if path in self.readable:
                return True
            parent = os.path.dirname(path)
            if parent == path:
                return False
            path = parent

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None:
            return None
        if spec.has_location and spec.origin and not self._inside(spec.origin):
            return None
        locations = spec.submodule_search_locations
        if locations is not None:
            kept = [location for location in locations if self._inside(location)]
            if spec.origin is None and not kept:
                return None  # a namespace package made only of hidden folders
            if len(kept) != len(locations) and isinstance(locations, list):
                locations[:] = kept
        return spec

    def find_distributions(self, *args, **kwargs):
        """``importlib.metadata``'s view: only distributions inside the allowlist."""
        for distribution in PathFinder.find_distributions(*args, **kwargs):
            where = getattr(distribution, "_path", None)
            if where is None or self._inside(str(where)):
                yield distribution

    def invalidate_caches(self) -> None:
        PathFinder.invalidate_caches()


def install(readable: tuple[str, ...]) -> VisiblePathFinder:
    """Put the finder in :class:`PathFinder`'s place on ``sys.meta_path``."""
    finder = VisiblePathFinder(readable)
    sys.meta_path[:] = [finder if entry is PathFinder else entry for entry in sys.meta_path]
    if finder not in sys.meta_path:
        sys.meta_path.append(finder)
    return finder
