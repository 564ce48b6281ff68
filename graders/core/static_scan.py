"""Static (AST) check of a submission's imports against the assignment's rules.

Every Python file a rule covers is parsed, plus every submission module those files
import (transitively), so moving a forbidden import into a helper module does not hide it.

Code written as a string literal counts where it runs, at the line of the call:
``exec("import torch")``, ``eval``, ``compile`` (code, read recursively up to
MAX_CODE_DEPTH strings deep), ``__import__("torch")`` and ``importlib.import_module("torch")``
(a module name), and IPython's ``get_ipython().run_cell(...)``, ``run_cell_magic`` and
``run_line_magic`` (code as IPython rewrites it), which is what a notebook's ``%time``,
``%%capture`` and ``;exec import torch`` lines become (see graders.core.notebooks). A string
that is not a literal (a variable, a name built at run time) cannot be known here; the
worker's runtime import blocker and its filesystem allowlist stop those imports.

Code the parser cannot read because it is nested too deeply (``-`` * 100000 + ``1``) could
hide any import: it counts as breaking every rule that covers it, and says so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path

from graders.core.assignment import AssignmentSpec, RulePolicy
from graders.core.notebooks import (
    NESTED_TOO_DEEPLY,
    UNSCANNABLE_MARK,
    TooDeep,
    Work,
    ipython_text,
    parse,
)
from graders.core.results import Violation, unique_violations
from graders.failures import Failure, Location, does_not_parse

#: Calls that import the module named by their first argument (any owner: ``builtins.``,
#: ``importlib.``), with the keyword that can name it instead.
_MODULE_CALLS = {"__import__": "name", "import_module": "name"}
#: Built-in functions that run the code in their first argument (called by name or from
#: ``builtins``; ``re.compile`` and ``torch.compile`` are not these).
_CODE_BUILTINS = {"exec": "source", "eval": "source", "compile": "source"}
_BUILTIN_OWNERS = ("", "builtins", "__builtins__")
#: IPython shell methods that run code: argument, keyword, and whether IPython rewrites it.
_SHELL_CODE = {
    "run_cell": (0, "raw_cell", True),
    "run_cell_async": (0, "raw_cell", True),
    "ex": (0, "cmd", False),  # exec in the user's namespace
    "ev": (0, "expr", False),  # eval in the user's namespace
}
#: Line magics whose argument is Python code run in the kernel (``%time import torch``).
_CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "debug"})
#: Code in a string in a string ... is read this many levels deep; deeper counts as hidden.
MAX_CODE_DEPTH = 8


@dataclass(frozen=True)
class ImportSite:
    module: str
    line: int
    #: Why the code here could not be scanned ("" when it could): it may hide any import.
    unscannable: str = ""


def _hidden(line: int, reason: str) -> ImportSite:
    """A place whose imports are unknown: it breaks every rule that covers it."""
    return ImportSite(f"an unknown module (this code could not be scanned: {reason})", line, reason)


def import_sites(
    tree: ast.AST, package: str, depth: int = 0, work: Work | None = None
) -> list[ImportSite]:
    """Every module a parsed file imports, with relative imports resolved against ``package``,
    including the code and module names in literal strings of the calls above."""
    sites: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            sites += [ImportSite(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            sites.append(ImportSite(base, node.lineno))
            sites += [ImportSite(f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call):
            sites += _call_sites(node, package, depth, work)
    return [site for site in sites if site.module]


def _call_sites(call: ast.Call, package: str, depth: int, work: Work | None) -> list[ImportSite]:
    """The imports a call makes from literal strings (see the module docstring)."""
    name, owner = _callee(call.func)
    if name in _MODULE_CALLS:
        return _module_site(call, name, package)
    if name in _CODE_BUILTINS and owner in _BUILTIN_OWNERS:
        return _code_sites(_argument(call, 0, _CODE_BUILTINS[name]), package, call, depth, work)
    if not owner:  # the shell's methods: get_ipython().run_cell(...), shell.ex(...)
        return []
    if name in _SHELL_CODE:
        index, keyword, rewritten = _SHELL_CODE[name]
        code = _argument(call, index, keyword)
        return _code_sites(code, package, call, depth, work, rewritten)
    if name == "run_cell_magic":  # %%time, %%capture...: the body is a cell IPython runs
        body = _code_sites(_argument(call, 2, "cell"), package, call, depth, work, True)
        return body + _magic_sites(call, package, depth, work)
    if name == "run_line_magic":
        return _magic_sites(call, package, depth, work)
    return []


def _module_site(call: ast.Call, name: str, package: str) -> list[ImportSite]:
    module = _literal(_argument(call, 0, _MODULE_CALLS[name]))
    if not isinstance(module, str):
        return []  # not a literal: the runtime blocker and the allowlist catch it
    if name == "import_module" and module.startswith("."):  # relative to its package argument
        base = _literal(_argument(call, 1, "package"))
        level = len(module) - len(module.lstrip("."))
        module = _absolute(module.lstrip("."), level, base if isinstance(base, str) else package)
    return [ImportSite(module, call.lineno)]


def _magic_sites(call: ast.Call, package: str, depth: int, work: Work | None) -> list[ImportSite]:
    """The code of ``%time``-like magics (``%timeit -n 3 import jax``: options skipped)."""
    magic, line = _literal(_argument(call, 0, "magic_name")), _literal(_argument(call, 1, "line"))
    if magic not in _CODE_MAGICS or not isinstance(line, str):
        return []
    words = line.split(" ")
    for start in range(min(len(words), 8)):
        code = " ".join(words[start:]).strip()
        sites = _string_sites(code, package, call.lineno, depth, work, True) if code else None
        if sites is not None:
            return sites
    return []


def _code_sites(
    argument: ast.expr | None,
    package: str,
    call: ast.Call,
    depth: int,
    work: Work | None,
    rewritten: bool = False,
) -> list[ImportSite]:
    code = _literal(argument)
    if code is None:
        return []  # not a literal: the runtime blocker and the allowlist catch it
    return _string_sites(code, package, call.lineno, depth, work, rewritten) or []


def _string_sites(
    code: str | bytes, package: str, line: int, depth: int, work: Work | None, rewritten: bool
) -> list[ImportSite] | None:
    """The imports of ``code`` (IPython's rewrite of it when ``rewritten``), all reported at
    ``line``; None when it does not parse (it would fail when run: it imports nothing)."""
    if depth >= MAX_CODE_DEPTH:
        return [_hidden(line, "code in strings nested too deeply")]
    if rewritten and isinstance(code, str):
        code = ipython_text(code, work)
    try:
        tree = _parse_code(code)
    except TooDeep:
        return [_hidden(line, NESTED_TOO_DEEPLY)]
    except (SyntaxError, ValueError):
        return None
    return [replace(site, line=line) for site in import_sites(tree, package, depth + 1, work)]


def _parse_code(code: str | bytes) -> ast.Module:
    """``code`` parsed; with its leading blanks dropped if need be, as ``eval`` drops them."""
    try:
        return parse(code)
    except SyntaxError:
        stripped = code.lstrip(b" \t" if isinstance(code, bytes) else " \t")
        if stripped == code:
            raise
        return parse(stripped)


def _callee(func: ast.expr) -> tuple[str, str]:
    """(name, owner) of a call: ("exec", "") for ``exec``, ("exec", "builtins") for
    ``builtins.exec``, ("run_cell", "?") for ``get_ipython().run_cell``; ("", "") when the
    callee is no name at all."""
    if isinstance(func, ast.Name):
        return func.id, ""
    if not isinstance(func, ast.Attribute):
        return "", ""
    parts, node = [], func.value
    while isinstance(node, ast.Attribute):  # a loop: a chain may be thousands long
        parts.append(node.attr)
        node = node.value
    owner = ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else "?"
    return func.attr, owner


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The argument at ``index`` or named ``keyword``; None if absent or unpacked (``*a``)."""
    if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return None
    if index < len(call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _literal(node: ast.expr | None) -> str | bytes | None:
    """The value of a string literal (``"import torch"``, ``b"..."``, an f-string without
    fields); None for anything else: a name, ``"num" + "py"``, a call are values of run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def _absolute(module: str, level: int, package: str) -> str:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join(base + ([module] if module else []))


def _module_name(relative: Path) -> tuple[str, str]:
    """(module, package) names of a submission file such as ``a1/pure.py``."""
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def _file_of(module: str, root: Path) -> list[Path]:
    """Submission files executed when ``module`` is imported (package inits included)."""
    files: list[Path] = []
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        base = root.joinpath(*parts[:depth])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                files.append(candidate)
                break
    return files


class Scanner:
    """Parses each file once; resolves which submission files a policy reaches."""

    def __init__(self, root: Path, local_modules: frozenset[str], sources: dict | None = None):
        self.root = root
        self.sources: dict[Path, str] = sources or {}  # text read instead of a file's
        self.local_modules = local_modules
        self._sites: dict[Path, list[ImportSite]] = {}
        self.syntax_errors: dict[tuple[str, int], str] = {}
        self._work = Work()  # IPython's share of the time, for the whole submission

    def sites(self, path: Path) -> list[ImportSite]:
        if path not in self._sites:
            relative = path.relative_to(self.root)
            source = self.sources.get(path) or path.read_bytes()
            sites = self._read(source, relative, _module_name(relative)[1])
            if path in self.sources:  # a notebook: cells that could not be scanned
                sites += _marked(self.sources[path])
            for site in sites:
                if site.unscannable:
                    self.syntax_errors[(str(relative), site.line)] = (
                        f"could not be scanned: {site.unscannable}, so it counts as "
                        "breaking the import rules that cover it"
                    )
            self._sites[path] = sites
        return self._sites[path]

    def _read(self, source: str | bytes, relative: Path, package: str) -> list[ImportSite]:
        try:
            return import_sites(parse(source), package, work=self._work)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None) or 0
            self.syntax_errors[(str(relative), line)] = exc.__class__.__name__
            return []
        except (TooDeep, RecursionError):
            return [_hidden(0, NESTED_TOO_DEEPLY)]

    def reach(self, patterns: tuple[str, ...]) -> list[Path]:
        """Files matched by ``patterns`` plus every submission file they import, in order."""
        pending = [
            p for pattern in patterns for p in sorted(self.root.glob(pattern)) if p.is_file()
        ]
        for path in list(pending):
            relative = path.relative_to(self.root)
            pending += (
                _file_of(_module_name(relative)[1], self.root) if len(relative.parts) > 1 else []
            )
        seen: list[Path] = []
        while pending:
            path = pending.pop(0)
            if path in seen or path.suffix != ".py":
                continue
            seen.append(path)
            for site in self.sites(path):
                if not site.unscannable and site.module.partition(".")[0] in self.local_modules:
                    pending += _file_of(site.module, self.root)
        return seen

    def violations(self, policy: RulePolicy) -> list[Violation]:
        found: list[Violation] = []
        for path in self.reach(policy.files):
            relative = str(path.relative_to(self.root))
            for site in self.sites(path):
                if site.unscannable or policy.rule.violated_by(site.module, self.local_modules):
                    found.append(
                        Violation(
                            rule=policy.rule.name,
                            summary=policy.rule.summary,
                            module=site.module,
                            file=relative,
                            line=site.line,
                            detected_by="static scan",
                        )
                    )
        return unique_violations(found)


def _marked(text: str) -> list[ImportSite]:
    """The cells a notebook's scan text marks as not scannable (notebooks.UNSCANNABLE_MARK)."""
    return [
        _hidden(number, NESTED_TOO_DEEPLY)
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip() == UNSCANNABLE_MARK
    ]


def scan(
    root: Path,
    assignment: AssignmentSpec,
    local_modules: frozenset[str],
    sources: dict[Path, str] | None = None,
) -> tuple[list[Violation], list[Failure]]:
    """All static violations of the assignment's policies, and files that do not parse or
    could not be scanned (``sources``: text to read instead of a file, e.g. every cell of a
    notebook)."""
    scanner = Scanner(root, local_modules, sources)
    violations = [v for policy in assignment.policies for v in scanner.violations(policy)]
    unparsable = [
        does_not_parse(Location(file, line), detail)
        for (file, line), detail in sorted(scanner.syntax_errors.items())
    ]
    return violations, unparsable
