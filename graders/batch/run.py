"""Grade a whole class: ``nngrade grade <assignment|all> SUBMISSIONS --out DIR``.

The output folder accumulates: each run grades what changed and keeps the rest.

    DIR/gradebook.csv           one row per student (written atomically after every job)
    DIR/students/<id>.json      every outcome of that student, with what it was graded with
    DIR/feedback/<id>.md|.html  what the student reads: every lost point and why
    DIR/artifacts/<id>/         report files (e.g. an episode animation for a5)
    DIR/summary.md              distributions, costly criteria, what could not be graded
    DIR/histogram-<a>.svg       totals of assignment <a>
    DIR/run.json                how the last run was made: versions, seed, engine, timings
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from graders import __version__, catalog
from graders.batch import feedback, gradebook, summary
from graders.batch.engines import make_engine
from graders.batch.environment import describe_environment, secrets_digest
from graders.batch.intake import RejectedSubmission, Submission, discover, fingerprint, take_in
from graders.batch.job import Job, JobStatus, Outcome
from graders.batch.records import StudentRecord, write_atomically
from graders.core.options import GradeOptions
from graders.core.secrets import load_secrets, secrets_path
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
    #: by the run. Every job's workers get the promised cores' threads, whatever ``jobs``.
    grading: GradeOptions = field(default_factory=GradeOptions)
    force: bool = False
    progress: bool = True
    #: Wall-clock limit per submission and assignment; None: the assignment's own limit.
    job_timeout_s: float | None = None


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


def _settings_digest(options: BatchOptions, secrets: dict) -> str:
    """What besides the submission decides the points: grader version, seed, secrets, data."""
    grading = options.grading
    eval_set = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in grading.eval_set or ()]
    parts = [__version__, str(grading.seed), secrets_digest(secrets), *eval_set]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="job", disable=not enabled or total == 0, dynamic_ncols=True,
                file=sys.stderr, desc="grading", smoothing=0.1)  # fmt: skip


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
    settings = _settings_digest(options, secrets)
    out.mkdir(parents=True, exist_ok=True)
    students_dir = out / "students"
    records = {
        s.student: StudentRecord.load(students_dir / f"{s.student}.json")
        or StudentRecord(s.student)
        for s in submissions
    }
    report = BatchReport(submissions=len(submissions))
    # The jobs read the same secrets file, also when $NNGRADE_SECRETS named it.
    grading = dataclasses.replace(
        options.grading,
        secrets_file=secrets_path(options.grading.secrets_file),
    )

    def save(student: str) -> None:
        records[student].save(students_dir / f"{student}.json")
        write_atomically(out / "gradebook.csv", gradebook.render(list(records.values())))

    with tempfile.TemporaryDirectory(dir=out, prefix=".intake-") as workdir:
        jobs: list[Job] = []
        for submission in submissions:
            jobs += _plan(submission, options, grading, settings, records, report,
                          Path(workdir), out, save)  # fmt: skip
        bar = _progress(len(jobs), options.progress)
        try:
            for outcome in make_engine(options.engine, options.jobs, options.scheduler).run(jobs):
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
                bar.update(1)
                bar.set_postfix(errors=report.errors, rejected=report.rejected, refresh=False)
        finally:
            bar.close()

    _write_reports(list(records.values()), out, report, options, started, secrets)
    return report


def _plan(
    submission: Submission,
    options: BatchOptions,
    grading: GradeOptions,
    settings: str,
    records: dict[str, StudentRecord],
    report: BatchReport,
    workdir: Path,
    out: Path,
    save,
) -> list[Job]:
    """The jobs this submission needs; rejections are recorded at once."""
    record = records[submission.student]
    digest = fingerprint(submission)
    pending = []
    for key in options.assignments:
        job_fingerprint = hashlib.sha256(f"{digest}:{key}:{settings}".encode()).hexdigest()
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
                                           error=str(why))  # fmt: skip
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
                grading, artifacts_dir=out / "artifacts" / submission.student
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
    write_atomically(out / "summary.md", report.summary + "\n" + report.line() + "\n")
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
        "seconds": round(report.seconds, 1),
    }  # fmt: skip
    write_atomically(out / "run.json", json.dumps(run, indent=2) + "\n")
