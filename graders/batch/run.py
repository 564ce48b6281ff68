"""Grade a whole class: ``nngrade grade <assignment|all> SUBMISSIONS --out DIR``.

The output folder accumulates: each run grades what changed and keeps the rest.

    DIR/gradebook.csv           one row per student (written atomically after every job)
    DIR/students/<id>.json      every outcome of that student, with what it was graded with
    DIR/feedback/<id>.md|.html  what the student reads: every lost point and why
    DIR/artifacts/<id>/         report files (e.g. an episode animation for a5)
    DIR/summary.md              distributions, costly criteria, what could not be graded
    DIR/summary.html            the same and the lab total so far, as one page with links
    DIR/histogram-<a>.svg       totals of assignment <a>
    DIR/run.json                how the last run was made: versions, seed, engine, timings
    DIR/changes.md              every run that moved someone's points: who, by how much, why

and reads, on every run, what the instructor keeps there:

    DIR/adjustments.csv         points added, taken or set by hand (graders.batch.adjustments_file)
    DIR/late-policy.json        the late-submission rule and deadlines (graders.batch.late)

``--dry-run`` grades (or reuses) the same way and says whose points would move, writing
nothing into DIR.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from graders import __version__, catalog
from graders.batch import (
    changes,
    changes_report,
    criteria,
    feedback,
    gradebook,
    summary,
    summary_page,
)
from graders.batch.adjusting import AdjustingError, ClassAdjustments
from graders.batch.engines import make_engine
from graders.batch.environment import describe_environment, secrets_digest
from graders.batch.intake import RejectedSubmission, Submission, discover, fingerprint, take_in
from graders.batch.job import Job, JobStatus, Outcome
from graders.batch.progress import ClassProgress
from graders.batch.records import StudentRecord, write_atomically
from graders.core.options import GradeOptions
from graders.core.secrets import load_secrets, secrets_path
from graders.render import encode
from graders.sandbox import confinement


class BatchError(Exception):
    """The run cannot start (bad folder, unknown assignment, missing extra)."""


@dataclass
class BatchOptions:
    assignments: tuple[str, ...]
    submissions: Path
    out: Path
    jobs: int = 1
    engine: str = "local"
    scheduler: str | None = None
    #: How every job grades (seed, sandbox, data, secrets); per-job artifact folders are set
    #: by the run. Every job's workers get the assignment's threads, whatever ``jobs``.
    grading: GradeOptions = field(default_factory=GradeOptions)
    force: bool = False
    progress: bool = True
    #: Wall-clock limit per submission and assignment; None: the assignment's own limit.
    job_timeout_s: float | None = None
    #: Grade (or reuse) and compare with the folder's records, writing nothing into ``out``.
    dry_run: bool = False


@dataclass
class BatchReport:
    submissions: int = 0
    graded: int = 0
    skipped: int = 0
    rejected: int = 0
    timed_out: int = 0
    errors: int = 0
    seconds: float = 0.0
    summary: str = ""
    graded_jobs: list[tuple[str, str]] = field(default_factory=list)
    #: This run's moves as a changes.md section ("" when nobody's points moved).
    changes: str = ""
    #: Students whose points moved, and adjustments that did not apply (with why).
    moved: int = 0
    waiting: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.submissions} submissions: {self.graded} graded, {self.skipped} unchanged "
            f"(skipped), {self.rejected} rejected, {self.timed_out} timed out, {self.errors} "
            f"errors in {self.seconds:.0f} s"
        )


def resolve_assignments(name: str) -> tuple[str, ...]:
    """``all`` means every assignment whose grader and extra are installed here."""
    keys = catalog.assignment_keys() if name == "all" else (name,)
    usable = []
    for key in keys:
        spec = catalog.spec(key)
        missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
        if missing:
            why = f'pip install "nngrade[{spec.extra}]"'
            if name != "all":
                raise BatchError(f"cannot grade {key}: {why}")
            print(f"nngrade: warning: skipping {key} ({why})", file=sys.stderr)
            continue
        usable.append(key)
    return tuple(usable)


@dataclass(frozen=True)
class Settings:
    """What besides the submission decides the points (grader version, seed, secrets,
    data): one digest for the jobs' fingerprints, and the parts for ``Outcome.inputs``."""

    digest: str
    inputs: dict[str, str]

    @classmethod
    def of(cls, options: BatchOptions, secrets: dict) -> Settings:
        grading = options.grading
        eval_set = [
            hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in grading.eval_set or ()
        ]
        parts = [__version__, str(grading.seed), secrets_digest(secrets), *eval_set]
        eval_digest = hashlib.sha256("".join(eval_set).encode()).hexdigest() if eval_set else ""
        inputs = {
            "grader": __version__,
            "seed": str(grading.seed),
            "secrets": secrets_digest(secrets),
            "evaluation_set": eval_digest,
        }
        return cls(hashlib.sha256("\n".join(parts).encode()).hexdigest(), inputs)

    def job_inputs(self, submission_digest: str, key: str) -> dict[str, str]:
        """What one student's assignment is graded from."""
        own = {"submission": submission_digest, "grader_source": criteria.source_digest(key)}
        return {**self.inputs, **own}


def grade_class(options: BatchOptions) -> BatchReport:
    started = time.monotonic()
    out = Path(options.out)
    try:
        submissions = discover(options.submissions)
    except FileNotFoundError as error:
        raise BatchError(str(error)) from None
    # --out inside the submissions folder is not a student.
    submissions = [s for s in submissions if s.source.resolve() != out.resolve()]
    secrets = load_secrets(options.grading.secrets_file)
    # Refuse the whole run up front when this machine's sandbox lacks a required layer.
    confinement.select(options.grading.confinement, options.grading.require)
    settings = Settings.of(options, secrets)
    students_dir = out / "students"
    records = {
        s.student: StudentRecord.load(students_dir / f"{s.student}.json")
        or StudentRecord(s.student)
        for s in submissions
    }
    # Adjustments are checked before anything is graded or written: a typo stops the run.
    graded_keys = {*options.assignments, *(k for r in records.values() for k in r.outcomes)}
    try:
        adjusting = ClassAdjustments.load(out, submissions, graded_keys)
    except AdjustingError as error:
        raise BatchError(str(error)) from None
    before = changes.marks(records.values())
    saved = {student: record.to_json() for student, record in records.items()}
    if not options.dry_run:
        out.mkdir(parents=True, exist_ok=True)
    report = BatchReport(submissions=len(submissions))
    # The jobs read the same secrets file, also when $NNGRADE_SECRETS named it.
    grading = dataclasses.replace(
        options.grading,
        secrets_file=secrets_path(options.grading.secrets_file),
    )

    def save(student: str) -> None:
        adjusting.apply(records[student])
        if options.dry_run:
            return
        records[student].save(students_dir / f"{student}.json")
        saved[student] = records[student].to_json()
        write_atomically(out / "gradebook.csv", gradebook.render(list(records.values())))

    intake = None if options.dry_run else out
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=intake, prefix=".intake-") as workdir:
        artifacts = Path(workdir, "artifacts") if options.dry_run else out / "artifacts"
        jobs: list[Job] = []
        for submission in submissions:
            digests[submission.student] = fingerprint(submission)
            jobs += _plan(submission, digests[submission.student], options, grading, settings,
                          records, report, Path(workdir), artifacts, save)  # fmt: skip
        bar = ClassProgress(len(jobs), options.progress)
        try:
            listener = bar.event if bar.live else None  # nobody sees criteria in a log
            engine = make_engine(options.engine, options.jobs, options.scheduler, listener)
            for outcome in engine.run(jobs):
                outcome.inputs = settings.job_inputs(digests[outcome.student], outcome.assignment)
                records[outcome.student].outcomes[outcome.assignment] = outcome
                save(outcome.student)
                report.graded_jobs.append((outcome.student, outcome.assignment))
                if outcome.status == JobStatus.OK:
                    report.graded += 1
                elif outcome.status == JobStatus.REJECTED:
                    report.rejected += 1
                elif outcome.status == JobStatus.TIMEOUT:
                    report.timed_out += 1
                else:
                    report.errors += 1
                bar.done(outcome, errors=report.errors, rejected=report.rejected)
        finally:
            bar.close()

    for record in records.values():
        adjusting.apply(record)
    comparison = changes.compare(before, changes.marks(records.values()))
    report.moved = len(comparison.students)
    report.waiting = adjusting.waiting(records.values())
    if comparison.moves:
        now = datetime.datetime.now().astimezone()
        report.changes = changes_report.markdown_section(comparison, now, options.assignments)
    if options.dry_run:
        report.seconds = time.monotonic() - started
        return report
    for student, record in records.items():  # adjustments changed without a regrade
        if record.to_json() != saved[student]:
            record.save(students_dir / f"{student}.json")
    _write_reports(list(records.values()), out, report, options, started, secrets, comparison)
    return report


def _plan(
    submission: Submission,
    digest: str,
    options: BatchOptions,
    grading: GradeOptions,
    settings: Settings,
    records: dict[str, StudentRecord],
    report: BatchReport,
    workdir: Path,
    artifacts: Path,
    save,
) -> list[Job]:
    """The jobs this submission (whose content hash is ``digest``) needs; rejections are
    recorded at once."""
    record = records[submission.student]
    pending = []
    for key in options.assignments:
        job_fingerprint = hashlib.sha256(f"{digest}:{key}:{settings.digest}".encode()).hexdigest()
        if not options.force and record.up_to_date(key, job_fingerprint):
            report.skipped += 1
        else:
            pending.append((key, job_fingerprint))
    if not pending:
        return []
    try:
        folder, notices = take_in(submission, workdir)
    except RejectedSubmission as why:
        for key, job_fingerprint in pending:
            record.outcomes[key] = Outcome(submission.student, key, job_fingerprint, JobStatus.REJECTED,
                                           error=str(why), inputs=settings.job_inputs(digest, key))  # fmt: skip
            report.rejected += 1
            report.graded_jobs.append((submission.student, key))
        save(submission.student)
        return []
    return [
        Job(
            student=submission.student,
            assignment=key,
            folder=str(folder),
            fingerprint=job_fingerprint,
            options=dataclasses.replace(
                grading, artifacts_dir=artifacts / submission.student, student_id=submission.student
            ),
            notices=tuple(notices),
            timeout_s=options.job_timeout_s,
        )
        for key, job_fingerprint in pending
    ]


def evaluation_set_note(options: BatchOptions, secrets: dict) -> str:
    """Which images the accuracy criteria used, for the summary and the run record."""
    from graders.data.perturb import seed_from

    uses_mnist = any(catalog.spec(key).uses_mnist for key in options.assignments)
    if not uses_mnist:
        return ""
    if options.grading.eval_set:
        return "the instructor's held-out evaluation set (--eval-set)"
    if seed_from(secrets)[1]:
        return "the public MNIST test set with a secret seeded perturbation (no exact look-up)"
    return (
        "the public MNIST test set with the public perturbation: students can memorise it; "
        "give --eval-set (a held-out set) or a secret mnist.perturbation_seed in --secrets"
    )


def _write_reports(
    records: list[StudentRecord],
    out: Path,
    report: BatchReport,
    options: BatchOptions,
    started: float,
    secrets: dict,
    comparison: changes.Comparison,
) -> None:
    write_atomically(out / "gradebook.csv", gradebook.render(records))
    for record in records:
        write_atomically(out / "feedback" / f"{record.student}.md", feedback.markdown(record))
        write_atomically(out / "feedback" / f"{record.student}.html", feedback.html_page(record))
    report.seconds = time.monotonic() - started
    report.summary = summary.write_summary(records, out)
    evaluation = evaluation_set_note(options, secrets)
    if evaluation:
        report.summary += f"\n\nAccuracy measured on: {evaluation}.\n"
    report.summary += _adjustments_note(records, report)
    if report.changes:
        changes_report.prepend(out / changes_report.FILE, report.changes)
        report.summary += f"\n{changes_report.headline(comparison)} Who and why: changes.md.\n"
    write_atomically(out / "summary.md", report.summary + "\n" + report.line() + "\n")
    accuracy = f"Accuracy measured on: {evaluation}." if evaluation else ""
    summary_page.write(records, out, notes=[accuracy, report.line()],
                       changes=changes_report.html_section(comparison))  # fmt: skip
    run = {
        "line": report.line(),
        "assignments": list(options.assignments),
        "seed": options.grading.seed,
        "engine": options.engine,
        "jobs": options.jobs,
        "secrets": "instructor secrets used" if secrets else "none",
        "evaluation_set": evaluation or None,
        "environment": describe_environment(),
        "graded": report.graded,
        "skipped": report.skipped,
        "rejected": report.rejected,
        "timed_out": report.timed_out,
        "errors": report.errors,
        "students_moved": report.moved,
        "seconds": round(report.seconds, 1),
    }  # fmt: skip
    write_atomically(out / "run.json", json.dumps(run, indent=2) + "\n")


def _adjustments_note(records: list[StudentRecord], report: BatchReport) -> str:
    """The summary's lines on adjustments: how many applied, and any that did not."""
    applied = [a for r in records for adjusted in r.adjusted.values() for a in adjusted.applied]
    if not applied and not report.waiting:
        return ""
    late = sum(a.source == "late policy" for a in applied)
    students = sum(any(adjusted.applied for adjusted in r.adjusted.values()) for r in records)
    lines = ["", "## Adjustments", "",
             f"{len(applied)} applied ({late} by the late policy) to {students} students; "
             "the gradebook's adjustments column and each feedback page list them."]  # fmt: skip
    if report.waiting:
        lines += ["", "Not applied:", ""]
        lines += [f"- {encode.markdown(line)}" for line in report.waiting]
    return "\n".join(lines) + "\n"
