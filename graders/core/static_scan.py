"""Static (AST) check of a submission's imports against the assignment's rules.

Every Python file a rule covers is parsed, plus every submission module those files
import (transitively), so moving a forbidden import into a helper module does not hide it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from graders.core.assignment import AssignmentSpec, RulePolicy
from graders.core.results import Violation, unique_violations

_DYNAMIC_IMPORTERS = {"__import__", "import_module"}


@dataclass(frozen=True)
class ImportSite:
    module: str
    line: int


def import_sites(tree: ast.AST, package: str) -> list[ImportSite]:
    """Every module a parsed file imports, with relative imports resolved against ``package``."""
    sites: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            sites += [ImportSite(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            sites.append(ImportSite(base, node.lineno))
            sites += [ImportSite(f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in _DYNAMIC_IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    sites.append(ImportSite(first.value, node.lineno))
    return [site for site in sites if site.module]


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
        self.syntax_errors: dict[str, str] = {}

    def sites(self, path: Path) -> list[ImportSite]:
        if path not in self._sites:
            relative = path.relative_to(self.root)
            _, package = _module_name(relative)
            try:
                tree = ast.parse(self.sources.get(path) or path.read_bytes(), str(relative))
            except (SyntaxError, ValueError) as exc:
                line = getattr(exc, "lineno", None) or 0
                self.syntax_errors[str(relative)] = f"{relative}:{line}: {exc.__class__.__name__}"
                tree = ast.Module(body=[], type_ignores=[])
            self._sites[path] = import_sites(tree, package)
        return self._sites[path]

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
                if site.module.partition(".")[0] in self.local_modules:
                    pending += _file_of(site.module, self.root)
        return seen

    def violations(self, policy: RulePolicy) -> list[Violation]:
        found: list[Violation] = []
        for path in self.reach(policy.files):
            relative = str(path.relative_to(self.root))
            for site in self.sites(path):
                if policy.rule.violated_by(site.module, self.local_modules):
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


def scan(
    root: Path,
    assignment: AssignmentSpec,
    local_modules: frozenset[str],
    sources: dict[Path, str] | None = None,
) -> tuple[list[Violation], list[str]]:
    """All static violations of the assignment's policies, and files that do not parse
    (``sources``: text to read instead of a file, e.g. every cell of a notebook)."""
    scanner = Scanner(root, local_modules, sources)
    violations = [v for policy in assignment.policies for v in scanner.violations(policy)]
    return violations, sorted(scanner.syntax_errors.values())
