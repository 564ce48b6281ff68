"""Code as a sequence of normalised tokens: what a disguised copy cannot change.

A copy is disguised by renaming identifiers, moving functions around, rewriting comments
and whitespace, and rewriting loops. None of that changes the syntax tree much, so the
tokens are read from it (Python's ``ast``), in source order, one per node:

* every name the file binds (variables, parameters, functions, classes, attributes it
  assigns, import aliases) is ``ID``; builtins it does not rebind and library names
  (``.sum``, ``axis=``) stay as they are, since they carry meaning a renaming keeps;
* strings are ``STR``, numbers stay; comments, docstrings and type annotations are gone;
* ``x = x + y`` is ``x += y``; ``a > b`` is ``b < a``; ``range(n)`` is ``range(0, n)``;
* a counting ``while`` (``i = a`` / ``while i < b:`` ... ``i += s``) is the ``for i in
  range(a, b, s)`` it stands for, and every loop, ``for`` or ``while``, starts with the
  same token;
* statements that cannot change what the code returns or changes (unread assignments,
  code after ``return``, ``pass``, no-op arithmetic) are dropped first
  (:mod:`graders.similarity.liveness`).

Each token keeps the line it came from, so that matches are shown in the student's code.
A file that does not parse is read as far as it does: the top-level blocks Python
reports an error in are blanked, one at a time, and the rest is read.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from dataclasses import dataclass

from graders.similarity.liveness import without_dead_code

#: How many broken top-level blocks are blanked before a file is given up on.
MAX_REPAIRS = 20
_BUILTINS = frozenset(dir(builtins))
_LOOP = "LOOP"
_SKIPPED = (ast.expr_context, ast.Pass)


@dataclass(frozen=True)
class TokenStream:
    """Normalised tokens and the line (1-based, in the text read) each one came from."""

    tokens: tuple[str, ...]
    lines: tuple[int, ...]
    #: Why part or all of the text was not read ("" when all of it was).
    problem: str = ""


def normalise(text: str) -> TokenStream:
    """The token stream of Python source ``text`` (see the module docstring)."""
    tree, problem = parse_leniently(text)
    if tree is None:
        return TokenStream((), (), problem)
    try:
        tokens, lines = _emit(_Canonical().visit(without_dead_code(tree)))
    except RecursionError:
        return TokenStream((), (), "nested too deeply to compare")
    return TokenStream(tuple(tokens), tuple(lines), problem)


def parse_leniently(text: str) -> tuple[ast.Module | None, str]:
    """The syntax tree of ``text``, with the top-level blocks that break it blanked; the
    tree is None when nothing could be read. The message says what was left out."""
    lines = text.splitlines()
    blanked: list[int] = []
    for _ in range(MAX_REPAIRS + 1):
        try:
            with warnings.catch_warnings():  # "invalid escape sequence": the student's business
                warnings.simplefilter("ignore")
                tree = ast.parse("\n".join(lines))
        except SyntaxError as error:
            row = min((error.lineno or 1) - 1, len(lines) - 1)
            if row < 0 or len(blanked) == MAX_REPAIRS:
                break
            start, end = _block_around(lines, row)
            blanked.append(start + 1)
            lines[start:end] = [""] * (end - start)
            continue
        except (ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
            return None, "could not be parsed"
        if blanked:
            shown = ", ".join(map(str, blanked))
            return tree, f"does not parse; compared without the block(s) at line {shown}"
        return tree, ""
    return None, "does not parse"


def _block_around(lines: list[str], row: int) -> tuple[int, int]:
    """The top-level block holding line ``row``: from the last unindented line at or
    before it to the next unindented line after it."""

    def starts_block(line: str) -> bool:
        return bool(line) and not line[0].isspace() and not line.startswith("#")

    start = row
    while start > 0 and not starts_block(lines[start]):
        start -= 1
    end = row + 1
    while end < len(lines) and not starts_block(lines[end]):
        end += 1
    return start, end


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, annotate_fields=False).replace("Store()", "Load()") == ast.dump(
        b, annotate_fields=False
    ).replace("Store()", "Load()")


class _Canonical(ast.NodeTransformer):
    """Rewrites that make equivalent spellings one: see the module docstring."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)  # children first: a loop's step is already ``i += s``
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and any(isinstance(s, ast.While) for s in statements):
                setattr(node, field, _with_for_loops(statements))
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a docstring or a bare string: prose
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None  # a declaration only
        assign = ast.Assign(targets=[node.target], value=node.value)
        return self.visit(ast.copy_location(assign, node))

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        value = node.value
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(value, ast.BinOp) and _same(target, value.left):
            augmented = ast.AugAssign(target=target, op=value.op, value=value.right)
            return ast.copy_location(augmented, node)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        flipped = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
        if len(node.ops) == 1 and type(node.ops[0]) in flipped:
            swapped = ast.Compare(
                left=node.comparators[0],
                ops=[flipped[type(node.ops[0])]()],
                comparators=[node.left],
            )
            return ast.copy_location(swapped, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "range" and not node.keywords:
            if len(node.args) == 1:
                node.args = [ast.copy_location(ast.Constant(0), node), node.args[0]]
            elif len(node.args) == 3 and _is_number(node.args[2], 1):
                node.args = node.args[:2]
        return node


def _is_number(node: ast.AST, value: int) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == value


def _with_for_loops(statements: list[ast.stmt]) -> list[ast.stmt]:
    result: list[ast.stmt] = []
    for statement in statements:
        previous = result[-1] if result else None
        loop = _as_for(statement, previous) if isinstance(statement, ast.While) else None
        if loop is None:
            result.append(statement)
            continue
        replacement, used_previous = loop
        if used_previous:
            result.pop()
        result.append(replacement)
    return result


def _as_for(loop: ast.While, previous: ast.stmt | None) -> tuple[ast.For, bool] | None:
    """``i = a; while i < b: ...; i += s`` as ``for i in range(a, b, s)`` (and the
    ``<=``, ``!=`` and counting-down forms); None for any other ``while``."""
    test, body = loop.test, loop.body
    if loop.orelse or not body or not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    step = body[-1]
    if not (isinstance(step, ast.AugAssign) and isinstance(step.target, ast.Name)):
        return None
    name, op = step.target.id, test.ops[0]
    left, right = test.left, test.comparators[0]
    if isinstance(left, ast.Name) and left.id == name and isinstance(step.op, ast.Add):
        if not isinstance(op, (ast.Lt, ast.LtE, ast.NotEq)):
            return None
        stop = (
            right if not isinstance(op, ast.LtE) else ast.BinOp(right, ast.Add(), ast.Constant(1))
        )
        by: ast.expr | None = None if _is_number(step.value, 1) else step.value
    elif isinstance(right, ast.Name) and right.id == name and isinstance(step.op, ast.Sub):
        if not isinstance(op, (ast.Lt, ast.LtE)):  # ``b < i``: counting down to b
            return None
        stop = left if isinstance(op, ast.Lt) else ast.BinOp(left, ast.Sub(), ast.Constant(1))
        by = ast.UnaryOp(ast.USub(), step.value)
    else:
        return None
    used_previous = (
        isinstance(previous, ast.Assign)
        and len(previous.targets) == 1
        and isinstance(previous.targets[0], ast.Name)
        and previous.targets[0].id == name
    )
    start = previous.value if used_previous else ast.Name(name, ast.Load())  # type: ignore[union-attr]
    arguments = [start, stop] + ([by] if by is not None else [])
    iterator = ast.Call(ast.Name("range", ast.Load()), arguments, [])
    target = ast.Name(name, ast.Store())
    replacement = ast.For(target=target, iter=iterator, body=body[:-1], orelse=[])
    for node in (replacement, iterator, target, iterator.func, *arguments):
        ast.copy_location(node, loop)
    return replacement, used_previous


#: Nodes that bind a name, the name they bind, and the kinds of name it can be used as.
#: A variable is any name the file binds; an attribute or a keyword argument counts as
#: the file's own only when the file defines it as one (``self.x = ...``, ``def f(x)``,
#: a method), so that a local variable ``shape`` leaves ``X.shape`` alone.
_BINDS = {
    ast.FunctionDef: (lambda node: node.name, ("{}", ".{}")),
    ast.AsyncFunctionDef: (lambda node: node.name, ("{}", ".{}")),
    ast.ClassDef: (lambda node: node.name, ("{}", ".{}")),
    ast.arg: (lambda node: node.arg, ("{}", "{}=")),
    ast.alias: (lambda node: node.asname or node.name.split(".")[0], ("{}",)),
    ast.ExceptHandler: (lambda node: node.name, ("{}",)),
}


@dataclass(frozen=True)
class _Named:
    """A name to write as a token once the whole file is read: ``ID`` if the file binds it.
    ``form`` is "{}" for a variable, ".{}" for an attribute, "{}=" for a keyword argument."""

    name: str
    form: str


def _emit(tree: ast.AST) -> tuple[list[str], list[int]]:
    """Tokens of ``tree`` in source order (pre-order), each with its line.

    Whether a name is ``ID`` depends on the whole file (is it bound anywhere?), so names
    are noted during the walk, which also collects the bound ones, and written after it.
    """
    tokens: list[str | _Named] = []
    lines: list[int] = []
    bound: set[tuple[str, str]] = set()  # (form, name)
    stack: list[tuple[ast.AST | _Named, int]] = [(tree, 1)]
    while stack:
        node, line = stack.pop()
        if isinstance(node, _Named):  # an attribute's name, after its value
            tokens.append(node)
            lines.append(line)
            continue
        line = getattr(node, "lineno", line)
        kind = type(node)
        if kind in _BINDS:
            name_of, forms = _BINDS[kind]
            bound.update((form, name_of(node) or "") for form in forms)
        elif kind in (ast.Global, ast.Nonlocal):
            bound.update(("{}", name) for name in node.names)
        if kind is ast.Name:
            if not isinstance(node.ctx, ast.Load):
                bound.add(("{}", node.id))
            token, children = _Named(node.id, "{}"), []
        elif kind is ast.Attribute:
            if not isinstance(node.ctx, ast.Load):
                bound.add((".{}", node.attr))
            stack.append((_Named(node.attr, ".{}"), getattr(node, "end_lineno", None) or line))
            token, children = "Attribute", [node.value]
        elif kind is ast.keyword:
            token, children = _Named(node.arg or "**", "{}="), [node.value]
        else:
            token, children = _token(node)
        if token:
            tokens.append(token)
            lines.append(line)
        stack.extend((child, line) for child in reversed(children))
    return [_written(token, bound) for token in tokens], lines


def _written(token: str | _Named, bound: set[tuple[str, str]]) -> str:
    if isinstance(token, str):
        return token
    if (token.form, token.name) in bound:
        return token.form.format("ID")
    if token.form == "{}" and token.name not in _BUILTINS:
        return "ID"  # a name the file uses but never binds: a star import's, or a typo
    return token.form.format(token.name)


def _token(node: ast.AST) -> tuple[str, list[ast.AST]]:
    """The token of a node without a name of its own, and its children in source order."""
    if isinstance(node, ast.Constant):
        return _constant(node.value), []
    if isinstance(node, ast.alias):
        return f"import {node.name}", []
    if isinstance(node, ast.ImportFrom):
        return f"from {'.' * node.level}{node.module or ''}", list(node.names)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def", [*node.decorator_list, node.args, *node.body]
    if isinstance(node, ast.ClassDef):
        return "class", [*node.decorator_list, *node.bases, *node.keywords, *node.body]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return _LOOP, list(ast.iter_child_nodes(node))
    if isinstance(node, _SKIPPED):
        return "", []
    return type(node).__name__, list(ast.iter_child_nodes(node))


def _constant(value: object) -> str:
    if isinstance(value, str):
        return "STR"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "INT"  # (and no repr of a number with thousands of digits)
    return repr(value)
