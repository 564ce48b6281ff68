"""What the module built from a notebook keeps of each top-level statement of each code
cell, and what it leaves out (and reports), decided on the statement's AST:

* **kept**: ``import`` and ``from ... import`` (``from __future__`` imports are moved to the
  top, where Python requires them); ``def``, ``async def`` and ``class`` (whole, with their
  decorators and default values, as a module would run them); a bare string (a docstring);
  assignments of **module constants**: plain or annotated assignments whose targets are names
  (or tuples of names) and whose value calls nothing: literals, names, attribute look-ups,
  subscripts (``list[float]``, ``npt.NDArray[np.floating]``), operators, containers,
  f-strings, ``lambda`` (its body runs only when called). The only calls allowed in a
  constant are a few constructors of constants that students write at module level and that
  have no side effect: ``re.compile``, ``namedtuple``, ``TypeVar``, ``NewType``,
  ``frozenset``, ``torch.device`` and the like (``PURE_CALLS``). ``EPOCHS = 10``,
  ``SIZES = (784, 128, 10)`` and ``_TERM = re.compile(...)`` are kept;
  ``params = train(X, y)``, ``W = np.zeros(3)`` and ``LR = (time.sleep(600), 0.1)[1]`` are
  left out. Comprehensions and walrus assignments are left out (they run loops). A
  constant whose value reads a name that only left-out code binds is left out too
  (``data = np.load(...)`` is left out, so ``X = data["x"]`` is, rather than failing the
  whole import with a NameError). Small, bounded constructors are allowed as well:
  ``np.array``/``torch.tensor`` of literals, ``np.random.default_rng(0)``,
  ``torch.device("cuda" if torch.cuda.is_available() else "cpu")``.
* ``try:`` blocks that only import (the optional-dependency pattern ``try: import x`` /
  ``except ImportError: x = None``) are kept when every branch holds only imports, constant
  assignments and ``pass``.
* **left out**: everything else: training runs, loops, plots, ``print``, ``if __name__ ==
  "__main__":`` blocks, IPython's own syntax (``%magics``, ``!shell`` lines, ``obj?``, the
  auto-call escapes ``/f a``, ``,f a``, ``;f a``; inside a kept ``def`` such a line becomes
  ``pass``), cells that start with a ``%%`` cell magic, cells that do not parse, and the
  cell that calls ``notebook.check`` (that last one silently). Every left-out piece is
  reported with its cell and line (LeftOut).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

#: Dotted names (as written) of calls allowed in a module constant: constant constructors.
PURE_CALLS = frozenset(
    {"re.compile", "namedtuple", "collections.namedtuple", "TypeVar", "typing.TypeVar",
     "NewType", "typing.NewType", "NamedTuple", "typing.NamedTuple", "frozenset", "tuple",
     "float", "int", "str", "bool", "complex", "range", "slice", "Path", "pathlib.Path",
     "np.dtype", "numpy.dtype", "np.array", "numpy.array", "np.asarray", "numpy.asarray",
     "np.random.default_rng", "numpy.random.default_rng", "torch.device", "torch.tensor",
     "torch.cuda.is_available", "torch.backends.mps.is_available"}
)  # fmt: skip
#: Imports of nngrade's notebook front end: the check cell, which is no part of the module.
_CHECK_MODULES = ("graders", "graders.notebook")


@dataclass(frozen=True)
class LeftOut:
    cell: int
    line: int
    text: str

    def snippet(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= 32 else first[:29] + "..."


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a chain of names, else "" (a loop: a chain may be thousands long)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def is_constant_value(node: ast.AST) -> bool:
    """True when evaluating ``node`` calls nothing but the constructors in PURE_CALLS."""
    if isinstance(node, ast.Lambda):
        return all(is_constant_value(d) for d in node.args.defaults + node.args.kw_defaults if d)
    if isinstance(node, ast.Call):
        return (
            _dotted(node.func) in PURE_CALLS
            and all(is_constant_value(a) for a in node.args)
            and all(is_constant_value(k.value) for k in node.keywords)
        )
    if isinstance(
        node, (ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
               ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)
    ):  # fmt: skip
        return False
    return all(is_constant_value(child) for child in ast.iter_child_nodes(node))


def _plain_targets(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_plain_targets(t) for t in target.elts)
    return False


def is_constant_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        return all(_plain_targets(t) for t in node.targets) and is_constant_value(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (
            node.value is None or is_constant_value(node.value)
        )
    return False


def is_check_cell_statement(node: ast.stmt) -> bool:
    """``from graders import notebook`` and ``notebook.check(...)``: the nngrade check cell."""
    if isinstance(node, ast.ImportFrom):
        return (
            node.level == 0
            and node.module in _CHECK_MODULES
            and (node.module == "graders.notebook" or all(a.name == "notebook" for a in node.names))
        )
    if isinstance(node, ast.Import):
        return all(a.name == "graders.notebook" for a in node.names)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return _dotted(node.value.func) in ("notebook.check", "graders.notebook.check")
    return False


def keeps(node: ast.stmt) -> bool:
    """Whether a top-level statement belongs in the module (see the module docstring)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, ast.Try):
        branches = node.body + node.orelse + node.finalbody
        branches += [s for handler in node.handlers for s in handler.body]
        return all(
            isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) or is_constant_assignment(s)
            for s in branches
        )
    return is_constant_assignment(node)


def _is_assignment(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Assign, ast.AnnAssign))


def _loads(node: ast.stmt) -> set[str]:
    """Names an assignment's value reads when it runs (not inside a lambda's body)."""
    value = getattr(node, "value", None)
    names, pending = set(), [value] if value is not None else []
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Lambda):
            pending += [d for d in current.args.defaults + current.args.kw_defaults if d]
            continue
        if isinstance(current, ast.Name):
            names.add(current.id)
        pending += list(ast.iter_child_nodes(current))
    return names


def _binds(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds (approximately: every name it stores)."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).partition(".")[0] for a in child.names}
    return names


def _keeps(node: ast.stmt) -> bool:
    try:
        return keeps(node)
    except RecursionError:  # an expression nested too deep to judge: not a constant
        return False


def _import_needed(node: ast.Import | ast.ImportFrom, used: set[str]) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    if any(alias.name == "*" for alias in node.names):
        return True  # the names it binds are unknown: keep it
    return any((a.asname or a.name).partition(".")[0] in used for a in node.names)
