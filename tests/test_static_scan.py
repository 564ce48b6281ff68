"""The static import scan: every way of writing an import, relative imports, helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from graders.a1 import ASSIGNMENT
from graders.core.static_scan import import_sites, scan
from graders.failures import FailureKind, Location
from graders.sandbox.inside.rules import NO_ML_FRAMEWORKS, NO_RL_LIBRARIES, STDLIB_ONLY


def modules(source: str, package: str = "a1") -> list[str]:
    return [site.module for site in import_sites(ast.parse(source), package)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import numpy as np", ["numpy"]),
        ("import os.path, json", ["os.path", "json"]),
        ("from numpy import linalg", ["numpy", "numpy.linalg"]),
        ("from . import helpers", ["a1", "a1.helpers"]),
        ("from .tools import f", ["a1.tools", "a1.tools.f"]),
        ("import importlib\nimportlib.import_module('torch')", ["importlib", "torch"]),
        ("__import__('tensorflow')", ["tensorflow"]),
        ("def f():\n    import jax", ["jax"]),
        ("try:\n    import torch\nexcept ImportError:\n    pass", ["torch"]),
    ],
)
def test_import_sites(source, expected):
    assert modules(source) == expected


@pytest.mark.parametrize(
    ("rule", "module", "broken"),
    [
        (NO_ML_FRAMEWORKS, "torch.nn", True),
        (NO_ML_FRAMEWORKS, "sklearn", True),
        (NO_ML_FRAMEWORKS, "numpy", False),
        (NO_ML_FRAMEWORKS, "torchmetrics_like", False),
        (STDLIB_ONLY, "numpy", True),
        (STDLIB_ONLY, "math", False),
        (STDLIB_ONLY, "a1.helpers", False),
        (STDLIB_ONLY, "__future__", False),
        (NO_RL_LIBRARIES, "stable_baselines3.dqn", True),
        (NO_RL_LIBRARIES, "ray.rllib.algorithms", True),
        (NO_RL_LIBRARIES, "ray", False),
        (NO_RL_LIBRARIES, "gymnasium", False),
    ],
)
def test_rules(rule, module, broken):
    assert rule.violated_by(module, frozenset({"a1"})) is broken


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_scan_follows_local_imports_and_reports_file_and_line(tmp_path):
    root = write(tmp_path, {
        "a1/__init__.py": "",
        "a1/pure.py": "import math\nfrom . import helper\nimport common\n",
        "a1/helper.py": "\n\nimport numpy\n",
        "a1/vectorized.py": "import numpy as np\n",
        "common.py": "import json\nfrom sklearn import svm\n",
    })  # fmt: skip
    violations, unparsable = scan(root, ASSIGNMENT, frozenset({"a1", "common"}))
    found = {(v.rule, v.file, v.line, v.module) for v in violations}
    assert found == {
        ("stdlib-only", "a1/helper.py", 3, "numpy"),
        ("stdlib-only", "common.py", 2, "sklearn"),
        ("no-ml-frameworks", "common.py", 2, "sklearn"),
    }
    assert unparsable == []


def test_a_file_that_does_not_parse_is_reported(tmp_path):
    root = write(tmp_path, {"a1/pure.py": "def broken(:\n", "a1/vectorized.py": ""})
    _, unparsable = scan(root, ASSIGNMENT, frozenset({"a1"}))
    assert [e.reason for e in unparsable] == ["a1/pure.py:1: SyntaxError"]
    assert [(e.kind, e.location) for e in unparsable] == [
        (FailureKind.DOES_NOT_PARSE, Location("a1/pure.py", 1))
    ]
