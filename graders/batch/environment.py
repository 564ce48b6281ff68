"""The software a grade was computed with, recorded next to every result."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any

from graders import __version__

LIBRARIES = ("numpy", "pytest", "hypothesis", "torch", "torchvision", "gymnasium", "box2d")


def describe_environment() -> dict[str, Any]:
    """Versions of nngrade, Python and the libraries that can change a grade."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "nngrade": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "libraries": versions,
    }


def secrets_digest(secrets: dict[str, Any]) -> str:
    """A short digest that tells two secret sets apart without revealing either."""
    if not secrets:
        return ""
    canonical = json.dumps(secrets, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]
