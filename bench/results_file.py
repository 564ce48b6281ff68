"""Keep bench/RESULTS.md as one section per benchmark script, each rewritten in place."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is rewritten by the script it names; numbers are fresh measurements.\n"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section of benchmark ``name`` in RESULTS.md."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    stamp = datetime.date.today().isoformat()
    section = f"{start}\n## {name}\n\n_Measured {stamp} on {machine()}._\n\n{body.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
