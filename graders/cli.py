"""The ``nngrade`` command line.

Exit status: 0 whenever grading ran (whatever the score), 2 for a usage or input error,
3 for an infrastructure error (confinement missing, grader broken), 4 when ``check --all``
graded some assignments but not others (no MNIST, an extra not installed, no folder):
the report is written all the same, the graded ones in full and each other one named
with the reason and what to do. Errors are one message that says what to do, never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders import __version__, catalog, course_files, starting
from graders.batch import ENGINES, jobs_argument
from graders.core import not_graded
from graders.core.options import GradeOptions
from graders.core.progress import AssignmentNotGraded, Listener
from graders.core.results import LabResult
from graders.core.runner import GraderBroken, MissingExtra, UnknownCriteria, grade
from graders.core.secrets import ENVIRONMENT_VARIABLE, SecretsError, load_secrets
from graders.core.stopping import Stopped, stopped_by_signals
from graders.core.submission import SubmissionError
from graders.data.mnist import MNISTError
from graders.render import FORMATS, encode, live
from graders.sandbox.confinement import (
    KINDS,
    KNOWN_LAYERS,
    STRICT_LAYERS,
    ConfinementUnavailable,
)
from graders.sandbox.left_behind import tidy_work_folders
from graders.similarity import defaults as similarity_defaults

EXIT_OK, EXIT_USAGE, EXIT_INFRASTRUCTURE, EXIT_NOT_GRADED = 0, 2, 3, 4


def _keys_help() -> str:
    """'a1 ... a5': the course's assignment keys, for help and messages."""
    return f"{catalog.assignment_keys()[0]} ... {catalog.assignment_keys()[-1]}"


#: Errors in what the user gave (exit 2), and in what grading needs to run (exit 3).
USAGE_ERRORS = (
    SubmissionError, SecretsError, UnknownCriteria, course_files.WouldOverwrite,
)  # fmt: skip
INFRASTRUCTURE_ERRORS = (
    MNISTError, MissingExtra, ConfinementUnavailable, course_files.CourseFilesMissing,
)  # fmt: skip


class CommandError(Exception):
    def __init__(self, message: str, status: int = EXIT_USAGE):
        super().__init__(message)
        self.status = status


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """Options that decide how grading runs, shared by `check` and `grade`. Each one's
    destination is the name of its GradeOptions field (see GradeOptions.from_args)."""
    parser.add_argument(
        "--confinement", choices=("auto",) + KINDS, default="auto",
        help="sandbox wrapper (default: the strongest available)",
    )  # fmt: skip
    parser.add_argument(
        "--require", action="append", default=[], metavar="LAYER",
        help=f"refuse to grade unless this confinement layer is active ({', '.join(KNOWN_LAYERS)})",
    )  # fmt: skip
    parser.add_argument(
        "--insecure-sandbox", action="store_true",
        help="grade even where the sandbox lacks a layer that grades others rely on need "
        f"({', '.join(STRICT_LAYERS)}); every report then says so. Never for grades that count",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=None, help="base seed (default: the course's fixed seed)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder holding MNIST/raw/ (torchvision layout); default: $NNGRADE_DATA, "
        "else a per-user cache, downloading MNIST with torchvision when it is missing",
    )  # fmt: skip
    parser.add_argument(
        "--eval-set", nargs=2, type=Path, metavar=("IMAGES", "LABELS"), default=None,
        help="instructors: grade accuracy on these MNIST-format IDX files instead of the "
        "MNIST test set (their labels never reach student code)",
    )  # fmt: skip
    parser.add_argument(
        "--secrets", type=Path, default=None, metavar="FILE", dest="secrets_file",
        help="instructors: JSON file of grading secrets, e.g. hidden evaluation seeds "
        f"(default: ${ENVIRONMENT_VARIABLE} when set); never shown in reports",
    )  # fmt: skip
    parser.add_argument(
        "--student", default=None, metavar="ID", dest="student_id",
        help="who handed the work in (e.g. the repository or the platform's user id): with a "
        "secret seed in --secrets, each student's inputs are drawn for them alone",
    )  # fmt: skip
    parser.add_argument(
        "--no-download", action="store_false", dest="download",
        help="never download MNIST; fail with instructions when the files are missing",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Grade Neural Networks lab assignments in a sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="grade one assignment (or --all) of one submission")
    check.add_argument(
        "assignment", nargs="?", choices=catalog.assignment_keys(), help=_keys_help()
    )
    check.add_argument(
        "--all", action="store_true",
        help="every assignment, plus the lab total; one that cannot be graded here is named "
        "with the reason and what to do (exit status 4)",
    )  # fmt: skip
    check.add_argument(
        "--submission", type=Path, default=Path.cwd(),
        help="your repository, the folder that holds a1/, a2/, ... (default: the current "
        "folder)",
    )  # fmt: skip
    check.add_argument("--format", choices=sorted(FORMATS), default="table")
    check.add_argument(
        "--output", type=Path, help="write the report to this file instead of stdout"
    )
    check.add_argument(
        "--verbose", action="store_true",
        help="show what your code printed, and every layer of the sandbox",
    )  # fmt: skip
    check.add_argument(
        "--no-progress", action="store_false", dest="progress",
        help="no progress line (shown on a terminal, for the table format only)",
    )  # fmt: skip
    check.add_argument(
        "--events", type=Path, default=None, metavar="FILE",
        help="write progress events to FILE as JSON lines while grading (for programs "
        "that show progress, such as notebook.check)",
    )  # fmt: skip
    add_grading_options(check)
    check.add_argument(
        "--artifacts", type=Path, default=None, metavar="DIR", dest="artifacts_dir",
        help="save report files here, e.g. an animation of your a5 agent's episode",
    )  # fmt: skip
    check.add_argument(
        "--only", action="append", default=[], metavar="CRITERION",
        help="grade only this criterion (repeatable; the others score 0 and show as not run)",
    )  # fmt: skip

    grade = commands.add_parser(
        "grade", help="grade a whole class: a folder of student folders or zip files"
    )
    grade.add_argument(
        "assignment", choices=(*catalog.assignment_keys(), "all"), help=f"{_keys_help()}, or all"
    )
    grade.add_argument(
        "submissions", type=Path, help="folder with one folder or zip file per student"
    )
    grade.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="gradebook, per-student results and feedback go here")  # fmt: skip
    grade.add_argument(
        "--jobs", type=jobs_argument, default=1, metavar="N|auto",
        help="submissions graded at once (auto: as many as the cores and memory allow)",
    )  # fmt: skip
    grade.add_argument(
        "--engine", choices=ENGINES, default="local",
        help="local: this machine; dask: a Dask cluster (pip install \"nngrade[cluster]\")",
    )  # fmt: skip
    grade.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")  # fmt: skip
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    grade.add_argument(
        "--job-timeout", type=float, default=None, metavar="SECONDS",
        help="give up on one submission's assignment after this long (default: the "
        "assignment's own limit plus 3 minutes)",
    )  # fmt: skip
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.add_argument(
        "--dry-run", action="store_true",
        help="grade (or reuse) and show whose points would change and why, writing nothing "
        "into --out",
    )  # fmt: skip
    add_grading_options(grade)

    bundle = commands.add_parser(
        "gradescope-bundle", help="write a Gradescope autograder zip for one assignment"
    )
    bundle.add_argument("assignment", choices=catalog.assignment_keys())
    bundle.add_argument("--output", type=Path, default=None, metavar="ZIP",
                        help="default: nngrade-<assignment>-gradescope.zip")  # fmt: skip
    bundle.add_argument("--secrets", type=Path, default=None, metavar="FILE",
                        help="instructor secrets to ship inside the bundle (never shown to students)")  # fmt: skip
    bundle.add_argument("--torch", choices=("cpu", "cuda"), default="cpu", dest="torch_build",
                        help="PyTorch build setup.sh installs (a4, a5): cpu (default; "
                        "Gradescope's machines have no GPU, and it is 0.2 GB instead of 5) "
                        "or cuda (PyPI's default build, for a platform with a GPU)")  # fmt: skip
    bundle.add_argument("--with-data", action="store_true",
                        help="ship the four MNIST files in the bundle (a2-a4), from --data-dir "
                        "or $NNGRADE_DATA or ~/.cache/nngrade/data: for an autograder "
                        "without internet")  # fmt: skip
    bundle.add_argument("--data-dir", type=Path, default=None, metavar="PATH",
                        help="where MNIST/raw/ is, for --with-data")  # fmt: skip

    similarity = commands.add_parser(
        "similarity", help="rank every pair of a class's submissions by the code they share"
    )
    similarity.add_argument("assignment", choices=catalog.assignment_keys(), help=_keys_help())
    similarity.add_argument(
        "submissions", type=Path, help="folder with one folder or zip file per student"
    )
    similarity.add_argument("--out", type=Path, required=True, metavar="DIR",
                            help="similarity.html and similarity.csv go here")  # fmt: skip
    similarity.add_argument(
        "--template", type=Path, default=None, metavar="DIR",
        help="the code students were given, never counted (default: the templates that "
        "come with nngrade, as nngrade init writes them)",
    )  # fmt: skip
    similarity.add_argument("--top", type=int, default=similarity_defaults.TOP, metavar="N",
                            help="pairs listed, with their shared code (default: %(default)s)")  # fmt: skip
    similarity.add_argument(
        "--threshold", type=float, default=similarity_defaults.THRESHOLD, metavar="SHARE",
        help="similarity at which a pair links students into a group (default: %(default)s)",
    )  # fmt: skip
    similarity.add_argument(
        "--common", type=float, default=similarity_defaults.COMMON_SHARE, metavar="SHARE",
        help="code found in more than this share of the class (and in more than "
        f"{similarity_defaults.COMMON_FLOOR} submissions) counts as an idiom, not a copy (default: %(default)s)",
    )  # fmt: skip

    commands.add_parser("list", help="the assignments, their points, deadlines and rules")
    starting.add_parsers(commands)
    return parser


def list_assignments() -> str:
    lines = [f"{'':4}{'Assignment':46}{'Points':>7}{'Week':>6}  Rules"]
    for a in catalog.specs():
        lines.append(f"{a.key:4}{a.title:46}{a.points:>7}{a.week:>6}  {a.rules}")
    lines.append(f"{'':4}{'Total':46}{catalog.lab_max_points():>7}")
    lines.append(
        f"At least {catalog.pass_mark()} of the {catalog.lab_max_points()} lab points are "
        "required to pass the lab."
    )
    return "\n".join(lines) + "\n"


#: Report formats whose points others rely on: they refuse a weaker sandbox.
SHARED_FORMATS = ("gradescope", "github")


def run_check(args: argparse.Namespace, progress: Listener | None = None) -> LabResult:
    if not args.assignment and not args.all:
        raise CommandError("say which assignment to grade (e.g. `nngrade check a1`) or use --all")
    if args.assignment and args.all:
        raise CommandError("give either an assignment or --all, not both")
    submission = args.submission
    if not submission.is_dir():
        raise CommandError(
            f"submission folder '{submission}' does not exist; run nngrade from the root of your "
            "repository or pass --submission PATH"
        )
    # Reports that others rely on (CI, Gradescope) need the full sandbox; a student's own
    # check may fall back, with a warning in the report.
    options = GradeOptions.from_args(args)
    if args.format in SHARED_FORMATS:
        options = options.for_shared_grading()
    if args.assignment:
        if not (submission / args.assignment).is_dir():
            print(
                f"nngrade: warning: {submission / args.assignment} not found; every criterion "
                "will get 0 points",
                file=sys.stderr,
            )
        result = grade(catalog.spec(args.assignment), submission, options, progress)
        return catalog.lab_result([result])
    return _check_all(submission, options, progress)


def _check_all(submission: Path, options: GradeOptions, progress: Listener | None) -> LabResult:
    """Every assignment that can be graded here; each one that cannot (its folder, data or
    extra missing, its grader broken) is named in the report with why and what to do."""
    if not any((submission / key).is_dir() for key in catalog.assignment_keys()):
        raise CommandError(f"no assignment folder ({_keys_help()}) found in {submission}")
    results, skipped = [], []
    for spec in map(catalog.spec, catalog.assignment_keys()):
        if not (submission / spec.key).is_dir():
            skipped.append(not_graded.missing_folder(spec, submission))
        else:
            try:
                results.append(grade(spec, submission, options, progress))
                continue
            except not_graded.CANNOT_GRADE as error:
                skipped.append(not_graded.from_error(spec, error))
        if progress is not None:
            progress(AssignmentNotGraded(spec.key, skipped[-1].reason))
    return catalog.lab_result(results, not_graded=skipped)


def exit_status(report: LabResult) -> int:
    """Grader failures first (3), then assignments left ungraded (4), else 0."""
    broken = [n for n in report.not_graded if n.cause == not_graded.GRADER_ERROR]
    if broken or any(result.internal_errors for result in report.assignments):
        print("nngrade: the grader itself failed on some criteria (see above); please report "
              "it to the course staff", file=sys.stderr)  # fmt: skip
        return EXIT_INFRASTRUCTURE
    if report.not_graded:
        print(f"nngrade: not graded: {', '.join(report.missing)} (the report says why and "
              "what to do)", file=sys.stderr)  # fmt: skip
        return EXIT_NOT_GRADED
    return EXIT_OK


def run_grade(args: argparse.Namespace) -> int:
    """Grade a class; 0 when the run completed, even if some submissions could not be graded.
    Batch grading is imported here: ``nngrade check`` never needs it."""
    from graders.batch.engines import EngineUnavailable
    from graders.batch.run import BatchError

    try:
        return _grade_class(args)
    except (BatchError, EngineUnavailable) as error:
        raise CommandError(str(error)) from None


def _grade_class(args: argparse.Namespace) -> int:
    from graders.batch.auto_jobs import choose_jobs
    from graders.batch.run import BatchOptions, grade_class, resolve_assignments

    assignments = resolve_assignments(args.assignment)
    jobs = args.jobs
    if jobs == "auto":
        if args.engine != "local":
            raise CommandError("--jobs auto is for the local engine: give the cluster's number")
        choice = choose_jobs([catalog.spec(key) for key in assignments])
        jobs = choice.jobs
        print(f"--jobs auto: {jobs} at once ({choice.reason})", flush=True)
    options = BatchOptions(
        assignments=assignments,
        submissions=args.submissions,
        out=args.out,
        jobs=jobs,
        engine=args.engine,
        scheduler=args.scheduler,
        grading=GradeOptions.from_args(args).for_shared_grading(),
        force=args.force,
        progress=not args.no_progress,
        job_timeout_s=args.job_timeout,
        dry_run=args.dry_run,
    )
    if not options.assignments:
        raise CommandError("no assignment can be graded here (see the warnings above)")
    report = grade_class(options)
    waiting = "".join(f"nngrade: warning: {_shown(line)}\n" for line in report.waiting)
    if options.dry_run:
        print(_shown(report.changes or "No student's points would change."))
        print(f"{report.line()}\nDry run: nothing was written into {_shown(args.out)}")
        sys.stderr.write(waiting)
        return EXIT_OK
    print(encode.terminal_lines(report.summary))  # it names students and their zip entries
    print(f"{report.line()}\nGradebook: {_shown(args.out / 'gradebook.csv')}")
    if report.changes:
        moved = f"{report.moved} student{'s' if report.moved != 1 else ''}"
        print(f"Points moved for {moved}; who and why: {_shown(args.out / 'changes.md')}")
    sys.stderr.write(waiting)
    return EXIT_OK


def run_similarity(args: argparse.Namespace) -> int:
    """Rank a class's pairs of submissions by shared code; write the report."""
    from graders.similarity.run import SimilarityError, SimilarityOptions
    from graders.similarity.run import run as compare_class

    options = SimilarityOptions(
        assignment=args.assignment,
        submissions=args.submissions,
        out=args.out,
        top=args.top,
        threshold=args.threshold,
        common=args.common,
        **({"template": args.template} if args.template is not None else {}),
    )
    try:
        report = compare_class(options)
    except SimilarityError as error:
        raise CommandError(str(error)) from None
    print(report.summary())
    print(f"Report: {_shown(report.files[0])} and {_shown(report.files[1].name)}")
    return EXIT_OK


def run_bundle(args: argparse.Namespace) -> int:
    from graders.integrations.gradescope import build_bundle

    output = args.output or Path(f"nngrade-{args.assignment}-gradescope.zip")
    if args.secrets is not None:
        load_secrets(args.secrets)  # fail now on a malformed file, not in Gradescope
    data_dir = None
    if args.with_data:
        from graders.data.mnist import resolve_data_root

        data_dir = resolve_data_root(args.data_dir)
    try:
        build_bundle(
            args.assignment, output, args.secrets,
            torch_build=args.torch_build, data_dir=data_dir,
        )  # fmt: skip
    except FileNotFoundError as error:
        raise CommandError(str(error)) from None
    print(f"wrote {output}: upload it on Gradescope's Configure Autograder page")
    return EXIT_OK


def _shown(message: object) -> str:
    """A message for the terminal: errors can quote a student's file or folder name."""
    return encode.terminal_lines(message)


def write_report(text: str, args: argparse.Namespace) -> None:
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_name(args.output.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, args.output)
    else:
        sys.stdout.write(text)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.format == "github" and summary_file:
        with open(summary_file, "a", encoding="utf-8") as stream:
            stream.write(text)


def main(argv: list[str] | None = None) -> int:
    """The command line; SIGTERM and SIGHUP stop it as Ctrl+C does, and it first removes
    what a grader killed earlier left in the work folders (:mod:`graders.sandbox.left_behind`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with stopped_by_signals(), tidy_work_folders(args.command in ("check", "grade")):
        try:
            return _run_command(parser, args)
        except BrokenPipeError:  # the reader went away (nngrade statement a1 | head)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141


def _run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        if args.command == "list":
            sys.stdout.write(list_assignments())
            return EXIT_OK
        if args.command == "init":
            return starting.run_init(args)
        if args.command == "statement":
            return starting.run_statement(args)
        if args.command == "grade":
            return run_grade(args)
        if args.command == "gradescope-bundle":
            return run_bundle(args)
        if args.command == "similarity":
            return run_similarity(args)
        if args.command != "check":
            parser.print_help()
            return EXIT_USAGE
        people = args.format == "table" and args.progress
        with live.watching(sys.stderr, people, args.events) as progress:
            report = run_check(args, progress)
        write_report(FORMATS[args.format](report, args.all, verbose=args.verbose), args)
        return exit_status(report)
    except CommandError as error:
        print(f"nngrade: error: {_shown(error)}", file=sys.stderr)
        return error.status
    except USAGE_ERRORS as error:
        print(f"nngrade: error: {_shown(error)}", file=sys.stderr)
        return EXIT_USAGE
    except INFRASTRUCTURE_ERRORS as error:
        print(f"nngrade: error: {_shown(error)}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    except GraderBroken as error:
        print(f"nngrade: internal error: {_shown(error)}\nThis is a bug in the grader, not in "
              "your work; please report it to the course staff.", file=sys.stderr)  # fmt: skip
        return EXIT_INFRASTRUCTURE
    except Stopped as stopped:
        print(f"nngrade: {stopped}", file=sys.stderr)
        return stopped.exit_status
    except KeyboardInterrupt:
        print("nngrade: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
