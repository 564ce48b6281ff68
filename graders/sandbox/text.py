"""Text that student code produced, made safe for a terminal, HTML or Markdown.

Control characters (C0, DEL, C1 such as the one-byte CSI) and bidirectional overrides
could move the cursor, recolour or rewrite a report line, or make text read backwards;
they become spaces here, where text is taken in. Each report format then encodes it again
where it is written (``graders.render.encode``), with these same character classes.
"""

from __future__ import annotations

#: Bidirectional controls: they make text display in another order than it is stored.
BIDI_CONTROLS = frozenset([0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
#: What a terminal obeys rather than shows: C0, DEL, C1, and the bidirectional controls.
TERMINAL_CONTROLS = frozenset([*range(0, 32), *range(127, 160), *BIDI_CONTROLS])

_CONTROL = dict.fromkeys(TERMINAL_CONTROLS, " ")
_KEEP_LINES = {k: v for k, v in _CONTROL.items() if k not in (9, 10)}


#: What marks text shortened by :func:`clip_words`.
ELLIPSIS = "..."


def clip_words(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word boundary and marked with
    ``...``, so that a reader never sees half a word ("multiply: entry...") and knows
    something was left out. A first word longer than the limit is cut inside it."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ELLIPSIS))
    cut = text[: room + 1].rstrip()
    if len(cut) > room:  # the character after the room is not a space: back up a word
        cut = cut[:room]
        space = cut.rfind(" ")
        if space > room // 2:  # a word boundary that keeps most of the room
            cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS


def clean_line(text: object, limit: int = 500) -> str:
    """One line: no control characters, collapsed spaces, at most ``limit`` characters."""
    return clip_words(" ".join(str(text).translate(_CONTROL).split()), limit)


def clean_block(text: object) -> str:
    """Several lines (a program's output): line breaks and tabs stay, other controls go."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.translate(_KEEP_LINES).rstrip() for line in lines)
