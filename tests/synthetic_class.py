"""A synthetic class for assignment 1, as GitHub Classroom or an LMS would export it.

33 submissions mixing correct, partial, broken, hostile and malformed work, each with the
points it must get per criterion (or the reason it must be rejected).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from a1_cases import FULL, PURE_RULE_LOSS, SEEDED_BUGS
from helpers import TEMPLATE, build_submission, inject_at_start, replace_once

ZERO = dict.fromkeys(FULL, 0)
PURE_LOST = {k: 0 for k in FULL if k.startswith("pure.")} | {"agreement": 0}
VECTORIZED_LOST = {k: 0 for k in FULL if k.startswith("vectorized.")} | {"agreement": 0}
REJECTED = "rejected"  # cannot be graded at all
TIMEOUT = "timeout"  # given up on after the batch's job timeout
#: The gradebook's status of every student whose submission has a problem (the rest: ok).
STATUS = {
    "syntax-error": "a1: does not parse",
    "crash-on-import": "a1: does not import",
    "numpy-in-pure": "a1: rule broken",
    "missing-file": "a1: missing file",
    "inner-symlink": "a1: missing file",
    "empty": "a1: not submitted",
    "kills-its-worker": "a1: crashes",
    "hangs": "a1: not graded, hangs",
    "linked-elsewhere": "a1: not graded, refused",
    "zip-bomb": "a1: not graded, refused",
    "zip-traversal": "a1: not graded, refused",
    "zip-absolute": "a1: not graded, refused",
    "not-a-zip": "a1: not graded, refused",
}

#: A student's message in the grader's words (see graders/failures.py).
IMITATION = (
    "did not finish within 20 s (it was stopped); transpose crashed: it was killed by "
    "signal SIGKILL; could not import a1/vectorized.py: SyntaxError: invalid syntax"
)

ESCAPE_ATTEMPT = """
import os as _os
for _target in ("../../escaped.txt", "../../../escaped.txt", "/tmp/nngrade-escaped.txt"):
    try:
        with open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), _target), "w") as _f:
            _f.write("escaped")
    except OSError:
        pass
"""


def _zip_folder(folder: Path, archive: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, prefix + path.relative_to(folder).as_posix())


def _reference_copy(root: Path, name: str) -> Path:
    return build_submission(root / name, assignment="a1")


def build_class(root: Path) -> dict[str, dict[str, float] | str]:
    """Write the class into ``root``; return each student's expected points (or REJECTED)."""
    root.mkdir(parents=True, exist_ok=True)
    scratch = root.parent / (root.name + "-scratch")
    expected: dict[str, dict[str, float] | str] = {}

    # -- correct work, in every shape an export takes ---------------------------------------
    for i in range(1, 7):
        _reference_copy(root, f"correct-{i}")
        expected[f"correct-{i}"] = dict(FULL)
    _zip_folder(_reference_copy(scratch, "flat"), root / "zip-flat.zip")
    expected["zip-flat"] = dict(FULL)
    _zip_folder(_reference_copy(scratch, "wrapped"), root / "zip-wrapped.zip", "nn-lab-zoe-main/")
    expected["zip-wrapped"] = dict(FULL)
    with_clutter = _reference_copy(root, "with-git-and-cache")
    (with_clutter / ".git").mkdir()
    (with_clutter / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (with_clutter / "a1" / "__pycache__").mkdir(exist_ok=True)  # a developer's own may be there
    (with_clutter / "a1" / "__pycache__" / "pure.cpython-311.pyc").write_bytes(b"\0" * 64)
    expected["with-git-and-cache"] = dict(FULL)

    # -- partial work: the seeded bugs of assignment 1's own tests --------------------------
    for i, (edits, broken) in enumerate(SEEDED_BUGS.values(), start=1):
        build_submission(root / f"partial-{i}", edits=edits)
        expected[f"partial-{i}"] = {**FULL, **broken}

    # -- broken work -----------------------------------------------------------------------
    shutil.copytree(TEMPLATE / "a1", root / "stub" / "a1")
    expected["stub"] = dict(ZERO)
    build_submission(root / "syntax-error", edits={"a1/pure.py": lambda s: s + "\ndef broken(:\n"})
    expected["syntax-error"] = {**FULL, **PURE_LOST}
    build_submission(
        root / "crash-on-import",
        edits={"a1/vectorized.py": lambda s: s + "\nraise RuntimeError('half-finished')\n"},
    )
    expected["crash-on-import"] = {**FULL, **VECTORIZED_LOST}
    build_submission(
        root / "numpy-in-pure",
        edits={"a1/pure.py": replace_once("import math\n", "import math\nimport numpy as np\n")},
    )
    expected["numpy-in-pure"] = {**FULL, **PURE_RULE_LOSS}
    only_vectorized = _reference_copy(root, "missing-file")
    (only_vectorized / "a1" / "pure.py").unlink()
    expected["missing-file"] = {**FULL, **PURE_LOST}
    (root / "empty").mkdir()
    expected["empty"] = dict(ZERO)

    # -- hostile work ----------------------------------------------------------------------
    build_submission(
        root / "hangs",
        edits={"a1/vectorized.py": inject_at_start("solve_inverse", "while True: pass")},
    )  # fmt: skip
    expected["hangs"] = TIMEOUT
    build_submission(
        root / "kills-its-worker",
        edits={"a1/vectorized.py": inject_at_start("transpose", "import os; os._exit(3)")},
    )  # fmt: skip
    expected["kills-its-worker"] = {**FULL, "vectorized.basic_ops": 0.8, "agreement": 0}
    # Its exception's message imitates every phrase the grader writes of a hang, a crash
    # and a module that does not import: it is still a raise, and the gradebook says nothing.
    build_submission(
        root / "imitates-the-grader",
        edits={"a1/vectorized.py": inject_at_start("transpose", f"raise ValueError({IMITATION!r})")},
    )  # fmt: skip
    expected["imitates-the-grader"] = {**FULL, "vectorized.basic_ops": 0.8, "agreement": 0}
    build_submission(
        root / "eats-memory",
        edits={"a1/pure.py": inject_at_start("transpose", "hog = bytearray(64 * 2**30)")},
    )  # fmt: skip
    expected["eats-memory"] = {**FULL, "pure.basic_ops": 1.2, "agreement": 0}
    build_submission(root / "escapes", edits={"a1/pure.py": lambda s: s + ESCAPE_ATTEMPT})
    expected["escapes"] = dict(FULL)
    os.symlink("/etc", root / "linked-elsewhere")
    expected["linked-elsewhere"] = REJECTED
    inner_link = _reference_copy(root, "inner-symlink")
    (inner_link / "a1" / "pure.py").unlink()
    os.symlink("/etc/passwd", inner_link / "a1" / "pure.py")
    expected["inner-symlink"] = {**FULL, **PURE_LOST}

    # -- malformed uploads -----------------------------------------------------------------
    with zipfile.ZipFile(root / "zip-bomb.zip", "w", zipfile.ZIP_DEFLATED) as bomb:
        info = zipfile.ZipInfo("a1/pure.py")
        with bomb.open(info, "w", force_zip64=True) as stream:
            block = b"\0" * 2**20
            for _ in range(300):
                stream.write(block)
    expected["zip-bomb"] = REJECTED
    with zipfile.ZipFile(root / "zip-traversal.zip", "w") as traversal:
        traversal.writestr("a1/pure.py", "x = 1\n")
        traversal.writestr("../../outside.py", "owned = True\n")
    expected["zip-traversal"] = REJECTED
    with zipfile.ZipFile(root / "zip-absolute.zip", "w") as absolute:
        absolute.writestr("/tmp/nngrade-absolute.py", "owned = True\n")
    expected["zip-absolute"] = REJECTED
    (root / "not-a-zip.zip").write_bytes(b"this is a PDF, renamed\n" * 10)
    expected["not-a-zip"] = REJECTED
    _zip_folder(_reference_copy(scratch, "zip-with-symlink"), root / "zip-with-symlink.zip")
    with zipfile.ZipFile(root / "zip-with-symlink.zip", "a") as bundle:
        link = zipfile.ZipInfo("a1/secrets.txt")
        link.external_attr = 0o120777 << 16
        bundle.writestr(link, "/etc/shadow")
    expected["zip-with-symlink"] = dict(FULL)
    shutil.rmtree(scratch)
    (root / "roster.csv").write_text("name,email\n")  # not a submission: ignored
    return expected
