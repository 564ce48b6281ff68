"""nngrade as a source tree that ``pip install`` builds, made from the installed package.

A Gradescope bundle installs nngrade inside Gradescope's image. The instructor may have
nngrade from a wheel (the course's package index) or from a checkout; either way the
running package is what gets shipped: its files (the course files the wheel carries
included, never the reference solutions, which are not in the package) and a
``pyproject.toml`` written from the installed distribution's own metadata (name, version,
dependencies with their markers, extras, the command).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from pathlib import Path

import graders

#: The course files (:mod:`graders.course_files`) as package data.
PACKAGE_DATA = (
    "course/student_template/**/*.py",
    "course/student_template/**/*.ipynb",
    "course/student_template/.github/workflows/*.yml",
    "course/assignments/*.md",
    "a1/agreement_systems.json",
)

_EXTRA = re.compile(r"""^(?:(?P<rest>.*?)\s+and\s+)?extra\s*==\s*["'](?P<extra>[^"']+)["']$""")


def package_files() -> dict[str, bytes]:
    """Every file of the running ``graders`` package by its path in a source tree
    (``graders/cli.py``); links into the checkout (``graders/course``) are followed."""
    root = Path(graders.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            files[f"graders/{relative}"] = path.read_bytes()
    return files


def _requirements() -> tuple[list[str], dict[str, list[str]]]:
    """The installed nngrade's requirements: (always, {extra: requirements})."""
    always: list[str] = []
    extras: dict[str, list[str]] = {
        name: [] for name in importlib.metadata.metadata("nngrade").get_all("Provides-Extra") or ()
    }
    for line in importlib.metadata.requires("nngrade") or ():
        requirement, _, marker = line.partition(";")
        match = _EXTRA.match(marker.strip())
        if match is None:
            always.append(line.strip())
            continue
        rest = (match.group("rest") or "").strip()
        extras.setdefault(match.group("extra"), []).append(
            f"{requirement.strip()}; {rest}" if rest else requirement.strip()
        )
    return always, extras


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_string(item) for item in items) + "]"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pyproject() -> str:
    """A ``pyproject.toml`` that builds the running package as the installed one."""
    metadata = importlib.metadata.metadata("nngrade")
    always, extras = _requirements()
    lines = [
        "[build-system]",
        'requires = ["setuptools>=77"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        'name = "nngrade"',
        f"version = {_toml_string(metadata['Version'])}",
        f"description = {_toml_string(metadata.get('Summary') or '')}",
        f"requires-python = {_toml_string(metadata.get('Requires-Python') or '>=3.10')}",
        f"dependencies = {_toml_list(always)}",
        "",
        "[project.optional-dependencies]",
        *(f"{name} = {_toml_list(items)}" for name, items in extras.items()),
        "",
        "[project.scripts]",
        'nngrade = "graders.launch:main"',
        "",
        "[tool.setuptools.packages.find]",
        'include = ["graders*"]',
        'exclude = ["graders.course*"]',
        "",
        "[tool.setuptools.package-data]",
        f"graders = {_toml_list(list(PACKAGE_DATA))}",
    ]
    return "\n".join(lines) + "\n"


def source_tree() -> dict[str, bytes]:
    """``pyproject.toml`` and the package, as files of a source tree."""
    return {"pyproject.toml": pyproject().encode(), **package_files()}
