"""Turn a class export (per-student folders or zip files) into gradable folders, safely.

A submission is whatever GitHub Classroom or an LMS exported for one student: a folder, or
a zip file. Zips are untrusted: every entry is checked before anything is written (no
absolute paths, no ``..``, no links, no devices), and sizes are counted while
decompressing, not taken from the zip's own headers, so a zip bomb stops at the limit.
A submission that cannot be taken in is rejected with a reason; the others go on.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graders import catalog
from graders.core import notebooks

MAX_UNPACKED_BYTES = 256 * 2**20  # a class of 1,000 then needs at most 256 GB; agent.pt <= 10 MB
MAX_FILES = 5_000
CHUNK = 2**20


class RejectedSubmission(Exception):
    """This student's submission cannot be graded; the message says why (shown to them)."""


@dataclass(frozen=True)
class Submission:
    """One student's work as found in the class folder."""

    student: str  # a safe identifier: the folder or zip name
    source: Path  # the folder or zip as exported
    kind: str  # "folder" | "zip"


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def student_id(name: str) -> str:
    """A file-name-safe identifier from a folder or zip name."""
    return _UNSAFE.sub("_", name).strip("._") or "student"


def discover(root: Path) -> list[Submission]:
    """Every submission directly inside ``root``, sorted by student; hidden entries skipped."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"submissions folder '{root}' does not exist or is not a folder")
    found: list[Submission] = []
    taken: set[str] = set()
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name.startswith("__"):
            continue
        if entry.suffix.lower() == ".zip":
            kind, name = "zip", entry.stem
        elif entry.is_dir() or entry.is_symlink():
            kind, name = "folder", entry.name
        else:
            continue  # a stray file (a CSV of names, a README): not a submission
        student = student_id(name)
        while student in taken:  # bob/ and bob.zip: keep both, distinctly
            student += "_"
        taken.add(student)
        found.append(Submission(student, entry, kind))
    return found


def fingerprint(submission: Submission) -> str:
    """A digest of the submission's bytes: unchanged work gives the same fingerprint (a
    notebook counts by its cells' sources, so re-running its cells changes nothing)."""
    digest = hashlib.sha256()
    source = submission.source
    if source.is_symlink():
        digest.update(b"symlink:" + str(source.readlink()).encode())
    elif submission.kind == "zip" and source.is_file():
        _hash_file(source, digest)
    elif source.is_dir():
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source).as_posix()
            if any(part.startswith(".") or part == "__pycache__" for part in relative.split("/")):
                continue
            if path.is_symlink():
                digest.update(f"L {relative} -> {path.readlink()}\n".encode())
            elif path.is_file() and path.suffix == notebooks.SUFFIX:
                digest.update(f"N {relative} {notebooks.content_digest(path)}\n".encode())
            elif path.is_file():
                digest.update(f"F {relative} {path.stat().st_size}\n".encode())
                _hash_file(path, digest)
    return digest.hexdigest()


def _hash_file(path: Path, digest) -> None:
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)


def take_in(submission: Submission, workdir: Path) -> tuple[Path, list[str]]:
    """A folder to grade for ``submission`` and notices about what was left out.

    Folders are graded where they are (staging copies them safely); zips are unpacked into
    ``workdir``. Raises RejectedSubmission for a symlinked folder, a broken or hostile zip.
    """
    source = submission.source
    if source.is_symlink():
        raise RejectedSubmission(
            f"{source.name} is a symbolic link (to {source.readlink()}), not a folder; "
            "submit the files themselves"
        )
    if submission.kind == "folder":
        return repository_root(source), []
    target = Path(workdir) / submission.student
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    notices = unpack_zip(source, target)
    return repository_root(target), notices


def unpack_zip(archive: Path, target: Path) -> list[str]:
    """Unpack ``archive`` into ``target`` after checking every entry; notices of skips."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = bundle.infolist()
            if len(entries) > MAX_FILES:
                raise RejectedSubmission(
                    f"{archive.name} holds {len(entries):,} entries; the limit is {MAX_FILES:,}"
                )
            plan = [(entry, _safe_member_path(entry, archive.name)) for entry in entries]
            notices: list[str] = []
            written = 0
            for entry, relative in plan:
                if relative is None:
                    continue
                if _is_link(entry):
                    notices.append(f"{entry.filename} is a symbolic link in the zip; ignored")
                    continue
                destination = target.joinpath(*relative.parts)
                if entry.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(entry) as source, destination.open("wb") as sink:
                    for chunk in iter(lambda source=source: source.read(CHUNK), b""):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:
                            raise RejectedSubmission(
                                f"{archive.name} unpacks to more than "
                                f"{MAX_UNPACKED_BYTES // 2**20} MB (a zip bomb?); submit only "
                                "your source files and checkpoint"
                            )
                        sink.write(chunk)
            return notices
    except zipfile.BadZipFile as error:
        raise RejectedSubmission(f"{archive.name} is not a valid zip file ({error})") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as error:
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
        raise RejectedSubmission(f"{archive.name} cannot be unpacked: {error}") from None


def _safe_member_path(entry: zipfile.ZipInfo, archive: str) -> PurePosixPath | None:
    """The entry's relative path, None for junk to skip; RejectedSubmission when hostile."""
    name = entry.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        raise RejectedSubmission(
            f"{archive} contains the path '{entry.filename}', which points outside the "
            "submission; re-create the zip from inside your repository folder"
        )
    mode = entry.external_attr >> 16
    if mode and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
        raise RejectedSubmission(f"{archive} contains a device or pipe: {entry.filename}")
    parts = [part for part in path.parts if part not in ("", ".")]
    if not parts or parts[0] == "__MACOSX" or parts[-1] == ".DS_Store":
        return None
    return PurePosixPath(*parts)


def _is_link(entry: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(entry.external_attr >> 16)


def repository_root(folder: Path) -> Path:
    """The folder that holds a1/ ... a5/: zips often wrap a repository in one top folder."""
    current = folder
    for _ in range(3):
        if any((current / key).is_dir() for key in catalog.assignment_keys()):
            return current
        children = [c for c in current.iterdir() if not c.name.startswith((".", "__MACOSX"))]
        if len(children) != 1 or not children[0].is_dir() or children[0].is_symlink():
            return current
        current = children[0]
    return current
