"""Import rules of the course: which modules an assignment's code may not use.

A rule is plain data so that the same definition drives the static scan in the grader
and the runtime import blocker inside the worker (it crosses the boundary as JSON).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

ML_FRAMEWORKS: tuple[str, ...] = (
    "torch", "torchvision", "torchaudio", "torchtext", "functorch", "tensorflow", "tf_keras",
    "keras", "jax", "jaxlib", "flax", "optax", "haiku", "trax", "sklearn", "theano", "mxnet",
    "paddle", "chainer", "cupy", "lightning", "pytorch_lightning", "xgboost", "lightgbm",
    "catboost", "onnxruntime", "transformers", "tinygrad", "mlx", "autograd", "micrograd",
    "caffe", "caffe2", "cntk", "dynet", "neon", "mindspore", "oneflow",
)  # fmt: skip

RL_LIBRARIES: tuple[str, ...] = (
    "stable_baselines3", "stable_baselines", "sb3_contrib", "ray.rllib", "rllib", "tianshou",
    "cleanrl", "rl_zoo3", "tensorforce", "dopamine", "acme", "rlax", "pfrl", "garage", "d3rlpy",
    "torchrl", "skrl", "baselines", "rllab", "keras_rl", "rl_coach", "tf_agents", "mushroom_rl",
    "machin", "chainerrl", "elegantrl", "agilerl", "pearl",
)  # fmt: skip

#: Modules the worker itself may import whatever the rule (the RPC layer lives there).
HARNESS_MODULES: frozenset[str] = frozenset({"graders"})


@dataclass(frozen=True)
class ImportRule:
    """One course rule about imports, e.g. "no machine-learning framework in assignments 1-3"."""

    name: str
    summary: str
    forbidden: tuple[str, ...] = ()
    stdlib_only: bool = False

    def violated_by(self, module: str, local_modules: frozenset[str]) -> bool:
        """True when importing ``module`` (dotted name) breaks this rule."""
        if any(module == f or module.startswith(f + ".") for f in self.forbidden):
            return True
        if not self.stdlib_only:
            return False
        top = module.partition(".")[0]
        return not (is_stdlib(top) or top in local_modules or top in HARNESS_MODULES)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ImportRule:
        return cls(
            name=data["name"],
            summary=data["summary"],
            forbidden=tuple(data.get("forbidden", ())),
            stdlib_only=bool(data.get("stdlib_only", False)),
        )


def is_stdlib(top_level_module: str) -> bool:
    return top_level_module in sys.stdlib_module_names or top_level_module == "__future__"


NO_ML_FRAMEWORKS = ImportRule(
    name="no-ml-frameworks",
    summary="assignments 1-3 may use numpy but no machine-learning framework",
    forbidden=ML_FRAMEWORKS,
)

STDLIB_ONLY = ImportRule(
    name="stdlib-only",
    summary="this file may import only the Python standard library (no numpy)",
    stdlib_only=True,
)

NO_RL_LIBRARIES = ImportRule(
    name="no-rl-libraries",
    summary="assignment 5 must implement its own algorithm: no reinforcement-learning library",
    forbidden=RL_LIBRARIES,
)
