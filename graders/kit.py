"""Everything a grader author needs, from one import.

An assignment package declares itself and its criteria with what is here::

    from graders import kit
    from graders.kit import criterion, Credit, CriterionFailed, GradingContext

Grader tests also get these fixtures from the grading plugin without importing them:
``grading`` (the :class:`GradingContext`), ``credit`` (partial credit of the running
criterion), ``seed`` (its fixed seed) and ``rng`` (a numpy generator from that seed).
"""

from __future__ import annotations

from graders.core import expect
from graders.core.assignment import AssignmentSpec, RulePolicy, SandboxSpec
from graders.core.checkpoint_scan import CheckpointProblem, check_state_dict_checkpoint
from graders.core.context import GradingContext
from graders.core.gradcheck import check_gradients, kink_mask
from graders.core.plugin import Credit, CriterionFailed, criterion
from graders.core.vectorization import require_no_sample_loop, require_no_sample_loop_in_train
from graders.data.mnist import to_features, train_validation_split
from graders.sandbox.inside.rules import (
    NO_ML_FRAMEWORKS,
    NO_RL_LIBRARIES,
    STDLIB_ONLY,
    ImportRule,
)
from graders.sandbox.limits import NUMPY_THREADS, Limits
from graders.sandbox.sandbox import (
    Answer,
    Call,
    RemoteModule,
    Sandbox,
    StudentCodeError,
    ask_all,
)

__all__ = [
    # declaring an assignment (graders/aN/__init__.py)
    "AssignmentSpec",
    "SandboxSpec",
    "RulePolicy",
    "Limits",
    "NUMPY_THREADS",
    "ImportRule",
    "NO_ML_FRAMEWORKS",
    "NO_RL_LIBRARIES",
    "STDLIB_ONLY",
    # writing criteria (graders/aN/grader.py)
    "criterion",
    "Credit",
    "CriterionFailed",
    "GradingContext",
    "RemoteModule",
    "Sandbox",
    "StudentCodeError",
    "Call",
    "Answer",
    "ask_all",
    "expect",
    # checks
    "check_gradients",
    "kink_mask",
    "require_no_sample_loop",
    "require_no_sample_loop_in_train",
    "CheckpointProblem",
    "check_state_dict_checkpoint",
    # data
    "to_features",
    "train_validation_split",
]
