"""When a student handed an assignment in, for the late policy, and how that was found.

In order of trust: a git repository's commit time (of the last commit that changed the
assignment's folder, so that an export made weeks later does not make every earlier
assignment late; a folder with changes not committed is dated by its files instead),
else for a zip the newest date among the assignment's members, else the newest
modification time of the assignment's files. Each answer says which it used, since the
student's feedback quotes it. All of these are set by the student's machine: the late
policy uses them only when told to (``graders.batch.late``, ``"times"``).

git runs on untrusted repositories: as ``git log`` only (no hooks run), with the
repository's commands that ``log`` could start switched off (signature checks, the file
system monitor, a pager), no system or user configuration, no prompt, and a timeout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graders.batch.intake import Submission, repository_root

GIT_TIMEOUT_S = 10.0
#: Configuration that stops anything a repository's own config could make ``git log`` run.
_GIT_SAFETY = (
    "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
    "-c", "log.showSignature=false", "-c", "safe.directory=*", "-c", "core.pager=cat",
)  # fmt: skip


@dataclass(frozen=True)
class Submitted:
    at: dt.datetime  # time-zone aware
    how: str  # e.g. "git commit time of the last commit changing a1/"


def submitted_at(submission: Submission, key: str, zone: dt.tzinfo) -> Submitted | None:
    """When ``key`` of ``submission`` was handed in; None when it holds no file of it.
    Times without a zone (zip entries) are read in ``zone``."""
    source = Path(os.path.abspath(submission.source))  # git runs in another folder
    if source.is_symlink():
        return None
    if submission.kind == "zip":
        return _zip_time(source, key, zone)
    root = repository_root(source)
    newest = _newest_file(root / key, key)
    if newest is None:
        return None
    for folder in dict.fromkeys((root, source)):
        git = folder / ".git"
        if git.is_dir() and not git.is_symlink():
            if _uncommitted(folder, key):
                return Submitted(newest.at, f"newest {key}/ file modification time "
                                 "(changes not committed to git)")  # fmt: skip
            found = _git_time(folder, key)
            if found is not None:
                return found
    return newest


def _uncommitted(folder: Path, key: str) -> bool:
    """Whether ``key/`` holds a file that HEAD does not (edited or new), compared by git's
    own blob hash in Python: ``git status`` could run clean filters the repository's
    config names, and nothing of the student's may run here."""
    listing = _git(folder, ["ls-tree", "-r", "-z", "HEAD", "--", f"{key}/"], strip=False)
    if not listing:
        return False  # no commit, or none holds key/: dated by its files anyway
    committed: dict[str, str] = {}
    for entry in filter(None, listing.split("\0")):
        info, _, name = entry.partition("\t")
        parts = info.split()
        if len(parts) == 3 and parts[1] == "blob":
            committed[name] = parts[2]
    for path in _own_files(folder / key):
        name = path.relative_to(folder).as_posix()
        blob = committed.get(name)
        if blob is None or _blob_id(path, len(blob)) != blob:
            return True
    return False


def _blob_id(path: Path, length: int) -> str:
    """git's object id of the file's content (SHA-1, or SHA-256 in such repositories)."""
    data = path.read_bytes()
    digest = hashlib.sha256() if length == 64 else hashlib.sha1()  # noqa: S324 - git's id
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _git_time(folder: Path, key: str) -> Submitted | None:
    """The commit time of the last commit that changed ``key/`` (or of HEAD when none did)."""
    for pathspec, how in (
        ([f"{key}/"], f"git commit time of the last commit changing {key}/"),
        ([], "git commit time of HEAD"),
    ):
        text = _git(folder, ["log", "-1", "--format=%cI", *(["--", *pathspec] if pathspec else [])])
        if text:
            try:
                return Submitted(dt.datetime.fromisoformat(text), how)
            except ValueError:
                return None
    return None


def _git(folder: Path, arguments: list[str], strip: bool = True) -> str:
    """git's output (stripped); "" when git is missing, fails or takes too long."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.devnull,
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_CEILING_DIRECTORIES": str(folder.parent),
    }
    command = ["git", *_GIT_SAFETY, "--git-dir", str(folder / ".git"), "--work-tree",
               str(folder), "--no-pager", *arguments]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=folder, env=environment, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, errors="replace", timeout=GIT_TIMEOUT_S,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if done.returncode != 0:
        return ""
    return done.stdout.strip() if strip else done.stdout


def _zip_time(archive: Path, key: str, zone: dt.tzinfo) -> Submitted | None:
    """The newest date among the zip's files in a ``key/`` folder (it may be wrapped)."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = [e for e in bundle.infolist() if not e.is_dir() and _counts(e.filename)]
    except (OSError, zipfile.BadZipFile):
        return None
    own = [e for e in entries if key in PurePosixPath(e.filename.replace("\\", "/")).parts[:-1]]
    if not own:
        return None
    newest = max(dt.datetime(*entry.date_time, tzinfo=zone) for entry in own)
    return Submitted(newest, f"newest {key}/ file date in the zip")


def _counts(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return bool(parts) and parts[0] != "__MACOSX" and parts[-1] != ".DS_Store"


def _own_files(folder: Path) -> list[Path]:
    """The student's files in ``folder``: no hidden ones, caches or links."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [
        path
        for path in folder.rglob("*")
        if not any(p.startswith(".") or p == "__pycache__" for p in path.relative_to(folder).parts)
        and path.is_file() and not path.is_symlink()
    ]  # fmt: skip


def _newest_file(folder: Path, key: str) -> Submitted | None:
    """The newest modification time among the files of ``folder`` (``key/``)."""
    times = [path.lstat().st_mtime for path in _own_files(folder)]
    if not times:
        return None
    newest = dt.datetime.fromtimestamp(max(times), dt.timezone.utc)
    return Submitted(newest, f"newest {key}/ file modification time (no git history)")
