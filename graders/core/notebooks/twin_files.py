"""Notebooks handed in beside a module of the same name (``perceptron.ipynb`` next to
``perceptron.py``): both would stand for one module, so a submission may hold only one of
them, and staging refuses one that holds both (graders.core.submission)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from graders.core.notebooks.reading import SUFFIX


def twins(folder: Path, skipped: Iterable[str] = ()) -> list[tuple[Path, Path]]:
    """Notebooks that have a module of the same name next to them: (module, notebook)."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    skipped = set(skipped)
    found = []
    for notebook in sorted(folder.rglob(f"*{SUFFIX}")):
        if skipped & set(notebook.relative_to(folder).parts[:-1]):
            continue
        module = notebook.with_suffix(".py")
        if module.is_file() or module.is_symlink():
            found.append((module, notebook))
    return found
