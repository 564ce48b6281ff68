"""The repository keeps its promises: README commands match CI, style is clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from helpers import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, flags=re.S)


def test_ci_runs_exactly_the_readme_commands():
    install, tests = readme_commands()
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert install in ci and tests in ci
    assert ci[-1] == tests


def test_every_assignment_with_a_grader_has_spec_reference_and_stub():
    from graders import catalog

    for spec in catalog.specs():
        statement = REPO / "assignments" / f"{spec.key}.md"
        for relative in spec.required_files:
            assert (REPO / "reference" / relative).is_file(), relative
            assert relative in statement.read_text(), relative  # the statement names it
            template = REPO / "student_template" / relative
            # Code has a stub; what the student produces (a5's trained agent.pt) does not.
            assert template.is_file() == relative.endswith(".py"), relative


@pytest.mark.skipif(shutil.which("ruff") is None and not (REPO / ".venv/bin/ruff").exists(),
                    reason="ruff is part of the test extra")  # fmt: skip
def test_code_is_ruff_clean():
    ruff = [sys.executable, "-m", "ruff"]
    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(ruff + args, cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_bundles_pyproject_finds_the_package_as_the_repositorys_does():
    """A Gradescope bundle's pyproject.toml is written from the installed metadata
    (graders.integrations.source_tree); how setuptools finds the package and its data is
    written there again, and must stay what the repository's own pyproject.toml says."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and later")
    from graders.integrations.source_tree import pyproject

    ours = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    bundled = tomllib.loads(pyproject())["tool"]["setuptools"]
    assert bundled["packages"] == ours["packages"]
    assert bundled["package-data"] == ours["package-data"]
