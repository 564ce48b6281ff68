"""Grade one assignment of one submission: stage, scan, run the grader, apply the rules."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import os
import re
import time
from pathlib import Path

import pytest

from graders import __version__
from graders.core.assignment import AssignmentSpec
from graders.core.context import GradingContext
from graders.core.notebooks import relocate_text, relocate_violations
from graders.core.options import GradeOptions
from graders.core.plugin import GradingPlugin
from graders.core.progress import (
    AssignmentFinished,
    AssignmentStarted,
    CriterionFinished,
    Event,
    Listener,
)
from graders.core.results import (
    AssignmentResult,
    GradedAs,
    Status,
    Violation,
    clean_text,
    unique_violations,
)
from graders.core.secrets import load_secrets
from graders.core.static_scan import scan
from graders.core.submission import StagedSubmission, stage
from graders.data.mnist import load_evaluation_set, load_mnist, resolve_data_root
from graders.failures import Failure, FailureKind, Location, does_not_parse
from graders.sandbox import confinement as confinement_module
from graders.sandbox import load_clock
from graders.sandbox.confinement import STRICT_LAYERS, Confinement
from graders.sandbox.inside.rules import ImportRule
from graders.sandbox.reply import line_number


class GraderBroken(Exception):
    """The grader itself failed (not the submission): an infrastructure error."""


class MissingExtra(Exception):
    """The grader of this assignment needs a package that is not installed (an extra).

    ``problem`` says what is missing and ``fix`` the command that installs it, apart for
    a report that lists what could not be graded and what to do; the message is both.
    """

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}; install the extra: {fix}")
        self.problem = problem
        self.fix = fix


class UnknownCriteria(ValueError):
    """``only`` names a criterion the grader does not have."""


def grade(
    spec: AssignmentSpec,
    submission: Path,
    options: GradeOptions | None = None,
    progress: Listener | None = None,
) -> AssignmentResult:
    """Grade ``submission`` against ``spec``; never runs student code in this process.

    A pipeline of stages, each returning a new value: prepare (what may run, where),
    scan (what the submission's files say before any of it runs), run (the grader's
    criteria in sandboxes), assemble (the result) and finalise (rules, notebook places,
    clean text). ``progress`` hears which criterion runs and how much of a budget it uses,
    for people who watch (see :mod:`graders.core.progress`); it changes nothing.
    """
    options = options or GradeOptions()
    started = time.monotonic()
    prepared = prepare(spec, options)
    if progress is not None:
        progress(AssignmentStarted(prepared.spec.key, prepared.spec.title))
    require_data(prepared.spec, options)
    staged = stage(submission, prepared.spec)
    try:
        scanned = scan_submission(prepared, staged)
        ran = run_criteria(prepared, staged, scanned, progress)
    finally:
        staged.cleanup()
    result = assemble(prepared, scanned, ran, submission)
    result = finalise(result, prepared, staged, ran.context)
    result.duration_s = round(time.monotonic() - started, 2)
    if progress is not None:
        progress(AssignmentFinished(spec.key, result.points, result.max_points, result.duration_s))
    return result


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What a grading runs with: the assignment (with the run's threads), its options, the
    sandbox chosen and the instructor's secrets."""

    spec: AssignmentSpec
    options: GradeOptions
    confinement: Confinement
    secrets: dict


@dataclasses.dataclass(frozen=True)
class Scanned:
    """What the submission's files say before any of it runs."""

    violations: list[Violation]
    #: Required files missing, files that do not parse.
    failures: list[Failure]
    notices: list[str]


@dataclasses.dataclass(frozen=True)
class Ran:
    """The grader's run: its context (sandboxes closed, what they saw kept), the plugin's
    results and pytest's log."""

    context: GradingContext
    plugin: GradingPlugin
    log: str


def prepare(spec: AssignmentSpec, options: GradeOptions) -> Prepared:
    """The assignment as this run grades it, or a clear refusal (an extra is missing, the
    sandbox lacks a required layer, the secrets file is unreadable)."""
    if options.threads is not None:
        limits = dataclasses.replace(spec.limits, threads=max(1, options.threads))
        spec = dataclasses.replace(spec, limits=limits)
    missing = [name for name in spec.requires if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"grading {spec.key} needs {', '.join(missing)}, which is not installed",
            f'pip install "nngrade[{spec.extra}]"',
        )
    confinement = confinement_module.select(options.confinement, options.require)
    return Prepared(spec, options, confinement, load_secrets(options.secrets_file))


def require_data(spec: AssignmentSpec, options: GradeOptions) -> None:
    """Fail before grading, with the loader's instructions, not once per criterion."""
    if not spec.uses_mnist:
        return
    load_mnist("train", options.data_dir, download=options.download)
    if options.eval_set is None:
        load_mnist("test", options.data_dir, download=options.download)
    else:
        load_evaluation_set(*options.eval_set)


def scan_submission(prepared: Prepared, staged: StagedSubmission) -> Scanned:
    """Broken import rules, missing files and files that do not parse, with the notices a
    report shows of them."""
    spec = prepared.spec
    violations, unparsable = scan(staged.root, spec, staged.local_modules, staged.scan_sources())
    unparsable = [  # a notebook's module line as its cell and line, before it is put in words
        does_not_parse(staged.locate(f.location), f.detail) if f.location is not None else f
        for f in unparsable
    ]
    missing = [
        Failure(FailureKind.MISSING_FILE, f, Location(f), f"{f} is missing from the submission")
        for f in spec.required_files
        if not (staged.root / f).is_file()
    ]
    notices = _sandbox_warnings(prepared.confinement, prepared.options) + list(staged.notices)
    notices += [f.reason for f in missing]
    notices += [f"cannot parse {f.reason}" for f in unparsable]
    return Scanned(violations, missing + unparsable, notices)


def run_criteria(
    prepared: Prepared, staged: StagedSubmission, scanned: Scanned, progress: Listener | None
) -> Ran:
    """Every criterion of the grader, with pytest; every worker is gone when it returns,
    whatever happened."""
    spec, options = prepared.spec, prepared.options
    context = GradingContext(
        spec,
        staged,
        prepared.confinement,
        options,
        data_root=resolve_data_root(options.data_dir) if spec.uses_mnist else None,
        secrets=prepared.secrets,
        progress=_ruled(progress, scanned.violations, spec) if progress else None,
    )
    try:
        if not options.only:  # with --only, the first sandbox may not be the one it needs
            first = context.sandbox(spec.sandboxes[0].name)
            first.start_ahead()
            if len(spec.sandboxes) > 1:  # a1: pure Python's worker boots while numpy's grades
                context.sandbox(spec.sandboxes[1].name).start_ahead(after=first)
        plugin = GradingPlugin(context)
        log = _run_pytest(spec, plugin)
    finally:
        context.close()  # kill every worker, whatever happened above
    return Ran(context, plugin, log)


def assemble(prepared: Prepared, scanned: Scanned, ran: Ran, submission: Path) -> AssignmentResult:
    """The result as the grader's run left it, or an error when the grader itself could
    not run."""
    spec, options, context, plugin = prepared.spec, prepared.options, ran.context, ran.plugin
    if plugin.unknown_criteria:
        raise UnknownCriteria(
            f"{spec.key} has no criterion {', '.join(plugin.unknown_criteria)}; its criteria "
            f"are {', '.join(plugin.criterion_ids)}"
        )
    if plugin.collection_errors or len(plugin.results) == 0:
        raise GraderBroken(
            f"the grader of {spec.key} could not run: "
            + (plugin.collection_errors[0] if plugin.collection_errors else ran.log[-2000:])
        )
    return AssignmentResult(
        assignment=spec.key,
        title=spec.title,
        max_points=spec.points,
        criteria=[plugin.results[c] for c in plugin.criterion_ids if c in plugin.results],
        violations=scanned.violations + _runtime_violations(context, spec),
        notices=scanned.notices + _audit_notices(context) + _unconfirmed_notices(context),
        grader_version=__version__,
        seed=options.seed,
        confinement=prepared.confinement.kind,
        layers=list(prepared.confinement.layers),
        graded_as=graded_as(options),
        limits=spec.limits.describe(prepared.confinement.kind),
        inputs="secret" if context.secret_inputs else "public",
        submission=str(Path(submission).resolve()),
        artifacts=list(context.artifacts),
        series=dict(context.series),
        failures=list(scanned.failures),
        budget_cpu_s={
            name: round(sandbox.budgeted_cpu_s, 1)
            for name, sandbox in context.sandboxes.items()
            if sandbox.budgeted_cpu_s
        },
    )


def finalise(
    result: AssignmentResult,
    prepared: Prepared,
    staged: StagedSubmission,
    context: GradingContext,
) -> AssignmentResult:
    """The result as reports show it: broken rules' module places become notebook cells
    and zero their criteria, student text is kept on one line, internal errors listed."""
    relocate_violations(result.violations, staged.locate)  # failures were placed at source
    _apply_rules(result, prepared.spec)
    _clean(result)
    result.internal_errors = [
        f"{c.id}: {c.reason}" for c in result.criteria if c.status == Status.ERROR
    ]
    if prepared.options.verbose:
        result.output_tail = {  # a traceback it printed points into the notebook too
            name: relocate_text(sandbox.last_output[-4000:], staged.notebooks)
            for name, sandbox in context.sandboxes.items()
        }
    return result


def graded_as(options: GradeOptions) -> GradedAs:
    """Whether points graded with ``options`` count: only where every layer that shared
    grading needs was required (grading then refuses to run without one), as the course's
    grading does (``GradeOptions.for_shared_grading``) and a student's own check does not."""
    if options.insecure_sandbox:
        return GradedAs.INSECURE
    if set(STRICT_LAYERS) <= set(options.require):
        return GradedAs.COURSE
    return GradedAs.OWN_CHECK


def _ruled(progress: Listener, violations: list[Violation], spec: AssignmentSpec) -> Listener:
    """``progress`` told each finished criterion as the report will show it when a rule
    found by the static scan zeroes it (rules broken at run time are known at the end)."""

    def tell(event: Event) -> None:
        if isinstance(event, CriterionFinished) and _rule_broken(event.criterion, violations, spec):
            event = dataclasses.replace(event, status=str(Status.VIOLATION), points=0.0)
        progress(event)

    return tell


def _audit_notices(context: GradingContext) -> list[str]:
    """What student code tried that the sandbox refused, with its file and line."""
    seen: dict[str, None] = {}
    for sandbox in context.sandboxes.values():
        for record in sandbox.audit:
            if record.get("kind") != "program":
                continue
            file = record.get("file")
            where = (
                context.staged.locate(
                    Location(str(file), line_number(record.get("line")))
                ).describe()
                if file
                else "your code"
            )
            seen[
                f"{where} tried to start another program or process ({record.get('what')}): "
                "not allowed in the grader's sandbox, so it failed"
            ] = None
    return list(seen)[:20]


def _unconfirmed_notices(context: GradingContext) -> list[str]:
    """What the grader could not see of its workers from outside (by name, with why): the
    points stand on the workers' own report of those facts, and the report says so."""
    facts = dict.fromkeys(f for s in context.sandboxes.values() for f in s.unconfirmed)
    return [
        f"not confirmed from outside the sandbox (the worker's own report stands): {fact}"
        for fact in list(facts)[:10]
    ]


def _sandbox_warnings(confinement: Confinement, options: GradeOptions) -> list[str]:
    """Loud notices when student code ran with less confinement than shared grading needs."""
    weak = confinement.missing(STRICT_LAYERS)
    warnings = []
    if options.insecure_sandbox:
        warnings.append(
            "INSECURE: graded with --insecure-sandbox; these points must not count for a grade"
        )
    if weak:
        warnings.append(
            f"the sandbox here ({confinement.kind}) lacks {', '.join(weak)}: fine for "
            "checking your own work, but course grading refuses it. "
            + confinement_module.advice(weak)
        )
    return warnings


#: pytest's own plugins a grading session does without (debugging, temporary folders,
#: caches, reports to files, collecting what a test left unraised: a garbage collection at
#: the end, about 0.05 s of every check). Plugins of other packages are never loaded
#: (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): whatever a student has installed cannot change a
#: grading, and hypothesis's plugin would import hypothesis for graders without a property.
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "debugging", "doctest", "faulthandler", "junitxml", "legacypath",
    "monkeypatch", "pastebin", "recwarn", "setuponly", "setupplan", "stepwise", "subtests",
    "threadexception", "tmpdir", "unittest", "unraisableexception",
)  # fmt: skip


def _run_pytest(spec: AssignmentSpec, plugin: GradingPlugin) -> str:
    """Run the grader module with pytest in this process, isolated from any project config
    and from every plugin but the grading plugin and pytest-timeout."""
    grader = spec.grader_path
    args = [
        str(grader),
        "-p", "graders.core.plugin",
        "-p", "pytest_timeout",
        *(f"-pno:{name}" for name in UNUSED_PYTEST_PLUGINS),
        "--noconftest",
        "--assert=plain",
        "-c", os.devnull,
        "--rootdir", str(grader.parent),
        "-o", "python_files=*.py",
        # A backstop only: the deadline (on the load clock) stops a submission long before.
        "-o", f"timeout={int(spec.submission_timeout_s / load_clock.FLOOR) + 60}",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-q",
    ]  # fmt: skip
    names = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    saved = {k: os.environ.pop(k) for k in names if k in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            pytest.main(args, plugins=[plugin])
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)
    if plugin.interrupted is not None:  # stopped: no result from the criteria it reached
        raise plugin.interrupted
    return buffer.getvalue()


def _runtime_violations(context: GradingContext, spec: AssignmentSpec) -> list[Violation]:
    rules = {rule.name: rule for sandbox in spec.sandboxes for rule in sandbox.rules}
    found: list[Violation] = []
    for name, sandbox in context.sandboxes.items():
        for attempt in sandbox.attempts:
            rule = rules.get(str(attempt.get("rule")))
            if rule is None:
                continue
            found.append(
                Violation(
                    rule=rule.name,
                    summary=rule.summary,
                    module=str(attempt.get("module"))[:100],
                    file=str(attempt.get("file"))[:200],
                    line=line_number(attempt.get("line")),
                    detected_by="runtime import blocker",
                )
            )
        found += _library_violations(sandbox.libraries, spec.sandbox(name).rules, name)
    return unique_violations(found)


_PACKAGE_DIR = re.compile(r"/(?:site|dist)-packages/([A-Za-z0-9_]+?)(?:\.libs)?/")


def _library_violations(
    libraries: set[str], rules: tuple[ImportRule, ...], sandbox: str
) -> list[Violation]:
    """Forbidden packages whose compiled code was mapped into the worker (seen from outside)."""
    packages = {m.group(1) for path in libraries if (m := _PACKAGE_DIR.search(path))}
    found = []
    for package in sorted(packages):
        for rule in rules:
            if rule.violated_by(package, frozenset()):
                found.append(
                    Violation(
                        rule=rule.name,
                        summary=rule.summary,
                        module=package,
                        file=f"(code running in the {sandbox} sandbox)",
                        line=0,
                        detected_by="loaded library",
                    )
                )
    return found


def _clean(result: AssignmentResult) -> None:
    """Keep text that students control (messages, file names) on one line in every report."""
    result.notices = [clean_text(n) for n in result.notices]
    for criterion in result.criteria:
        criterion.reason = clean_text(criterion.reason)
    for violation in result.violations:
        violation.module = clean_text(violation.module, 100)
        violation.file = clean_text(violation.file, 200)
    for criterion in result.criteria:
        criterion.failures = [_clean_failure(f) for f in criterion.failures]
    if result.failures is not None:
        result.failures = [_clean_failure(f) for f in result.failures]


def _clean_failure(failure: Failure) -> Failure:
    location = failure.location
    if location is not None:
        location = dataclasses.replace(location, file=clean_text(location.file, 200))
    return dataclasses.replace(
        failure,
        subject=clean_text(failure.subject, 200),
        reason=clean_text(failure.reason),
        location=location,
    )


def _rule_broken(
    criterion: str, violations: list[Violation], spec: AssignmentSpec
) -> Violation | None:
    """The first violation whose rule's policy zeroes ``criterion``, if any."""
    for violation in violations:
        policies = [p for p in spec.policies if p.rule.name == violation.rule]
        if any(p.covers(criterion) for p in policies):
            return violation
    return None


def _apply_rules(result: AssignmentResult, spec: AssignmentSpec) -> None:
    """Zero every criterion that a violated rule names, giving the violation as reason."""
    for criterion in result.criteria:
        violation = _rule_broken(criterion.id, result.violations, spec)
        if violation is not None:
            criterion.points = 0.0
            criterion.status = Status.VIOLATION
            criterion.reason = f"rule broken: {violation.describe()}"
            # What decides it is the rule, not what its calls did.
            criterion.failures = [
                Failure(
                    FailureKind.RULE_BROKEN,
                    violation.rule,
                    None,
                    criterion.reason,
                    violation.describe(),
                )
            ]
