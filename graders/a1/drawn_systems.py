"""How the agreement criterion's public systems were drawn: 40 well-conditioned 3x3 systems
of small integers, drawn by hypothesis with the graders' fixed settings.

They are drawn once and kept in ``agreement_systems.json`` beside this file, which is the
questions' only source. A draw at grading time cost a check the import of hypothesis and a
third of a second, and it was not the same everywhere: hypothesis mixes the literals of the
local modules it finds loaded into its examples, so an edit to any grader module, an
installed wheel (whose modules are not local) or another hypothesis release asked other
questions. ``python -m graders.a1.drawn_systems`` draws a new set and rewrites the file:
do that only to change the public questions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from graders.kit import expect

STORED = Path(__file__).with_name("agreement_systems.json")

System = tuple[list[list[int]], list[int]]


@st.composite
def well_conditioned_systems(draw: st.DrawFn) -> System:
    entries = st.integers(min_value=-9, max_value=9)
    A = [[draw(entries) for _ in range(3)] for _ in range(3)]
    B = [draw(st.integers(min_value=-20, max_value=20)) for _ in range(3)]
    matrix = np.array(A, dtype=float)
    assume(abs(np.linalg.det(matrix)) >= 1 and np.linalg.cond(matrix) < 100)
    return A, B


def draw_systems() -> list[System]:
    """The property's systems, drawn as hypothesis does (the same ones every run)."""
    systems: list[System] = []

    @given(system=well_conditioned_systems())
    @expect.PROPERTY_SETTINGS
    def draw(system: System) -> None:
        A, _ = system
        assume(all(any(row) for row in A))
        if system not in systems:
            systems.append(system)

    draw()
    return systems


def main() -> None:
    systems = draw_systems()
    rows = ",\n".join(
        " " + json.dumps({"A": A, "B": B}, separators=(", ", ": ")) for A, B in systems
    )
    STORED.write_text("[\n" + rows + "\n]\n")
    print(f"wrote {len(systems)} systems to {STORED}")


if __name__ == "__main__":
    main()
