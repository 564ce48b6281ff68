"""Probes for assignment 5: run the student's components and agents inside the worker.

The worker never sees an evaluation environment: the grader steps LunarLander in its own
process and sends the agent only observations; the agent answers with actions. Agents
are kept here between calls, by name ("trained", "shipped").
"""

from __future__ import annotations

import importlib
import numbers
import time
from typing import Any

import numpy as np
import torch

MODULE = "a5.agent"
CHECKPOINT = "a5/agent.pt"
BATCH_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")

_agents: dict[str, Any] = {}


def _agent_module():
    return importlib.import_module(MODULE)


def _plain(value: Any) -> Any:
    """A numpy array for a tensor or array-like; anything else as it is."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            return np.asarray(value)
        except (ValueError, TypeError):
            return value
    return value


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def _batch_fields(batch: Any) -> dict:
    """The five fields of a sampled batch, from a NamedTuple, tuple or dict."""
    if isinstance(batch, dict):
        missing = [name for name in BATCH_FIELDS if name not in batch]
        if missing:
            return {"problem": f"sample() returned a dict without {', '.join(missing)}"}
        values = [batch[name] for name in BATCH_FIELDS]
    elif isinstance(batch, (tuple, list)) and len(batch) == len(BATCH_FIELDS):
        values = list(batch)
    else:
        return {
            "problem": f"sample() returned {_describe(batch)}; expected (obs, actions, "
            "rewards, next_obs, terminated)"
        }
    fields = {name: _plain(value) for name, value in zip(BATCH_FIELDS, values, strict=True)}
    return {
        "fields": fields,
        "dtypes": {k: str(getattr(v, "dtype", "")) for k, v in fields.items()},
    }


def buffer_run(capacity: int, obs_dim: int, pushes: int, batch_size: int, seed: int) -> dict:
    """Push numbered transitions; report the length after each push and one sample.

    Transition i has obs[j] = i + j / 100, action i % 4, reward 0.5 * i,
    next_obs = obs + 1000 and terminated = (i % 3 == 0), so every sampled row names the
    transition it came from and shows whether its fields stayed together.
    """
    buffer = _agent_module().ReplayBuffer(capacity, obs_dim, seed=seed)
    lengths = []
    for i in range(pushes):
        obs = (i + np.arange(obs_dim) / 100).astype(np.float32)
        buffer.push(obs, i % 4, 0.5 * i, obs + 1000, i % 3 == 0)
        lengths.append(int(len(buffer)))
    found = _batch_fields(buffer.sample(batch_size)) if pushes else {}
    found["lengths"] = lengths
    return found


def epsilon_values(steps: list[int]) -> list:
    epsilon_at = _agent_module().epsilon_at
    values = []
    for step in steps:
        value = epsilon_at(step)
        values.append(float(value) if isinstance(value, numbers.Real) else _describe(value))
    return values


def td_targets(
    rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray, gamma: float
) -> Any:
    """The student's td_target on torch tensors (float32 rewards and Q-values, bool flags)."""
    target = _agent_module().td_target(
        torch.from_numpy(rewards), torch.from_numpy(next_q), torch.from_numpy(terminated), gamma
    )
    return _plain(target)


def discounted_returns(rewards: list[float], gamma: float) -> Any:
    return _plain(_agent_module().discounted_returns(rewards, gamma))


def _keep(name: str, agent: Any) -> dict:
    act = getattr(agent, "act", None)
    if not callable(act):
        return {"problem": f"got {_describe(agent)}, which has no act(obs, greedy) method"}
    _agents[name] = agent
    return {"type": type(agent).__name__}


def train_agent(total_steps: int, seed: int) -> dict:
    """The student's train() for a short budget; the agent stays here as "trained"."""
    started = time.monotonic()
    agent = _agent_module().train("LunarLander-v3", total_steps=total_steps, seed=seed)
    found = _keep("trained", agent)
    found["seconds"] = time.monotonic() - started
    return found


def load_shipped() -> dict:
    """The submission's own weights, loaded by the student's Agent.load, as "shipped"."""
    return _keep("shipped", _agent_module().Agent.load(CHECKPOINT))


def _unwrap_scalar(value: Any) -> Any:
    """A one-element tensor or array as the Python number inside; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.item()
    return value


def act_batch(name: str, observations: np.ndarray) -> dict:
    """The greedy action of agent ``name`` for each observation (one act() call each)."""
    agent = _agents.get(name)
    if agent is None:
        return {"problem": f"the {name} agent is no longer loaded (the worker restarted)"}
    actions = np.empty(len(observations), dtype=np.int64)
    for i, obs in enumerate(observations):
        action = agent.act(obs.copy(), greedy=True)
        action = _unwrap_scalar(action)
        if isinstance(action, bool) or not isinstance(action, numbers.Integral):
            return {"problem": f"act() returned {_describe(action)}; expected an int in 0..3"}
        actions[i] = int(action)
    return {"actions": actions}
