"""Host-side operations on sandbox folders, and the allowlist each assignment gets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graders import catalog
from graders.sandbox import allowlist
from graders.sandbox.workspace import (
    Workspace,
    WorkspaceError,
    _chown_fresh_tree,
    remove_tree,
)


def test_removal_never_follows_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    tree = tmp_path / "tree"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "file").write_text("x")
    (tree / "link-to-dir").symlink_to(outside)
    (tree / "deep" / "link-to-file").symlink_to(outside / "keep.txt")
    os.mkfifo(tree / "pipe")
    remove_tree(tree, timeout_s=10)
    assert not tree.exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_handing_a_tree_to_a_worker_refuses_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "link").symlink_to("/etc/passwd")
    with pytest.raises(WorkspaceError, match="not a plain file"):
        _chown_fresh_tree(tmp_path, os.getuid())


def test_inputs_stay_in_their_folder_and_are_read_only_to_workers(tmp_path):
    workspace = Workspace()
    try:
        path = workspace.put_input("inputs/system_0.txt", b"x + y = 1\n")
        assert path.parent.parent == workspace.inputs and path.read_bytes() == b"x + y = 1\n"
        assert oct(path.stat().st_mode & 0o777) == "0o644"
        assert oct(workspace.inputs.stat().st_mode & 0o777) == "0o755"
        for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
            with pytest.raises(WorkspaceError):
                workspace.put_input(bad, b"")
        # A link in the inputs folder (which no worker can write) is never written through.
        (workspace.inputs / "trap.txt").symlink_to(tmp_path / "target")
        with pytest.raises(OSError):
            workspace.put_input("trap.txt", b"x")
        assert not (tmp_path / "target").exists()
        staged = sorted(p.relative_to(workspace.runtime).as_posix()
                        for p in workspace.runtime.rglob("*.py"))  # fmt: skip
        assert "graders/sandbox/inside/main.py" in staged
        assert not any(name.startswith(("graders/core", "graders/a1")) for name in staged)
    finally:
        workspace.close()
    assert not workspace.root.exists()


def _visible(libraries: tuple[str, ...]) -> set[str]:
    rules, _ = allowlist.library_rules(libraries)
    return {Path(rule.path).name for rule in rules if rule.access != "list"}


@pytest.mark.parametrize(
    ("assignment", "sandbox", "must", "must_not"),
    [
        ("a1", "pure", set(), {"numpy", "torch", "pytest", "graders"}),
        ("a1", "vectorized", {"numpy"}, {"torch", "pytest", "hypothesis", "graders"}),
        ("a2", "numpy", {"numpy"}, {"torch", "torchvision", "sklearn"}),
        ("a4", "torch", {"torch", "torchvision", "numpy"}, {"gymnasium", "pytest"}),
        ("a5", "rl", {"torch", "gymnasium", "numpy", "Box2D"}, {"torchvision", "pytest"}),
    ],
)
def test_the_rules_are_the_filesystem(assignment, sandbox, must, must_not):
    spec = catalog.spec(assignment)
    if spec is None or any(
        __import__("importlib").util.find_spec(m) is None for m in spec.requires
    ):
        pytest.skip(f"{assignment} needs an extra that is not installed")
    visible = _visible(spec.sandbox(sandbox).libraries)
    assert must <= visible
    assert not (must_not & visible)
    python, _ = allowlist.python_rules()
    stdlib = next(rule for rule in python if rule.hide)
    assert set(stdlib.hide) == {"site-packages", "dist-packages"}
