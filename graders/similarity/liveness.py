"""Statements that cannot change what code returns or changes, dropped before comparing.

A copier can hide a copy by putting statements that do nothing between its lines: each
one breaks the k-grams around it. This removes, in every body:

* code after ``return``, ``raise``, ``break`` or ``continue`` (it never runs);
* ``pass``, and expression statements that call nothing (``x``, ``a + 1``, ``[y]``);
* no-op arithmetic: ``x = x + 0``, ``x += 0``, ``x = x * 1``, ``x -= 0``, ``x /= 1``, ``x = x``;

and, in a function, assignments to a local name that nothing reads afterwards (a backward
liveness analysis over the function's statements, loops to a fixed point) whose value
calls nothing but functions without effects (builtins such as ``len`` and ``range``,
``numpy.*``/``math.*``, and a few array methods such as ``.sum()``).

It is conservative where Python is not plain: a name a nested function, a lambda, a class
body or a comprehension reads, a ``global`` or ``nonlocal`` name, and every name of a
function that calls ``locals``, ``vars``, ``eval`` or ``exec`` counts as read; an
augmented assignment (``a += b`` may change an array shared with the caller) and an
assignment to an attribute or an item are never dropped.
"""

from __future__ import annotations

import ast

_PURE_BUILTINS = frozenset(
    [
        "abs",
        "all",
        "any",
        "bool",
        "complex",
        "dict",
        "divmod",
        "enumerate",
        "float",
        "frozenset",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "pow",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "slice",
        "sorted",
        "str",
        "sum",
        "tuple",
        "type",
        "zip",
    ]
)
_PURE_MODULES = frozenset({"np", "numpy", "math"})
_PURE_METHODS = frozenset(
    [
        "T",
        "astype",
        "copy",
        "flatten",
        "mean",
        "reshape",
        "sum",
        "max",
        "min",
        "argmax",
        "argmin",
        "std",
        "var",
        "transpose",
        "ravel",
        "dot",
        "item",
        "tolist",
    ]
)
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec", "globals"})
_ENDS_BLOCK = (ast.Return, ast.Raise, ast.Break, ast.Continue)
#: (operator, the right-hand constant that makes it do nothing).
_NO_OPS = ((ast.Add, 0), (ast.Sub, 0), (ast.Mult, 1), (ast.Div, 1), (ast.FloorDiv, 1))


def without_dead_code(tree: ast.Module) -> ast.Module:
    """``tree`` without the statements described in the module docstring (changed in
    place, and returned)."""
    _Pruner().visit(tree)
    return tree


class _Pruner(ast.NodeVisitor):
    def generic_visit(self, node: ast.AST) -> None:
        super().generic_visit(node)  # inner bodies first
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, field, _inert_removed(statements))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _drop_unread_assignments(node)


def _inert_removed(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` up to the first that ends the block, without inert ones."""
    kept: list[ast.stmt] = []
    for statement in statements:
        if not _inert(statement):
            kept.append(statement)
        if isinstance(statement, _ENDS_BLOCK):
            break
    return kept


def _inert(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return False  # a docstring: the normaliser drops it anyway
        return not _has_effect(value, pure_calls=False)
    return _no_op(statement)


def _no_op(statement: ast.stmt) -> bool:
    """``x = x + 0``, ``x += 0``, ``x = x * 1``, ``x = x`` and the like."""
    if isinstance(statement, ast.AugAssign):
        target, op, value = statement.target, statement.op, statement.value
    elif (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        target, value = statement.targets[0], statement.value
        if isinstance(value, ast.Name) and value.id == target.id:
            return True
        if not (isinstance(value, ast.BinOp) and _same_name(value.left, target)):
            return False
        op, value = value.op, value.right
    else:
        return False
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Constant):
        return False
    number = value.value
    if isinstance(number, bool) or not isinstance(number, int | float):
        return False
    return any(isinstance(op, kind) and number == neutral for kind, neutral in _NO_OPS)


def _same_name(node: ast.AST, target: ast.Name) -> bool:
    return isinstance(node, ast.Name) and node.id == target.id


def _has_effect(node: ast.AST, pure_calls: bool) -> bool:
    """Whether evaluating ``node`` may change anything: a call (unless ``pure_calls`` and
    it is one of the known pure ones), an await, a yield or an assignment expression."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
            return True
        if isinstance(inner, ast.Call) and not (pure_calls and _pure_call(inner)):
            return True
    return False


def _pure_call(call: ast.Call) -> bool:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id in _PURE_BUILTINS
    if isinstance(function, ast.Attribute):
        root = function
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in _PURE_MODULES:
            return True
        return function.attr in _PURE_METHODS
    return False


# -- liveness in a function --------------------------------------------------------------------


def _drop_unread_assignments(function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    escaping = _escaping_names(function)
    if escaping is None:
        return  # it reads its own namespace: every name may be read
    analysis = _Liveness(escaping)
    function.body = analysis.block(function.body, set())


def _escaping_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str] | None:
    """Names that code other than the function's own statements may read (nested
    functions, lambdas, classes, comprehensions, ``global``/``nonlocal``); None when the
    function can read any of its names by string."""
    names: set[str] = set()
    for statement in function.body:
        for node in ast.walk(statement):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if call and node.func.id in _INTROSPECTION:
                return None
            if isinstance(node, ast.Global | ast.Nonlocal):
                names.update(node.names)
            nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                      ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip
            if isinstance(node, nested):
                names.update(_loaded(node))
    return names


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _Liveness:
    """Backward liveness over structured statements; drops assignments nothing reads
    (with ``prune`` false it only computes what is live, changing nothing)."""

    def __init__(self, escaping: set[str], prune: bool = True):
        self.escaping = escaping
        self.prune = prune

    def block(self, statements: list[ast.stmt], live: set[str]) -> list[ast.stmt]:
        """``statements`` without dead assignments, given the names ``live`` after them;
        ``live`` becomes the names live before them."""
        kept: list[ast.stmt] = []
        for statement in reversed(statements):
            if self._dead(statement, live):
                if not self.prune:
                    kept.append(statement)  # dead: it changes nothing of what is live
                continue
            kept.append(self.statement(statement, live))
        kept.reverse()
        return kept

    def _dead(self, statement: ast.stmt, live: set[str]) -> bool:
        if not (isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None):
            return False
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if len(names) != len(targets):
            return False  # an attribute, an item or unpacking: an effect or too subtle
        if any(name in live or name in self.escaping for name in names):
            return False
        return not _has_effect(statement.value, pure_calls=True)

    def statement(self, statement: ast.stmt, live: set[str]) -> ast.stmt:
        """``statement`` with its inner blocks pruned; updates ``live`` to before it."""
        if isinstance(statement, ast.Return):
            live.clear()
            live.update(_loaded(statement))
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    live.discard(target.id)
            live.update(_loaded(statement))
        elif isinstance(statement, ast.If):
            after = set(live)
            body = self.block(statement.body, body_live := set(after))
            orelse = self.block(statement.orelse, else_live := set(after))
            if self.prune:
                statement.body, statement.orelse = body, orelse
            live.clear()
            live.update(body_live | else_live | _loaded(statement.test))
        elif isinstance(statement, ast.For | ast.AsyncFor | ast.While):
            self._loop(statement, live)
        else:
            # try, with, match, del, assert, nested definitions, augmented assignments:
            # what they read is live, and what they contain is left as it is.
            live.update(_loaded(statement))
        return statement

    def _loop(self, loop: ast.For | ast.AsyncFor | ast.While, live: set[str]) -> None:
        """Live names before a loop: a fixed point over its body (which may run again)."""
        head = _loaded(loop.test) if isinstance(loop, ast.While) else _loaded(loop.iter)
        after = set(live)
        before = set(after) | head
        analysis = _Liveness(self.escaping, prune=False)
        for _ in range(len(loop.body) + 10):
            inside = set(before) | after
            analysis.block(loop.body, inside)
            updated = inside | head | after  # a for loop's target kept live: conservative
            if updated == before:
                break
            before = updated
        body = self.block(loop.body, set(before) | after)
        orelse = self.block(loop.orelse, orelse_live := set(after))
        if self.prune:
            loop.body, loop.orelse = body, orelse
        live.clear()
        live.update(before | orelse_live | head)
