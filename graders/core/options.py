"""How one grading run is made: the single options object every front end carries whole.

The command line builds it once (:meth:`GradeOptions.from_args`, whose parser uses the
field names as destinations), the grading context keeps it, batch grading hands it to
each job as JSON (:meth:`to_json`/:meth:`from_json`). Adding an option touches this
dataclass and the parser only.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.sandbox.confinement import STRICT_LAYERS

#: The course's fixed base seed: the same submission always gets the same points.
DEFAULT_SEED = 20251


@dataclass(frozen=True)
class GradeOptions:
    #: Sandbox wrapper: "auto" (the strongest available) or a kind of confinement.
    confinement: str = "auto"
    #: Layers that must be active, or grading refuses to run.
    require: tuple[str, ...] = ()
    #: Grade although the sandbox lacks layers that shared grading needs (said in reports).
    insecure_sandbox: bool = False
    seed: int = DEFAULT_SEED
    #: Keep what student code printed, for the report.
    verbose: bool = False
    #: Folder holding MNIST/raw/; None: $NNGRADE_DATA, else the per-user cache.
    data_dir: Path | None = None
    #: Download MNIST (torchvision) when it is missing.
    download: bool = True
    #: An instructor's held-out (images, labels) IDX files that replace the MNIST test set.
    eval_set: tuple[Path, Path] | None = None
    #: The instructor's secrets file (see graders.core.secrets); None: $NNGRADE_SECRETS.
    secrets_file: Path | None = None
    #: Who handed the work in (a class folder's name, the platform's submitter): with a
    #: secret seed, each student's inputs are drawn for them alone.
    student_id: str = ""
    #: Where criteria save report files (e.g. an episode animation); None: nowhere.
    artifacts_dir: Path | None = None
    #: Grade only these criteria (e.g. while working on one part); the rest score 0.
    only: tuple[str, ...] = ()
    #: Threads each worker may use (BLAS, torch); None keeps the assignment's count
    #: (``Limits.threads``). Results can depend on it, so grading that counts keeps it.
    threads: int | None = None

    def __post_init__(self) -> None:
        # Paths as Path and sequences as tuples, however the options were made (keyword
        # arguments, argparse lists, JSON strings), so that equal options compare equal.
        hints = _field_types()
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _typed(getattr(self, f.name), hints[f.name]))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GradeOptions:
        """The options a parsed command line gives (absent or None values keep defaults)."""
        given = {
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(cls)
            if getattr(args, f.name, None) is not None
        }
        return cls(**given)

    def for_shared_grading(self) -> GradeOptions:
        """These options for points that others rely on (CI, Gradescope, a class): every
        strict layer required, unless ``insecure_sandbox`` says otherwise (loudly)."""
        if self.insecure_sandbox:
            return self
        missing = tuple(layer for layer in STRICT_LAYERS if layer not in self.require)
        return dataclasses.replace(self, require=self.require + missing)

    def to_json(self) -> dict[str, Any]:
        return json_ready(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeOptions:
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown grading options: {', '.join(sorted(unknown))}")
        return cls(**data)


@functools.cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(GradeOptions)


def json_ready(value: Any) -> Any:
    """``value`` with paths as strings and tuples as lists, ready for ``json.dumps``."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _typed(value: Any, hint: Any) -> Any:
    """``value`` (from JSON or argparse) as the field's declared type: paths and tuples."""
    if value is None:
        return None
    arguments = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if hint is Path or (origin is not tuple and Path in arguments):
        return Path(value)
    if origin is tuple or any(typing.get_origin(a) is tuple for a in arguments):
        inner = (
            hint if origin is tuple else next(a for a in arguments if typing.get_origin(a) is tuple)
        )
        element = typing.get_args(inner)[0]
        return tuple(_typed(v, element) for v in value)
    return value
