"""``nngrade similarity``: read a class, rank its pairs, write the report."""

from __future__ import annotations

import datetime
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from graders import __version__, catalog
from graders.batch.records import write_atomically
from graders.render import encode
from graders.similarity import defaults, rank, report, sources


class SimilarityError(Exception):
    """The input cannot be compared; the message says what to do."""


@dataclass(frozen=True)
class SimilarityOptions:
    assignment: str
    submissions: Path
    out: Path
    template: Path = sources.DEFAULT_TEMPLATE
    top: int = defaults.TOP
    threshold: float = defaults.THRESHOLD
    common: float = defaults.COMMON_SHARE


@dataclass
class SimilarityReport:
    ranking: rank.Ranking
    skipped: dict[str, str]
    seconds: float
    files: list[Path] = field(default_factory=list)

    def summary(self, shown: int = 10) -> str:
        """Lines for the terminal: the best pairs and the groups (names encoded)."""
        ranking = self.ranking
        lines = [
            f"Compared {len(ranking.students)} submissions ({ranking.compared:,} pairs) in "
            f"{self.seconds:.1f} s"
            + (f"; {len(self.skipped)} without code to compare" if self.skipped else "")
            + "."
        ]
        for number, pair in enumerate(ranking.pairs[:shown], 1):
            a, b = ranking.students[pair.a].student, ranking.students[pair.b].student
            lines.append(
                f"{number:>3}. {report.percent(pair.similarity):>4}  {encode.terminal(a)} and "
                f"{encode.terminal(b)} ({report.percent(pair.share_a)} / "
                f"{report.percent(pair.share_b)})"
            )
        for number, group in enumerate(ranking.groups, 1):
            names = ", ".join(encode.terminal(ranking.students[m].student) for m in group)
            lines.append(f"Group {number} ({len(group)} students): {names}")
        return "\n".join(lines)


def check_options(options: SimilarityOptions) -> None:
    """Raise SimilarityError for input that cannot be compared, before reading anything."""
    if not options.submissions.is_dir():
        raise SimilarityError(
            f"submissions folder '{options.submissions}' does not exist or is not a folder"
        )
    if options.out.exists() and not options.out.is_dir():
        raise SimilarityError(f"--out '{options.out}' is a file; give a folder")
    if not options.template.is_dir():
        raise SimilarityError(
            f"template folder '{options.template}' does not exist; pass --template DIR, the "
            "folder the students' assignment folders were copied from (student_template/)"
        )
    if not 0 < options.threshold <= 1:
        raise SimilarityError("--threshold must be a share in (0, 1], e.g. 0.5")
    if not 0 < options.common <= 1:
        raise SimilarityError("--common must be a share in (0, 1], e.g. 0.5")
    if options.top < 1:
        raise SimilarityError("--top must be at least 1")


def run(options: SimilarityOptions) -> SimilarityReport:
    """Compare every pair of the class's submissions and write the report into ``out``."""
    check_options(options)
    spec = catalog.spec(options.assignment)
    template_files = sources.template_files(spec, options.template)
    if not template_files:
        raise SimilarityError(
            f"no code for {spec.key} in the template folder '{options.template}' (expected "
            f"{spec.folder}/ with {', '.join(spec.required_files)}); pass --template DIR"
        )
    started = time.perf_counter()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=options.out, prefix=".intake-") as workdir:
        code, skipped = sources.class_code(spec, options.submissions, Path(workdir))
        if len(code) < 2:
            raise SimilarityError(
                f"found {len(code)} submission(s) with code for {spec.key} in "
                f"'{options.submissions}'; comparing needs at least two (one folder or zip "
                "file per student)"
            )
        template = rank.template_kgrams(template_files)
        students = [rank.fingerprint_code(c, template) for c in code]
    ranking = rank.rank(
        students,
        template_size=len(template),
        top=options.top,
        threshold=options.threshold,
        common=options.common,
    )
    seconds = time.perf_counter() - started
    today = datetime.date.today().isoformat()
    page = report.html_page(
        ranking,
        title=f"Code similarity: {spec.key}, {spec.title}",
        template_labels=[f"{options.template.name}/{f.label}" for f in template_files],
        skipped=skipped,
        generated=f"nngrade {__version__}, {today}, {seconds:.1f} s",
    )
    html_file, csv_file = options.out / "similarity.html", options.out / "similarity.csv"
    write_atomically(html_file, page)
    write_atomically(csv_file, report.csv_text(ranking))
    return SimilarityReport(ranking, skipped, seconds, [html_file, csv_file])
