"""Every pair of submissions scored by the fingerprints they share, best first.

A k-gram of the template (the code students were given) never counts, and neither
does one found in more than ``common`` of the class (at least ``COMMON_FLOOR``
submissions): what half a class writes the same way is an idiom, not a copy. What is
left of each submission is its own code; for a pair:

* ``share_a``: the part of A's fingerprints that B has too (and ``share_b`` the other way:
  a student who copied a whole file and added their own has a smaller share than the
  one copied from);
* ``similarity``: both at once, ``2 * shared / (|A| + |B|)`` (Dolos's measure), which
  ranks the pairs.

The counts of all pairs come from one product of a submissions-by-fingerprints incidence
matrix with itself, a column block at a time: 300 submissions are ~45,000 pairs, and no
pair is visited in Python. Fragments (where the shared code is) are worked out only for
the pairs shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graders.similarity import fingerprint
from graders.similarity.defaults import COMMON_FLOOR, COMMON_SHARE
from graders.similarity.normalise import TokenStream, normalise
from graders.similarity.sources import SourceFile, StudentCode

# A fingerprint found in more than COMMON_SHARE of the submissions is common knowledge, as
# long as that is more than COMMON_FLOOR submissions (a small class has no idioms).
#: Fingerprint columns multiplied at once (bounds the memory: submissions x block floats).
BLOCK = 8192
#: Occurrences of one fingerprint in one submission used to place fragments.
MAX_OCCURRENCES = 8
#: Fragments kept per pair, longest first.
MAX_FRAGMENTS = 40


@dataclass
class Fingerprinted:
    """One student's code with its fingerprints (template ones already removed)."""

    code: StudentCode
    streams: list[TokenStream]
    hashes: np.ndarray  # uint64, one per fingerprint occurrence
    files: np.ndarray  # the file of each occurrence (index into code.files)
    positions: np.ndarray  # the token where each occurrence's k-gram starts
    #: Per file, which tokens are the template's own code (never widened into).
    given: list[np.ndarray] = field(default_factory=list)
    unique: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @property
    def student(self) -> str:
        return self.code.student


@dataclass(frozen=True)
class Fragment:
    """A stretch of code two submissions share: token ranges [start, end) in one file each."""

    file_a: int
    start_a: int
    end_a: int
    file_b: int
    start_b: int
    end_b: int

    @property
    def tokens(self) -> int:
        return self.end_a - self.start_a


@dataclass
class Pair:
    a: int  # indices into Ranking.students
    b: int
    shared: int  # fingerprints both have
    similarity: float
    share_a: float  # of A's fingerprints, the part B has too
    share_b: float
    fragments: list[Fragment] = field(default_factory=list)


@dataclass
class Ranking:
    students: list[Fingerprinted]
    pairs: list[Pair]  # the best pairs, best first, with their fragments
    groups: list[list[int]]  # three or more students linked by pairs at the threshold
    #: similarity[i, j] of every pair (what groups and the report's group tables use).
    similarity: np.ndarray
    compared: int  # pairs compared
    template_kgrams: int  # distinct k-grams of the template, never counted
    common_fingerprints: int  # ignored as found in too much of the class
    common_share: float  # ... in more than this share of it
    threshold: float


def fingerprint_code(code: StudentCode, template: np.ndarray) -> Fingerprinted:
    """Normalise and fingerprint every file of ``code``. A k-gram the template has (any of
    its k-grams, not only its fingerprints) is never a fingerprint, and its tokens are
    marked, so that a fragment is not widened into the code students were given."""
    streams, hashes, files, positions, given = [], [], [], [], []
    for index, source in enumerate(code.files):
        stream = normalise(source.text)
        if stream.problem:
            code.notices.append(f"{source.label} {stream.problem}")
        kgrams = fingerprint.kgram_hashes(stream.tokens)
        in_template = np.isin(kgrams, template)
        selected = fingerprint.winnow(kgrams)
        selected = selected[~in_template[selected]]
        streams.append(stream)
        hashes.append(kgrams[selected])
        files.append(np.full(len(selected), index, dtype=np.int64))
        positions.append(selected)
        given.append(_covered(in_template, len(stream.tokens)))
    empty = np.zeros(0, dtype=np.int64)
    return Fingerprinted(
        code,
        streams,
        np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64),
        np.concatenate(files) if files else empty,
        np.concatenate(positions) if positions else empty,
        given,
    )


def _covered(kgrams: np.ndarray, tokens: int) -> np.ndarray:
    """Which tokens lie in at least one of the marked k-grams."""
    steps = np.zeros(tokens + 1, dtype=np.int64)
    starts = np.flatnonzero(kgrams)
    np.add.at(steps, starts, 1)
    np.add.at(steps, starts + fingerprint.K, -1)
    return np.cumsum(steps)[:tokens] > 0


def template_kgrams(files: list[SourceFile]) -> np.ndarray:
    """The sorted, distinct hashes of every k-gram of the template's files."""
    found = [fingerprint.kgram_hashes(normalise(f.text).tokens) for f in files]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)


def rank(
    students: list[Fingerprinted],
    *,
    template_size: int,
    top: int,
    threshold: float,
    common: float = COMMON_SHARE,
) -> Ranking:
    """Score every pair; keep the ``top`` pairs (with fragments) and the groups."""
    count = len(students)
    distinct = [np.unique(s.hashes) for s in students]
    every = np.concatenate(distinct) if distinct else np.zeros(0, dtype=np.uint64)
    values, owners = np.unique(every, return_counts=True)
    limit = max(COMMON_FLOOR, common * count)
    too_common = values[owners > limit]
    for student, hashes in zip(students, distinct, strict=True):
        student.unique = hashes[~np.isin(hashes, too_common)]
    shared_values = values[(owners >= 2) & (owners <= limit)]
    counts = _shared_counts([s.unique for s in students], shared_values)
    sizes = np.array([len(s.unique) for s in students], dtype=np.float64)
    total = sizes[:, None] + sizes[None, :]
    similarity = np.divide(2 * counts, total, out=np.zeros_like(counts), where=total > 0)
    np.fill_diagonal(similarity, 0.0)
    first, second = np.triu_indices(count, k=1)
    order = np.lexsort((-counts[first, second], -similarity[first, second]))
    order = order[counts[first[order], second[order]] > 0][:top]
    pairs = []
    for index in order:
        a, b = int(first[index]), int(second[index])
        shared = int(counts[a, b])
        pair = Pair(a, b, shared, float(similarity[a, b]), shared / sizes[a], shared / sizes[b])
        pair.fragments = fragments(students[a], students[b])
        pairs.append(pair)
    return Ranking(
        students=students,
        pairs=pairs,
        groups=groups(similarity, threshold),
        similarity=similarity,
        compared=count * (count - 1) // 2,
        template_kgrams=template_size,
        common_fingerprints=len(too_common),
        common_share=common,
        threshold=threshold,
    )


def _shared_counts(sets: list[np.ndarray], columns: np.ndarray) -> np.ndarray:
    """counts[i, j]: how many of ``columns`` (sorted) sets i and j both hold."""
    count = len(sets)
    counts = np.zeros((count, count), dtype=np.float64)
    indices = [np.searchsorted(columns, s[np.isin(s, columns)]) for s in sets]
    for start in range(0, len(columns), BLOCK):
        block = np.zeros((count, min(BLOCK, len(columns) - start)), dtype=np.float32)
        for row, held in enumerate(indices):
            inside = held[(held >= start) & (held < start + BLOCK)]
            block[row, inside - start] = 1.0
        counts += block @ block.T  # exact: float32 holds integers up to 2**24
    return counts


def groups(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected components of three or more students over pairs at ``threshold`` or
    above, largest first (a ring of copies shows as one group even where two of its
    members share little directly)."""
    count = len(similarity)
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in zip(*np.nonzero(np.triu(similarity >= threshold, k=1)), strict=True):
        parent[root(int(a))] = root(int(b))
    members: dict[int, list[int]] = {}
    for node in range(count):
        members.setdefault(root(node), []).append(node)
    found = [sorted(group) for group in members.values() if len(group) >= 3]
    return sorted(found, key=lambda group: (-len(group), group))


def fragments(a: Fingerprinted, b: Fingerprinted) -> list[Fragment]:
    """Where A and B share code: runs of fingerprints on one diagonal (same offset in
    both files), widened to the whole run of equal tokens; the longest first, none
    overlapping another."""
    common = np.intersect1d(a.unique, b.unique)
    matches = _matches(a, b, common)
    runs: list[Fragment] = []
    gap = fingerprint.K + fingerprint.WINDOW
    for (file_a, file_b, _), points in sorted(matches.items()):
        points.sort()
        start = previous = points[0]
        for point in points[1:] + [None]:
            if point is not None and point[0] - previous[0] <= gap:
                previous = point
                continue
            runs.append(_widened(a, b, file_a, file_b, start, previous))
            if point is not None:
                start = previous = point
    chosen: list[Fragment] = []
    for run in sorted(set(runs), key=lambda f: (-f.tokens, f.file_a, f.start_a)):
        trimmed: Fragment | None = run
        for other in chosen:
            trimmed = _without(trimmed, other) if trimmed else None
        if trimmed is not None and trimmed.tokens >= fingerprint.K:
            chosen.append(trimmed)
        if len(chosen) == MAX_FRAGMENTS:
            break
    return sorted(chosen, key=lambda f: (f.file_a, f.start_a))


def _matches(
    a: Fingerprinted, b: Fingerprinted, common: np.ndarray
) -> dict[tuple[int, int, int], list[tuple[int, int]]]:
    """Positions of each shared fingerprint in A and B, by (file A, file B, diagonal)."""

    def occurrences(side: Fingerprinted) -> dict[int, list[tuple[int, int]]]:
        found: dict[int, list[tuple[int, int]]] = {}
        selected = np.isin(side.hashes, common)
        for value, file, position in zip(
            side.hashes[selected].tolist(),
            side.files[selected].tolist(),
            side.positions[selected].tolist(),
            strict=True,
        ):
            places = found.setdefault(value, [])
            if len(places) < MAX_OCCURRENCES:
                places.append((file, position))
        return found

    in_a, in_b = occurrences(a), occurrences(b)
    matches: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for value, places_a in in_a.items():
        for file_a, position_a in places_a:
            for file_b, position_b in in_b.get(value, []):
                key = (file_a, file_b, position_a - position_b)
                matches.setdefault(key, []).append((position_a, position_b))
    return matches


def _widened(
    a: Fingerprinted,
    b: Fingerprinted,
    file_a: int,
    file_b: int,
    first: tuple[int, int],
    last: tuple[int, int],
) -> Fragment:
    tokens_a, tokens_b = a.streams[file_a].tokens, b.streams[file_b].tokens
    start_a, start_b = first
    end_a, end_b = last[0] + fingerprint.K, last[1] + fingerprint.K
    while start_a > 0 and start_b > 0 and tokens_a[start_a - 1] == tokens_b[start_b - 1]:
        start_a, start_b = start_a - 1, start_b - 1
    while end_a < len(tokens_a) and end_b < len(tokens_b) and tokens_a[end_a] == tokens_b[end_b]:
        end_a, end_b = end_a + 1, end_b + 1
    return Fragment(file_a, start_a, end_a, file_b, start_b, end_b)


def _without(run: Fragment, other: Fragment) -> Fragment | None:
    """``run`` less the tokens ``other`` already shows, on either side: the longer piece
    that is left (a fragment is on one diagonal, so both sides shrink alike)."""
    pieces = [(run.start_a, run.end_a)]
    for mine, theirs, same_file in (
        ((run.start_a, run.end_a), (other.start_a, other.end_a), run.file_a == other.file_a),
        ((run.start_b, run.end_b), (other.start_b, other.end_b), run.file_b == other.file_b),
    ):
        if not same_file or theirs[1] <= mine[0] or mine[1] <= theirs[0]:
            continue
        shift = run.start_a - mine[0]  # from this side's positions to A's
        cut = (theirs[0] + shift, theirs[1] + shift)
        pieces = [
            piece
            for start, end in pieces
            for piece in ((start, min(end, cut[0])), (max(start, cut[1]), end))
            if piece[1] > piece[0]
        ]
    if not pieces:
        return None
    start, end = max(pieces, key=lambda piece: piece[1] - piece[0])
    offset = run.start_b - run.start_a
    return Fragment(run.file_a, start, end, run.file_b, start + offset, end + offset)
