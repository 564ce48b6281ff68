"""Instructor secrets: values that decide grades and must never reach a student.

A secrets file is JSON with one object per assignment and, optionally, the course's
secret seed, from which (with each student's id) the inputs of every criterion are drawn
instead of the public ones (``GradingContext.secret_rng``)::

    {"seed": 57113, "a5": {"evaluation_seed": 829301}}

It comes from ``--secrets FILE`` or, failing that, the ``NNGRADE_SECRETS`` environment
variable (a path), so a CI secret or a batch run can supply it without editing any
command. Graders read their own section with ``GradingContext.secret``; reports never
print it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENVIRONMENT_VARIABLE = "NNGRADE_SECRETS"


class SecretsError(ValueError):
    """The secrets file is missing or malformed; the message says how to fix it."""


def secrets_path(path: Path | None = None) -> Path | None:
    """``path``, else the file $NNGRADE_SECRETS names, else None (no secrets)."""
    if path is None:
        named = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
        if not named:
            return None
        path = Path(named)
    return Path(path).expanduser()


def load_secrets(path: Path | None = None) -> dict[str, Any]:
    """The instructor's secrets from ``path``, else from $NNGRADE_SECRETS, else none."""
    path = secrets_path(path)
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SecretsError(f"secrets file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"cannot read secrets file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SecretsError(
            f"secrets file {path} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            'expected e.g. {"a5": {"evaluation_seed": 829301}}'
        ) from None
    seed = data.get("seed") if isinstance(data, dict) else None
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise SecretsError(f'secrets file {path}: "seed" must be a whole number, e.g. 57113')
    sections = {k: v for k, v in data.items() if k != "seed"} if isinstance(data, dict) else None
    if sections is None or not all(isinstance(v, dict) for v in sections.values()):
        raise SecretsError(
            f"secrets file {path} must hold one JSON object per assignment, "
            'e.g. {"a5": {"evaluation_seed": 829301}}'
        )
    return data
