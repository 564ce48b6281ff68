"""Host-side operations on sandbox folders, and the allowlist each assignment gets."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from graders import catalog
from graders.sandbox import allowlist, disk_usage
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


# -- the scratch folder's disk usage, as the disk counts it -----------------------------
def _deep_folder(root: Path, levels: int, name: str = "d" * 200) -> int:
    """``levels`` nested folders below ``root`` (made by descriptor: their paths are longer
    than PATH_MAX); the descriptor of the deepest."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    return fd


def test_usage_counts_what_lies_below_path_max(tmp_path):
    fd = _deep_folder(tmp_path, 25)
    try:
        data = os.open("data", os.O_CREAT | os.O_WRONLY, dir_fd=fd)
        os.posix_fallocate(data, 0, 8 * 2**20)
        os.close(data)
    finally:
        os.close(fd)
    size, entries = disk_usage.usage(tmp_path, 1000)
    assert size >= 8 * 2**20 and entries == 26
    remove_tree(tmp_path, 30.0)
    assert not tmp_path.exists()


def test_usage_counts_a_folder_emptied_of_many_entries(tmp_path):
    swollen = tmp_path / "swollen"
    swollen.mkdir()
    (tmp_path / "one").touch()
    names = [swollen / f"{i:05d}".ljust(255, "x") for i in range(3000)]
    for name in names:
        os.link(tmp_path / "one", name)
    for name in names:
        name.unlink()
    held = os.stat(swollen).st_blocks * 512
    assert held > 512 * 1024  # the folder kept its blocks
    size, entries = disk_usage.usage(tmp_path, 1000)
    assert size >= held and entries == 2


def test_usage_stops_counting_past_the_entries_limit(tmp_path):
    for i in range(50):
        (tmp_path / f"f{i}").touch()
    assert disk_usage.usage(tmp_path, 10)[1] > 10


def test_usage_survives_folders_moved_while_it_walks(tmp_path):
    """A worker that moves its folders around while the watcher walks them: the walk never
    fails, never leaks a descriptor, and never counts less than a still tree's share."""
    for top in range(20):
        (tmp_path / f"t{top}" / "a" / "b").mkdir(parents=True)
        (tmp_path / f"t{top}" / "a" / "b" / "data").write_bytes(b"x" * 65536)
    stop = threading.Event()

    def shuffle() -> None:
        turn = 0
        while not stop.is_set():
            turn += 1
            with contextlib.suppress(OSError):
                os.rename(tmp_path / f"t{turn % 20}" / "a", tmp_path / f"t{(turn + 1) % 20}" / "x")
                os.rename(tmp_path / f"t{(turn + 1) % 20}" / "x", tmp_path / f"t{turn % 20}" / "a")

    before = len(os.listdir("/proc/self/fd"))
    mover = threading.Thread(target=shuffle)
    mover.start()
    try:
        for _ in range(200):
            size, _ = disk_usage.usage(tmp_path, 10_000)
            assert size > 0
    finally:
        stop.set()
        mover.join()
    assert len(os.listdir("/proc/self/fd")) == before


def test_the_runtime_is_byte_compiled_for_workers_that_write_none():
    """Workers start with -B: every runtime module but the script comes with an unchecked
    hash-based .pyc of its own source (PEP 552), valid whatever the copy's time stamp."""
    import importlib.util
    import marshal
    import sys

    workspace = Workspace(("graders.a1.cases",))
    try:
        sources = sorted(workspace.runtime.rglob("*.py"))
        assert len(sources) > 5
        for source in sources:
            cached = (
                source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
            )
            if source == workspace.worker_main:
                assert not cached.exists()
                continue
            data, text = cached.read_bytes(), source.read_bytes()
            assert data[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked
            assert data[8:16] == importlib.util.source_hash(text)
            compiled = compile(text, "<nngrade worker runtime>", "exec", dont_inherit=True)
            assert marshal.loads(data[16:]).co_code == compiled.co_code
    finally:
        workspace.close()
