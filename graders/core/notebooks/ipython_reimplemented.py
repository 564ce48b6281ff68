"""IPython's input transformations, reimplemented for when IPython is not installed (it is
not a dependency of nngrade): its cleanup steps, its cell magic and its four token
rewrites. The tests hold it to IPython's own output, line for line."""

from __future__ import annotations

import re
import textwrap
import token
from typing import NamedTuple

#: IPython refuses a cell after this many rewrites (its TRANSFORM_LOOP_LIMIT).
TRANSFORM_LOOP_LIMIT = 500
_ESCAPES = frozenset("!?%,;/")
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
_BRACKETS = re.compile(r"[()\[\]{}]")
_PLAIN_LINE = re.compile(r"(?![ \t\x0c]*[,;/])(?P<code>[^'\"\\#?%!\n]*)(?:#[^\n]*)?\n?\Z")
#: One token of a line that the reimplementation tells apart (strings are read on their own).
_LEXEME = re.compile(
    r"(?P<space>[ \t\x0c\n]+)|(?P<continued>\\\n?\Z)|(?P<comment>#[^\n]*)"
    r"|(?P<prefix>(?i:br|rb|fr|rf|tr|rt|[rubft])(?=['\"]))|(?P<quote>['\"])"
    r"|(?P<number>\.?\d(?:[\w.]|(?<=[eE])[+-])*)|(?P<name>\w+)"
    r"|(?P<op>"
    + "|".join(map(re.escape, sorted(token.EXACT_TOKEN_TYPES, key=len, reverse=True)))
    + r"|.)"
)
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
_DOCTEST_FIRST = re.compile(r"^\s*>>>")
_DOCTEST_PS1 = re.compile(r"^\s*>>>[ \t]?")
_DOCTEST_PS2 = re.compile(r"^\s*\.\.\.[ \t]?")
_TRIPLE_QUOTE = re.compile(r"(?<!\\)(\"\"\"|''')")
_PREFIX_ONLY = re.compile(r"(?i)^[rubf]*$")
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])?\ )?In\ \[\d+\]:\ |\s*\.{3,}:\ ?)")


def _with_ends(text: str) -> list[str]:
    """``text`` as lines that keep their "\\n" (only "\\n" breaks a line, as for Python)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _follow(
    old: list[str], new: list[str], origin: list[int], made: list[bool], mark: bool
) -> tuple[list[int], list[bool]]:
    """Origins and made-flags of ``new``, a step's output from ``old``: a step rewrites lines
    in place or replaces one run of lines (a continued ``%magic``, leading blank lines)."""
    if len(new) == len(old):
        return origin, [m or (mark and a != b) for m, a, b in zip(made, old, new, strict=True)]
    shortest = min(len(old), len(new))
    prefix = 0
    while prefix < shortest and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    middle = len(new) - prefix - suffix
    first = origin[min(prefix, len(origin) - 1)] if origin else 1
    return (
        origin[:prefix] + [first] * middle + origin[len(old) - suffix :],
        made[:prefix] + [mark] * middle + made[len(old) - suffix :],
    )


# The reimplementation: IPython's cleanup steps, its cell magic and its four token rewrites
# (MagicAssign, SystemAssign, EscapedCommand, HelpEnd), applied in one pass from the top:
# IPython rewrites the earliest piece of syntax first, and a rewritten line is plain Python.


def _reimplemented(lines: list[str]) -> tuple[list[str], list[int], list[bool]]:
    origin, made = list(range(1, len(lines) + 1)), [False] * len(lines)
    for step, mark in ((_leading_empty_lines, False), (_leading_indent, False),
                       (_prompts, False), (_cell_magic, True)):  # fmt: skip
        new = _with_ends("".join(step(list(lines))))
        origin, made = _follow(lines, new, origin, made, mark)
        lines = new
    row, rewrites = 0, 0
    while row < len(lines):
        if _plain(lines[row]):
            row += 1
            continue
        tokens, last = _logical_line(lines, row)
        change = _rewrite(lines, tokens)
        if change is None:
            row = last + 1
            continue
        rewrites += 1
        if rewrites >= TRANSFORM_LOOP_LIMIT:
            raise RuntimeError(f"more than {TRANSFORM_LOOP_LIMIT} pieces of IPython syntax")
        new_line, first, end = change
        lines[first : end + 1] = [new_line]
        origin[first : end + 1] = [origin[first]]
        made[first : end + 1] = [True]
    return lines, origin, made


def _plain(line: str) -> bool:
    """A line that is a whole logical line and holds no IPython syntax (no quote, backslash,
    ``?``, ``%`` or ``!`` before its comment; brackets closed): most lines, read fast."""
    match = _PLAIN_LINE.match(line)
    if match is None:
        return False
    depth = 0
    for char in _BRACKETS.findall(match.group("code")):
        depth = depth + 1 if char in _OPENING else max(0, depth - 1)
    return depth == 0


def _leading_empty_lines(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line and not line.isspace():
            return lines[index:]
    return lines


def _leading_indent(lines: list[str]) -> list[str]:
    return textwrap.dedent("".join(lines)).splitlines(keepends=True)


def _prompts(lines: list[str]) -> list[str]:
    """Pasted sessions lose their prompts: ``>>>``/``...`` outside triple-quoted strings
    (IPython 9's doctest rule), ``In [1]:``/``...:`` when one of the first two lines has one."""
    inside = _in_triple_quotes(lines)
    if any(
        _DOCTEST_FIRST.match(line) for line, masked in zip(lines, inside, strict=True) if not masked
    ):
        lines = _doctest_stripped(lines, inside)
    if any(_IPYTHON_PROMPT.match(line) for line in lines[:2]):
        lines = [_IPYTHON_PROMPT.sub("", line, count=1) for line in lines]
    return lines


def _in_triple_quotes(lines: list[str]) -> list[bool]:
    """IPython's guess of the lines inside a triple-quoted string that begins a line (a
    docstring), whose ``>>>`` examples keep their prompts."""
    mask: list[bool] = []
    quote, preserve, seen_prompt = None, False, False
    for line in lines:
        mask.append(quote is not None and preserve)
        for match in _TRIPLE_QUOTE.finditer(line):
            if quote is None:
                quote, before = match.group(1), line[: match.start()]
                stripped = _DOCTEST_PS2.sub("", _DOCTEST_PS1.sub("", before, count=1), count=1)
                prompted = stripped != before and seen_prompt
                preserve = bool(not prompted and _PREFIX_ONLY.match(stripped.strip()))
                mask[-1] = preserve
            elif quote == match.group(1):
                quote, preserve = None, False
        seen_prompt = seen_prompt or bool(_DOCTEST_FIRST.match(line))
    return mask


def _doctest_stripped(lines: list[str], inside: list[bool]) -> list[str]:
    """``lines`` without their ``>>>``/``...`` prompts, each stripped run dedented."""
    out, stripped = [], []
    for line, masked in zip(lines, inside, strict=True):
        new = line
        if not masked:
            prompt = _DOCTEST_PS1 if _DOCTEST_PS1.match(line) else _DOCTEST_PS2
            new = prompt.sub("", line, count=1)
        out.append(new)
        stripped.append(new != line)
    result: list[str] = []
    start = 0
    while start < len(out):
        end = start
        while end < len(out) and inside[end] == inside[start]:
            end += 1
        run = out[start:end]
        if not inside[start] and any(stripped[start:end]):
            run = textwrap.dedent("".join(run)).splitlines(keepends=True)
        result += run
        start = end
    return result


def _cell_magic(lines: list[str]) -> list[str]:
    if not lines or not lines[0].startswith("%%") or re.match(r"%%\w+\?", lines[0]):
        return lines
    name, _, first = lines[0][2:].rstrip().partition(" ")
    return [f"get_ipython().run_cell_magic({name!r}, {first!r}, {''.join(lines[1:])!r})\n"]


class _Token(NamedTuple):
    kind: str  # "name", "number", "string", "comment" or "op" (any other character)
    text: str
    row: int
    col: int


def _logical_line(lines: list[str], row: int) -> tuple[list[_Token], int]:
    """The tokens of the logical line that starts at ``lines[row]``, and its last row: open
    brackets, strings and a final backslash continue a line, as for Python's tokenizer."""
    tokens: list[_Token] = []
    depth = 0
    while row < len(lines):
        line, col, continued = lines[row], 0, False
        while col < len(line):
            match = _LEXEME.match(line, col)
            assert match is not None  # its last alternative matches any character
            kind, text = match.lastgroup or "op", match.group()
            if kind == "continued":
                continued = True
                break
            if kind == "comment":
                tokens.append(_Token(kind, text, row, col))
                break
            if kind == "quote":
                end = _string_end(lines, row, col)
                if end is None:  # unterminated on its line: the quote alone, as tokenize does
                    tokens.append(_Token("op", text, row, col))
                    col += 1
                    continue
                tokens.append(_Token("string", text, row, col))
                row, col = end
                line = lines[row]
                continue
            if kind not in ("space", "prefix"):
                tokens.append(_Token(kind, text, row, col))
                if text in _OPENING:
                    depth += 1
                elif text in _CLOSING and depth:
                    depth -= 1
            col = match.end()
        if (continued or depth > 0) and row + 1 < len(lines):
            row += 1
            continue
        return tokens, row
    return tokens, len(lines) - 1


def _string_end(lines: list[str], row: int, col: int) -> tuple[int, int] | None:
    """(row, col) just past the string that starts at ``lines[row][col]``; None when a
    one-line string is not closed on its line. An unclosed triple-quoted string runs on."""
    line = lines[row]
    quote = line[col] * 3 if line.startswith(line[col] * 3, col) else line[col]
    col += len(quote)
    while row < len(lines):
        line = lines[row]
        while col < len(line):
            if line[col] == "\\":
                col += 2
            elif line.startswith(quote, col):
                return row, col + len(quote)
            elif line[col] == "\n" and len(quote) == 1:
                return None
            else:
                col += 1
        if len(quote) == 1 and not line.endswith("\\\n"):
            return None
        row, col = row + 1, 0
    return len(lines) - 1, len(lines[-1])


def _rewrite(lines: list[str], tokens: list[_Token]) -> tuple[str, int, int] | None:
    """(new line, first row, last row) of the rewrite IPython applies to this logical line,
    or None. Its candidates are tried by position, HelpEnd before EscapedCommand; one that
    fails leaves the line as it is, and the cell a syntax error, in IPython too."""
    if not tokens:
        return None
    first, candidates = tokens[0], []
    if tokens[-1].kind == "op" and tokens[-1].text == "?" and len(tokens) > 1:
        candidates.append((first.row, first.col, 5, "help", tokens[-1]))
    if first.kind == "op" and first.text in _ESCAPES:
        candidates.append((first.row, first.col, 10, "escape", first))
    assigned = _assigned_special(lines, tokens)
    if assigned is not None:
        candidates.append((assigned.row, assigned.col, 10, "assign", assigned))
    for row, col, _, kind, at in sorted(candidates, key=lambda c: c[:3]):
        try:
            if kind == "help":
                return _help_end(lines, first, at)
            return _escaped(lines, row, col) if kind == "escape" else _assigned(lines, row, col)
        except SyntaxError:
            continue
    return None


def _assigned_special(lines: list[str], tokens: list[_Token]) -> _Token | None:
    """The ``%`` of ``x = %magic`` or the ``!`` of ``x = !command`` right after the first
    ``=`` outside brackets: IPython's MagicAssign and SystemAssign."""
    depth = 0
    for index, current in enumerate(tokens):
        if current.kind != "op":
            continue
        if current.text in _OPENING:
            depth += 1
        elif current.text in _CLOSING:
            depth = max(0, depth - 1)
        elif current.text == "=" and depth == 0:
            after = tokens[index + 1 : index + 3] + [_Token("", "", 0, 0)] * 2
            if after[0].kind == "op" and after[0].text == "%" and after[1].kind == "name":
                return after[0]
            bang = after[0].kind == "op" and after[0].text == "!"
            return after[0] if bang and not lines[current.row].strip().startswith("=") else None
    return None


def _continued_end(lines: list[str], row: int) -> int:
    """The last row of a line continued with backslashes (IPython's own rule)."""
    end = row
    while lines[end].endswith("\\\n"):
        end += 1
        if end >= len(lines):
            break
    return end


def _assembled(lines: list[str], row: int, col: int, end: int) -> str:
    parts = [lines[row][col:]] + lines[row + 1 : end + 1]
    return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])


def _escaped(lines: list[str], row: int, col: int) -> tuple[str, int, int]:
    """``!ls``, ``%time f()``, ``?obj``, ``,f a b``, ``;f a b``, ``/f a b`` as IPython's calls."""
    end = _continued_end(lines, row)
    line = _assembled(lines, row, col, end)
    escape = line[:2] if line[:2] in ("!!", "??") else line[:1]
    content = line[len(escape) :]
    name, _, args = content.partition(" ")
    if escape == "!":
        call = f"get_ipython().system({content!r})"
    elif escape == "!!":
        call = f"get_ipython().getoutput({content!r})"
    elif escape in ("?", "??"):
        call = _help_call(content, escape) if content else "get_ipython().show_usage()"
    elif escape == "%":
        call = f"get_ipython().run_line_magic({name!r}, {args!r})"
    elif escape == ",":
        call = '{}("{}")'.format(name, '", "'.join(args.split()))
    elif escape == ";":
        call = f'{name}("{args}")'
    else:  # "/"
        if not name:
            raise SyntaxError("/ must be followed by a callable name")
        call = "{}({})".format(name, ", ".join(args.split()))
    return lines[row][:col] + call + "\n", row, end


def _help_call(target: str, escape: str) -> str:
    method = "pinfo2" if escape == "??" else "psearch" if "*" in target else "pinfo"
    name, _, argument = f"{method} {target}".partition(" ")
    return f"get_ipython().run_line_magic({name.lstrip('%')!r}, {argument!r})"


def _help_end(lines: list[str], first: _Token, mark: _Token) -> tuple[str, int, int]:
    """``obj?`` and ``obj??`` (the whole logical line asks for help on obj)."""
    piece = "".join(lines[first.row : mark.row + 1])
    match = _HELP_END.search(piece[first.col :])
    if not match:
        raise SyntaxError(piece)
    return (
        piece[: first.col] + _help_call(match.group(1), match.group(3)) + "\n",
        first.row,
        mark.row,
    )


def _assigned(lines: list[str], row: int, col: int) -> tuple[str, int, int]:
    """``x = %magic args`` and ``x = !command`` as IPython's calls."""
    end = _continued_end(lines, row)
    rest = _assembled(lines, row, col, end)
    if rest.startswith("%"):
        name, _, args = rest[1:].partition(" ")
        call = f"get_ipython().run_line_magic({name!r}, {args!r})"
    else:
        call = f"get_ipython().getoutput({rest[1:]!r})"
    return lines[row][:col] + call + "\n", row, end
