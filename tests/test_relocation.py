"""Relocating module lines to notebook cells reads student text (notices, reasons): it is
bounded, so a crafted text neither crashes grading nor makes it hang."""

from __future__ import annotations

import time

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.core import notebooks


@pytest.fixture
def module(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# a2"),
        nbformat.v4.new_code_cell("import numpy as np\n\n\ndef forward(X):\n    return X\n"),
    ]
    path = tmp_path / "perceptron.ipynb"
    nbformat.write(notebook, path)
    built = notebooks.convert(path, "a2/perceptron.ipynb")
    return {built.module: built}


def test_a_line_number_of_5000_digits_is_no_line(module):
    text = "a2/perceptron.py:" + "9" * 5000 + " tried to start another program"
    moved = notebooks.relocate_text(text, module)
    assert moved.startswith("a2/perceptron.ipynb") and "cell" not in moved[:40]


def test_a_real_line_is_relocated(module):
    line = next(n for n in range(1, 50) if module["a2/perceptron.py"].place(n))
    moved = notebooks.relocate_text(f"at a2/perceptron.py:{line} in forward", module)
    assert moved.startswith("at a2/perceptron.ipynb, cell 2, line ")


@pytest.mark.parametrize(
    "crafted",
    [
        "x" * 32_000 + "perceptron.py",
        ("a" * 99 + "/") * 400 + "perceptron.py",
        "/" * 32_000 + "a2/perceptron.py",
        ("a/" * 16_000) + "a2/perceptron.pyx",
        ("b" * 150 + "/") * 300 + "a2/perceptron.py:1",
    ],
)
def test_a_crafted_notice_is_relocated_in_bounded_time(crafted, module):
    started = time.process_time()
    moved = notebooks.relocate_text(crafted * 3, module)
    assert time.process_time() - started < 2.0
    assert len(moved) >= len(crafted)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("a2/perceptron.py:0123456789 ,line\"'()x\n")), max_size=3000
    )
)
def test_any_notice_relocates_without_error(text, tmp_path_factory):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("def forward(X):\n    return X\n")]
    path = tmp_path_factory.mktemp("nb") / "perceptron.ipynb"
    nbformat.write(notebook, path)
    built = notebooks.convert(path, "a2/perceptron.ipynb")
    assert isinstance(notebooks.relocate_text(text, {built.module: built}), str)
