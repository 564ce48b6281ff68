"""Text that student code produced, made safe for a terminal, HTML or Markdown.

Control characters (C0, DEL, C1 such as the one-byte CSI) and bidirectional overrides
could move the cursor, recolour or rewrite a report line, or make text read backwards;
they become spaces. HTML and Markdown escaping is the renderers' job on top of this.
"""

from __future__ import annotations

_BIDI = [0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_CONTROL = dict.fromkeys([*range(0, 32), *range(127, 160), *_BIDI], " ")
_KEEP_LINES = {k: v for k, v in _CONTROL.items() if k not in (9, 10)}


def clean_line(text: object, limit: int = 500) -> str:
    """One line: no control characters, collapsed spaces, at most ``limit`` characters."""
    flat = " ".join(str(text).translate(_CONTROL).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def clean_block(text: object) -> str:
    """Several lines (a program's output): line breaks and tabs stay, other controls go."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.translate(_KEEP_LINES).rstrip() for line in lines)
