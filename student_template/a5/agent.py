"""A deep reinforcement-learning agent for gymnasium's LunarLander, written from the lecture.

Q-learning (lecture 8) learns Q(s, a), the return expected after taking action a in
state s and acting well afterwards, by moving Q(s, a) towards the temporal-difference
target r + gamma * max_a' Q(s', a'). A deep Q-network (DQN) approximates Q with a neural
network and needs three things to learn stably:

- a replay buffer: past transitions, sampled at random, so that a minibatch is not a run
  of strongly correlated consecutive steps and old experience is reused;
- a target network: a slowly refreshed copy of the network computes the targets, so a
  step on Q does not move its own target at the same time;
- epsilon-greedy exploration: a random action with probability epsilon, which decays as
  the agent learns.

This template is laid out for DQN. You may write an actor-critic (lecture 10) instead:
then train() trains an actor and a critic, the Agent holds the actor, and
act(obs, greedy=True) returns the action the actor finds most probable. Reorganise
build_q_network, Agent and train as you like, as long as the public API stays: Agent with
act(obs, greedy=True) -> int, save(path) and the classmethod load(path), and
train(env_id, *, total_steps, seed) -> Agent. ReplayBuffer, epsilon_at, td_target and
discounted_returns are graded whichever algorithm you choose.

A terminal state (the lander crashed, flew off the screen or came to rest) has no
future, so its target is just r. A time-limit truncation is not terminal: the state
still has a future, so the target still bootstraps from it.

Shapes: an observation is a float32 vector of OBS_DIM = 8 numbers, an action an int in
0..N_ACTIONS-1 = 0..3 (nothing, left engine, main engine, right engine).

Everything runs on the CPU. PyTorch, gymnasium, numpy and the standard library may be
imported here; reinforcement-learning libraries may not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: F401  (F.smooth_l1_loss, the Huber loss)
from torch import nn

OBS_DIM = 8
N_ACTIONS = 4

# Hyperparameters of train(): good starting values for DQN on LunarLander.
GAMMA = 0.99  # the landing bonus comes hundreds of steps later: look far ahead
LEARNING_RATE = 6e-4
BATCH_SIZE = 128
BUFFER_CAPACITY = 100_000
LEARNING_STARTS = 1_000  # random steps that fill the buffer before the first update
TRAIN_EVERY = 1  # one gradient step per environment step
TARGET_SYNC_EVERY = 500  # environment steps between copies of the online network
HIDDEN = 256

# Exploration: epsilon falls linearly from EPSILON_START to EPSILON_END over the first
# EPSILON_DECAY_STEPS environment steps, then stays at EPSILON_END.
EPSILON_START = 1.0
EPSILON_END = 0.05
EPSILON_DECAY_STEPS = 20_000

# Keep the best weights: every EVAL_EVERY steps the greedy policy plays EVAL_EPISODES
# episodes on evaluation seeds of its own, and train() returns the best policy seen.
# DQN's score wobbles from one evaluation to the next; this keeps a good one.
EVAL_EVERY = 10_000
EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 1_000_000  # training-time evaluation seeds: seed * 1000 + offset + i


# --- components ----------------------------------------------------------------------


class Batch(NamedTuple):
    """A minibatch of transitions, as numpy arrays with batch_size rows."""

    obs: np.ndarray  # (B, obs_dim) float32
    actions: np.ndarray  # (B,) int64
    rewards: np.ndarray  # (B,) float32
    next_obs: np.ndarray  # (B, obs_dim) float32
    terminated: np.ndarray  # (B,) bool


class ReplayBuffer:
    """A fixed-size FIFO of transitions in preallocated arrays (a ring buffer).

    Once full, each push overwrites the oldest transition, so memory stays at
    `capacity` rows however long training runs.
    """

    def __init__(self, capacity: int, obs_dim: int, seed: int = 0) -> None:
        raise NotImplementedError(
            "ReplayBuffer.__init__: preallocate one numpy array per field with capacity rows "
            "(obs and next_obs float32 (capacity, obs_dim), actions int64, rewards float32, "
            "terminated bool), keep the row the next push writes and the number of rows "
            "filled, and np.random.default_rng(seed) for sample()."
        )

    def push(
        self,
        obs: npt.ArrayLike,
        action: int,
        reward: float,
        next_obs: npt.ArrayLike,
        terminated: bool,
    ) -> None:
        """Store one transition, overwriting the oldest one when the buffer is full."""
        raise NotImplementedError(
            "ReplayBuffer.push: write the five values into the row of the next push, move that "
            "row on by one modulo capacity (so the oldest row is overwritten once the buffer is "
            "full) and grow the number of filled rows, up to capacity."
        )

    def sample(self, batch_size: int) -> Batch:
        """batch_size transitions drawn uniformly at random (with replacement)."""
        raise NotImplementedError(
            "ReplayBuffer.sample: draw batch_size row numbers uniformly from the filled rows, "
            "with replacement (self._rng.integers(0, len(self), size=batch_size): batch_size may "
            "exceed len(self)), and return Batch(obs[rows], actions[rows], rewards[rows], "
            "next_obs[rows], terminated[rows]), every field indexed with the same rows."
        )

    def __len__(self) -> int:
        """The number of transitions stored: min(pushes so far, capacity)."""
        raise NotImplementedError(
            "ReplayBuffer.__len__: return the number of filled rows, min(pushes, capacity)."
        )


def epsilon_at(step: int) -> float:
    """The exploration rate after `step` environment steps: linear decay, then constant."""
    raise NotImplementedError(
        "epsilon_at: return a float that starts at EPSILON_START and moves linearly to "
        "EPSILON_END over EPSILON_DECAY_STEPS steps, then stays there: with "
        "fraction = min(step / EPSILON_DECAY_STEPS, 1.0), "
        "EPSILON_START + fraction * (EPSILON_END - EPSILON_START)."
    )


def td_target(
    rewards: torch.Tensor, next_q: torch.Tensor, terminated: torch.Tensor, gamma: float
) -> torch.Tensor:
    """r + gamma * max_a' Q(s', a'), without the bootstrap term where s' is terminal.

    rewards (B,), next_q (B, n_actions) the Q-values of the next states, terminated (B,)
    bool or 0/1. Returns (B,). The lecture's example: r = -8, max Q(s') = 350, gamma 0.9
    gives -8 + 0.9 * 350 = 307.
    """
    raise NotImplementedError(
        "td_target: rewards + gamma * (1 - terminated) * next_q.max(dim=1).values, a tensor of "
        "shape (B,). Convert the flags to floats first (terminated.float()): torch refuses to "
        "subtract a bool tensor. Read the number of actions from next_q, do not assume 4."
    )


def discounted_returns(rewards: Sequence[float], gamma: float) -> np.ndarray:
    """G_t = r_t + gamma * G_{t+1} for every step of one episode (lecture 10), float64."""
    raise NotImplementedError(
        "discounted_returns: walk the rewards backwards from the last step, keeping "
        "running = rewards[t] + gamma * running, and store each running value in a float64 "
        "array of len(rewards): the last G is the last reward."
    )


# --- the agent -----------------------------------------------------------------------


def build_q_network(obs_dim: int = OBS_DIM, n_actions: int = N_ACTIONS) -> nn.Module:
    """A fresh MLP from an observation (obs_dim,) to one Q-value per action (n_actions,)."""
    raise NotImplementedError(
        "build_q_network: return nn.Sequential(nn.Linear(obs_dim, HIDDEN), nn.ReLU(), "
        "nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_actions)): Q-values can be "
        "any real number, so no activation after the last layer."
    )


class Agent:
    """A Q-network and the policy it defines: greedy, or epsilon-greedy while exploring."""

    def __init__(self, q_network: nn.Module | None = None, seed: int = 0) -> None:
        raise NotImplementedError(
            "Agent.__init__: keep the network (build_q_network() when none is given), an "
            "exploration rate self.epsilon (for example EPSILON_END) and "
            "np.random.default_rng(seed) for the random actions."
        )

    def q_values(self, obs: npt.ArrayLike) -> np.ndarray:
        """The Q-values of one observation (n_actions,) or a batch (B, n_actions)."""
        raise NotImplementedError(
            "Agent.q_values: under torch.no_grad(), feed torch.as_tensor(np.asarray(obs, "
            "dtype=np.float32)) to the network and return the output as a numpy array."
        )

    def act(self, obs: npt.ArrayLike, greedy: bool = True) -> int:
        """The action for one observation (8,): the best, or epsilon-greedy when exploring."""
        raise NotImplementedError(
            "Agent.act: when greedy is False, with probability self.epsilon return a random "
            "action, int(self._rng.integers(N_ACTIONS)); otherwise return "
            "int(np.argmax(self.q_values(obs))), a Python int in 0..3. Keep it cheap: the "
            "grader calls it once per step of every episode."
        )

    def save(self, path: str | Path) -> None:
        """Weights only (a state_dict of tensors): loadable with weights_only=True."""
        raise NotImplementedError(
            "Agent.save: torch.save(self.q_network.state_dict(), path). Never save the module "
            "or the agent itself: the grader loads the file with weights_only=True."
        )

    @classmethod
    def load(cls, path: str | Path) -> Agent:
        """An agent with the weights saved by save(path), ready to act greedily."""
        raise NotImplementedError(
            "Agent.load: network = build_q_network(), then network.load_state_dict(torch.load("
            "path, map_location='cpu', weights_only=True)), network.eval(), and return "
            "cls(network). The architecture must match the one that was saved."
        )


# --- training ------------------------------------------------------------------------


def evaluate(agent: Agent, env: gym.Env, seeds: Sequence[int]) -> float:
    """Mean return of the greedy policy over one episode per seed."""
    raise NotImplementedError(
        "evaluate: for each seed, obs, _ = env.reset(seed=int(seed)), then step with "
        "agent.act(obs) and add up the rewards until terminated or truncated; return the mean "
        "of the episodes' returns as a float."
    )


def train(env_id: str = "LunarLander-v3", *, total_steps: int, seed: int = 0) -> Agent:
    """Train an agent for total_steps environment steps; return the best greedy policy.

    Deterministic for a given seed on a given machine: the environment, the buffer, the
    exploration and the network initialisation all derive from it.
    """
    raise NotImplementedError(
        "train: torch.manual_seed(seed), env = gym.make(env_id), an online and a target "
        "network (target.load_state_dict(online.state_dict())), Adam, a ReplayBuffer and an "
        "Agent. Reset with env.reset(seed=seed); then every step: set the agent's epsilon to "
        "epsilon_at(step), choose an action (random during the first LEARNING_STARTS steps), "
        "env.step it, push (obs, action, reward, next_obs, terminated) (terminated, not "
        "terminated or truncated) and env.reset() when either is true. After LEARNING_STARTS, "
        "sample a batch and take one gradient step of the Huber loss between "
        "Q(obs, action) and td_target(...) computed with the target network under "
        "torch.no_grad(); copy the online network into the target every TARGET_SYNC_EVERY "
        "steps; every EVAL_EVERY steps evaluate the greedy policy and keep the best weights. "
        "Return an Agent holding them."
    )
