"""What each assignment's grader declares, read from its source without running it.

An adjustment names a criterion, and must be checked before anything is graded or
written (a typo is an error, not a silently ignored row); the criteria are declared as
``@criterion("id", points, "title")`` on the grader's tests, so they are read here from
the source with ``ast``: importing a grader would import its libraries (torch for a4)
into the batch process. The source's digest tells a run whether the grader changed.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

from graders import catalog
from graders.core.results import round_points


class UndeclaredCriteria(ValueError):
    """A grader's criteria cannot be read from its source (not literal declarations)."""


def grader_file(key: str) -> Path:
    """The grader module's file, found without importing it."""
    found = importlib.util.find_spec(catalog.spec(key).grader_module)
    if found is None or not found.origin:
        raise UndeclaredCriteria(f"the grader of {key} cannot be found")
    return Path(found.origin)


@functools.cache
def declared(key: str) -> dict[str, float]:
    """Criterion id -> points of assignment ``key``, in the grader's order."""
    path = grader_file(key)
    found: dict[str, float] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if _is_criterion(decorator):
                cid, points = _id_and_points(decorator, path)
                found[cid] = points
    total = round_points(sum(found.values()))
    if total != round_points(catalog.spec(key).points):
        raise UndeclaredCriteria(
            f"{path}: the criteria read from the source add up to {total}, not "
            f"{catalog.spec(key).points} points"
        )
    return found


def _is_criterion(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = node.func
    return (isinstance(name, ast.Name) and name.id == "criterion") or (
        isinstance(name, ast.Attribute) and name.attr == "criterion"
    )


def _id_and_points(call: ast.Call, path: Path) -> tuple[str, float]:
    given = dict(zip(("id", "points"), call.args, strict=False))
    given.update({k.arg: k.value for k in call.keywords if k.arg in ("id", "points")})
    try:
        cid = ast.literal_eval(given["id"])
        points = ast.literal_eval(given["points"])
    except (KeyError, ValueError) as error:
        raise UndeclaredCriteria(
            f"{path}:{call.lineno}: a criterion whose id and points are not literals ({error})"
        ) from None
    if not isinstance(cid, str) or not isinstance(points, (int, float)):
        raise UndeclaredCriteria(f"{path}:{call.lineno}: a criterion's id or points is malformed")
    return cid, float(points)


def source_digest(key: str) -> str:
    """A digest of the grader's source: it differs when a criterion was fixed or changed."""
    return hashlib.sha256(grader_file(key).read_bytes()).hexdigest()
