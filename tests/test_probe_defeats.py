"""A loop over samples loses the vectorization point however the student blinds the
grader's in-worker line counter: each attack below, tried on a2's ``gradients`` (a loop of
``np.outer`` over the samples), defeats the line counter alone, and the CPU time the kernel
counts for the worker (graders.core.sample_cost) still finds the loop.

Each submission is graded on ``training.vectorized`` only (seconds each)."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import SHARED_DATA, build_submission, replace_once

from graders.core.options import GradeOptions
from graders.core.runner import grade
from graders.sandbox import confinement

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "MNIST").exists() or importlib.util.find_spec("numpy") is None,
    reason="MNIST is not in ../shared/data",
)

GRADIENTS = "    error = P - Y\n    return X.T @ error / len(X), error.mean(axis=0)\n"

#: The loop over samples every attack hides (about 5 µs of CPU per sample).
LOOP = """

def _loop_gradients(X, Y, P):
    dW = np.zeros((X.shape[1], P.shape[1]))
    db = np.zeros(P.shape[1])
    for i in range(len(X)):
        dW += np.outer(X[i], P[i] - Y[i])
        db += P[i] - Y[i]
    return dW / len(X), db / len(X)
"""

PROBES = "_probes = __import__('sys').modules['graders.sandbox.inside.probes']\n"

#: name -> (code at the end of the module, the body of gradients)
ATTACKS: dict[str, tuple[str, str]] = {
    "probes replaced in sys.modules": (
        PROBES + "_probes.count_student_lines = lambda target, args, kwargs: 7\n"
        "_probes.line_profile = lambda *args: {'total': 7, 'lines': []}\n",
        "    return _loop_gradients(X, Y, P)\n",
    ),
    "student roots emptied": (
        PROBES + "_probes.STUDENT_ROOTS = ()\n",
        "    return _loop_gradients(X, Y, P)\n",
    ),
    "probe code swapped through gc": (
        "import gc as _gc\n"
        "for _f in _gc.get_objects():\n"
        "    if getattr(_f, '__name__', '') == '_run_traced' and hasattr(_f, '__code__'):\n"
        "        _f.__code__ = (lambda function, args, kwargs: {}).__code__\n",
        "    return _loop_gradients(X, Y, P)\n",
    ),
    "tracer's closure rewritten": (
        "",
        "    import sys\n"
        "    _tracer = sys.gettrace()\n"
        "    for _cell in getattr(_tracer, '__closure__', None) or ():\n"
        "        if isinstance(_cell.cell_contents, tuple):\n"
        "            _cell.cell_contents = ('/nowhere/',)\n"
        "    return _loop_gradients(X, Y, P)\n",
    ),
    "counts cleared through a frame": (
        "",
        "    import sys\n"
        "    _result = _loop_gradients(X, Y, P)\n"
        "    _frame = sys._getframe(1)\n"
        "    while _frame is not None:\n"
        "        if isinstance(_frame.f_locals.get('per_line'), dict):\n"
        "            _frame.f_locals['per_line'].clear()\n"
        "        _frame = _frame.f_back\n"
        "    return _result\n",
    ),
    "line events switched off on its own frame": (
        "",
        "    import sys\n"
        "    sys._getframe().f_trace_lines = False\n"
        "    dW = np.zeros((X.shape[1], P.shape[1]))\n"
        "    db = np.zeros(P.shape[1])\n"
        "    for i in range(len(X)):\n"
        "        dW += np.outer(X[i], P[i] - Y[i])\n"
        "        db += P[i] - Y[i]\n"
        "    return dW / len(X), db / len(X)\n",
    ),
    "loop run in a thread": (
        "",
        "    import threading\n"
        "    _box = []\n"
        "    _thread = threading.Thread(target=lambda: _box.append(_loop_gradients(X, Y, P)))\n"
        "    _thread.start()\n"
        "    _thread.join()\n"
        "    return _box[0]\n",
    ),
    "loop compiled under another file name": (
        "_namespace = {'np': np}\n"
        "exec(compile(_LOOP_SOURCE, '/usr/lib/python3/dist-packages/_fast.py', 'exec'), "
        "_namespace)\n"
        "_loop_gradients = _namespace['_loop_gradients']\n",
        "    return _loop_gradients(X, Y, P)\n",
    ),
    # So slow that the large run is stopped at its time limit: judged on what it had used.
    "a loop too slow to finish, with the counter blinded": (
        PROBES + "_probes.STUDENT_ROOTS = ()\n",
        "    dW = np.zeros((X.shape[1], P.shape[1]))\n"
        "    db = np.zeros(P.shape[1])\n"
        "    for i in range(len(X)):\n"
        "        for _ in range(40):\n"
        "            dW += np.outer(X[i], P[i] - Y[i]) / 40\n"
        "        db += P[i] - Y[i]\n"
        "    return dW / len(X), db / len(X)\n",
    ),
    "whole arrays only while traced": (
        "",
        "    import sys\n"
        "    if sys.gettrace() is not None:\n"
        "        error = P - Y\n"
        "        return X.T @ error / len(X), error.mean(axis=0)\n"
        "    return _loop_gradients(X, Y, P)\n",
    ),
    "the worker's dispatch loop replaced": (
        "def _take_over():\n"
        "    import importlib, json, os, sys\n"
        "    from graders.sandbox.inside import channel\n"
        "    config = json.loads(sys.argv[1])\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None and 'header' not in frame.f_locals:\n"
        "        frame = frame.f_back\n"
        "    header, values = frame.f_locals['header'], frame.f_locals['values']\n"
        "    while True:  # every probe request gets a flat line count\n"
        "        target = header.get('target', '')\n"
        "        if target.endswith(':count_student_lines'):\n"
        "            value = 7\n"
        "        elif target.endswith(':line_profile'):\n"
        "            value = {'total': 7, 'lines': []}\n"
        "        else:\n"
        "            module, _, name = target.partition(':')\n"
        "            function = getattr(importlib.import_module(module), name)\n"
        "            value = function(*values['args'], **values['kwargs'])\n"
        "        channel.send(config['response_fd'], {'id': header.get('id'), 'ok': True}, "
        "{'value': value})\n"
        "        try:\n"
        "            header, values = channel.receive(config['request_fd'], ('args', 'kwargs'), "
        "max_bytes=2**30)\n"
        "        except channel.ChannelClosed:\n"
        "            os._exit(0)\n"
        "\n\n"
        "_take_over()\n",
        "    return _loop_gradients(X, Y, P)\n",
    ),
}


def _attacked(prologue: str, body: str):
    def edit(text: str) -> str:
        text = replace_once(GRADIENTS, body)(text)
        return text + LOOP + f"\n_LOOP_SOURCE = {LOOP!r}\n" + prologue

    return edit


#: Every attack under the kind of sandbox selected here; the strongest one (a dispatch loop
#: of the student's own) also under every other kind that grades for the course: the
#: kernel's account of the worker is read the same way under each.
DEFAULT = confinement.select("auto").kind
CASES = [(attack, DEFAULT) for attack in ATTACKS] + [
    ("the worker's dispatch loop replaced", kind)
    for kind in ("bubblewrap", "landlock")
    if kind != DEFAULT
    and confinement.available(kind)
    and not confinement.build(kind).missing(confinement.STRICT_LAYERS)
]


@pytest.mark.parametrize(("attack", "kind"), CASES)
def test_a_loop_hidden_from_the_line_counter_still_loses_the_point(attack, kind, tmp_path):
    submission = build_submission(
        tmp_path / "s", assignment="a2", edits={"a2/perceptron.py": _attacked(*ATTACKS[attack])}
    )
    from graders.a2 import ASSIGNMENT

    options = GradeOptions(
        data_dir=SHARED_DATA, download=False, only=("training.vectorized",), confinement=kind
    )
    result = grade(ASSIGNMENT, submission, options)
    vectorized = next(c for c in result.criteria if c.id == "training.vectorized")
    assert vectorized.points == 0, vectorized.reason
    assert vectorized.reason.startswith("gradients loops over samples"), vectorized.reason
    assert "measured by the kernel" in vectorized.reason, vectorized.reason
    if "too slow" in attack:
        assert "at least" in vectorized.reason and "stopped at its time limit" in vectorized.reason
    assert result.internal_errors == [] and result.confinement == kind


# -- steering the verdict itself -------------------------------------------------------------
# With the line counter blinded (its probes replaced), each of these steers the kernel's
# measure of the tiny problem instead: each must still lose the point, for the reason given.
BLIND = (
    PROBES + "_probes.count_student_lines = lambda target, args, kwargs: 7\n"
    "_probes.line_profile = lambda *args: {'total': 7, 'lines': []}\n"
)

#: name -> (the body of gradients, what the reason starts with)
STEERING: dict[str, tuple[str, str]] = {
    # The re-measure repeated the same arguments: a cache made it instant.
    "answers cached by their inputs": (
        "    _key = (X.shape, float(X.sum()), float(P.sum()))\n"
        "    _cache = globals().setdefault('_CACHE', {})\n"
        "    if _key not in _cache:\n"
        "        _cache[_key] = _loop_gradients(X, Y, P)\n"
        "    return _cache[_key]\n",
        "gradients loops over samples",
    ),
    # A small call that costs more than the large one: a negative cost, read as 0.
    "small calls made slow": (
        "    if len(X) < 20_000:\n"
        "        _t = __import__('time').process_time()\n"
        "        while __import__('time').process_time() - _t < 2.5:\n"
        "            pass\n"
        "    return _loop_gradients(X, Y, P)\n",
        "gradients loops over samples",
    ),
    # No verdict from a function that fails on the large problem.
    "fails on the large problem": (
        "    if len(X) > 100_000:\n        raise MemoryError('too many samples')\n"
        "    return _loop_gradients(X, Y, P)\n",
        "gradients failed on the vectorization check's tiny problem",
    ),
    # The tiny problem is recognisable: answered at once, and wrongly.
    "tiny problem answered with zeros": (
        "    if X.shape[1] < 50:\n"
        "        return np.zeros((X.shape[1], P.shape[1])), np.zeros(P.shape[1])\n"
        "    return _loop_gradients(X, Y, P)\n",
        "gradients gives other answers on the vectorization check's tiny problem",
    ),
}


@pytest.mark.parametrize("attack", list(STEERING))
def test_a_loop_cannot_steer_the_kernels_measure(attack, tmp_path):
    body, says = STEERING[attack]
    submission = build_submission(
        tmp_path / "s", assignment="a2", edits={"a2/perceptron.py": _attacked(BLIND, body)}
    )
    from graders.a2 import ASSIGNMENT

    options = GradeOptions(data_dir=SHARED_DATA, download=False, only=("training.vectorized",))
    result = grade(ASSIGNMENT, submission, options)
    vectorized = next(c for c in result.criteria if c.id == "training.vectorized")
    assert vectorized.points == 0, vectorized.reason
    assert vectorized.reason.startswith(says), vectorized.reason
    assert result.internal_errors == []
