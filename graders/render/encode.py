"""One encoder per sink for text that students control.

File and folder names, zip members, reasons, printed output, reprs and notices reach
terminals, Markdown, HTML, CSV, XML and JSON. Each writer passes such text through the
encoder of its sink, here, where it is written: nothing a student wrote may become a
terminal command, a heading, a link, a tag, a formula, invalid XML or a ``Points`` line.
Characters that must not pass are replaced visibly (``\\x1b``, ``\\u202e``), never dropped.

``Points`` followed by a number and a slash is the shape of the grader's ``Points X/Y`` line,
which CI integrations read (often the first match in a log). In student text every sink
but JSON splits the word with a word joiner (U+2060: invisible, and neither a letter nor
a space), so no pattern for that line (``Points (\\d+)/(\\d+)``, ``(?i)points\\s*:?\\s*\\d``)
finds one in a reason, a name or printed output. JSON keeps student text as it was: it is
data, read by field (``score``, ``points``), never by pattern.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

from graders.sandbox.text import TERMINAL_CONTROLS

#: Line and paragraph separators, which some viewers break lines at.
_SEPARATORS = frozenset([0x2028, 0x2029])
#: Halves of surrogate pairs: no UTF-8 writer or XML parser accepts them alone.
_SURROGATES = frozenset(range(0xD800, 0xE000))
#: Not characters at all (invalid in XML 1.0).
_NONCHARACTERS = frozenset([0xFFFE, 0xFFFF])
_UNSAFE = TERMINAL_CONTROLS | _SEPARATORS | _SURROGATES | _NONCHARACTERS
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    """A character's visible stand-in: ``\\n``, ``\\x1b``, ``\\u202e``."""
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_VISIBLE = {code: _escape(code) for code in _UNSAFE}
_VISIBLE_KEEP_LINES = {k: v for k, v in _VISIBLE.items() if k not in (9, 10)}


#: Where a word joiner goes: inside "Points" (any case) followed, after spaces, a colon or
#: an equals sign, by a number and a slash: the shape of ``Points X/Y``. Other uses of the
#: word ("10/10 points, 8 criteria") are left as they are.
_POINTS_WORD = re.compile(r"(?i)(?<=poin)(?=ts[\s:=]{0,40}\d[\d.,]*\s*/)")
WORD_JOINER = "\u2060"


def _no_points_line(text: str) -> str:
    """``text`` in which no ``Points X/Y`` pattern matches (see the module's docstring)."""
    return _POINTS_WORD.sub(WORD_JOINER, text)


def _visible(text: object, table: dict[int, str] = _VISIBLE) -> str:
    """``text`` with every unsafe character written as its escape, and no Points line."""
    return _no_points_line(str(text).translate(table))


def terminal(text: object) -> str:
    """One line for a terminal or plain-text page, where no control or bidi character acts."""
    return _visible(text)


def terminal_lines(text: object) -> str:
    """Lines for a terminal (output, a summary): only line breaks act, so the shape stays."""
    lines = str(text).replace("\r\n", "\n").split("\n")
    return "\n".join(_visible(line.expandtabs(8)) for line in lines)


#: Escaped wherever they are: emphasis, code, links and images (``[``), tables, strike-
#: through, math, mentions and e-mail links, headings, HTML (as entities), the backslash.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]|~$@&<>#]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: What starts a block only at the start of a line: lists, setext underlines.
_BLOCK_START = re.compile(r"^(\d{1,9}(?=[.)])|(?=[-+=]))")
#: Extended autolinks: ``http://``, ``www.``.
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(?=://)|(?<=\bwww)(?=\.)", re.IGNORECASE)


def _markdown_char(match: re.Match[str]) -> str:
    """An HTML entity for ``&<>``, a backslash escape for the other specials."""
    char = match.group()
    return _ENTITIES.get(char, "\\" + char)


def markdown(text: object) -> str:
    """One inert Markdown line: no heading, list, link, tag, table, emphasis or break."""
    flat = _visible(" ".join(str(text).split()))  # line breaks and runs of spaces: one space
    escaped = _MARKDOWN_SPECIAL.sub(_markdown_char, flat)
    escaped = _AUTOLINK.sub("\\\\", escaped)
    match = _BLOCK_START.match(escaped)
    if match is None:
        return escaped
    end = match.end()
    return escaped[:end] + "\\" + escaped[end:]


def html(text: object) -> str:
    """HTML text or attribute value that opens no tag and closes no quote."""
    return _html.escape(_visible(text, _VISIBLE_KEEP_LINES), quote=True)


def html_url(url: str) -> str:
    """An attribute value for a link that is already percent-encoded (``quote(..., safe="")``
    leaves no space, colon or control in it, so no ``Points`` pattern can match there): the
    link must keep pointing at the file, so it gets no word joiner."""
    return _html.escape(url.translate(_VISIBLE_KEEP_LINES), quote=True)


#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection); tab and CR
#: are already shown as ``\\t`` and ``\\r`` by then, and listed for completeness.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: object) -> str:
    """A one-line CSV cell that a spreadsheet shows as text, never runs as a formula."""
    cell = _visible(text)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def xml(text: object) -> str:
    """Only characters XML 1.0 can hold, so the report parses (ElementTree escapes markup)."""
    return _visible(text, _VISIBLE_KEEP_LINES)


def json_value(value: Any) -> Any:
    """Every string (keys too) UTF-8-encodable, so any JSON reader and file writer takes it."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {json_value(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value
