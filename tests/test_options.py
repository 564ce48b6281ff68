"""The one options object: built from the command line, carried whole through batch jobs
as JSON, and tightened for shared grading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.batch.job import Job
from graders.core.options import GradeOptions
from graders.sandbox.confinement import STRICT_LAYERS

paths = st.builds(Path, st.text("abc/_.", min_size=1, max_size=12))
options = st.builds(
    GradeOptions,
    confinement=st.sampled_from(["auto", "bubblewrap", "landlock", "none"]),
    require=st.lists(st.sampled_from(STRICT_LAYERS), max_size=3).map(tuple),
    insecure_sandbox=st.booleans(),
    seed=st.integers(0, 2**31),
    verbose=st.booleans(),
    data_dir=st.none() | paths,
    download=st.booleans(),
    eval_set=st.none() | st.tuples(paths, paths),
    secrets_file=st.none() | paths,
    artifacts_dir=st.none() | paths,
    only=st.lists(st.text("abc._", min_size=1, max_size=8), max_size=3).map(tuple),
    threads=st.none() | st.integers(1, 64),
)


@given(options)
def test_a_job_carries_the_options_whole_through_json(grading):
    job = Job("student", "a1", "/tmp/s", "f", grading, notices=("n",), timeout_s=5.0)
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job


def test_options_compare_equal_however_they_were_made():
    made = GradeOptions(data_dir="d", require=["no-exec"], eval_set=["i", "l"], only=["x"])
    assert made == GradeOptions(
        data_dir=Path("d"), require=("no-exec",), eval_set=(Path("i"), Path("l")), only=("x",)
    )


def test_shared_grading_requires_every_strict_layer_unless_told_otherwise():
    own = GradeOptions(require=("no-exec",))
    assert own.for_shared_grading().require == ("no-exec",) + tuple(
        layer for layer in STRICT_LAYERS if layer != "no-exec"
    )
    insecure = GradeOptions(insecure_sandbox=True)
    assert insecure.for_shared_grading() == insecure  # and every report then says INSECURE


def test_unknown_options_in_a_job_file_are_refused():
    with pytest.raises(TypeError, match="unknown grading options: sneaky"):
        GradeOptions.from_json({"seed": 1, "sneaky": True})
