"""A deep Q-network (DQN) agent for gymnasium's LunarLander, written from the lecture.

Q-learning (lecture 8) learns Q(s, a), the return expected after taking action a in
state s and acting well afterwards, by moving Q(s, a) towards the temporal-difference
target r + gamma * max_a' Q(s', a'). A deep Q-network approximates Q with a neural
network and needs three things to learn stably:

- a replay buffer: past transitions, sampled at random, so that a minibatch is not a run
  of strongly correlated consecutive steps and old experience is reused;
- a target network: a slowly refreshed copy of the network computes the targets, so a
  step on Q does not move its own target at the same time;
- epsilon-greedy exploration: a random action with probability epsilon, which decays as
  the agent learns.

Two refinements from the DQN literature help on LunarLander: Double DQN (the online
network picks the next action, the target network scores it, which curbs the
overestimation of max over noisy estimates) and the Huber loss (large TD errors do not
produce huge gradient steps).

A terminal state (the lander crashed or came to rest) has no future, so its target is
just r. A time-limit truncation is not terminal: the state still has a future, so the
target still bootstraps from it.

Shapes: an observation is a float32 vector of OBS_DIM = 8 numbers, an action an int in
0..N_ACTIONS-1 = 0..3 (nothing, left engine, main engine, right engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

OBS_DIM = 8
N_ACTIONS = 4

# Hyperparameters of train().
GAMMA = 0.99
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
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=bool)
        self._next = 0  # the row the next push writes
        self._size = 0
        self._rng = np.random.default_rng(seed)

    def push(
        self,
        obs: npt.ArrayLike,
        action: int,
        reward: float,
        next_obs: npt.ArrayLike,
        terminated: bool,
    ) -> None:
        i = self._next
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = terminated
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """batch_size transitions drawn uniformly at random (with replacement)."""
        if self._size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        rows = self._rng.integers(0, self._size, size=batch_size)
        return Batch(
            self.obs[rows],
            self.actions[rows],
            self.rewards[rows],
            self.next_obs[rows],
            self.terminated[rows],
        )

    def __len__(self) -> int:
        return self._size


def epsilon_at(step: int) -> float:
    """The exploration rate after `step` environment steps: linear decay, then constant."""
    fraction = min(max(step, 0) / EPSILON_DECAY_STEPS, 1.0)
    return EPSILON_START + fraction * (EPSILON_END - EPSILON_START)


def td_target(
    rewards: torch.Tensor, next_q: torch.Tensor, terminated: torch.Tensor, gamma: float
) -> torch.Tensor:
    """r + gamma * max_a' Q(s', a'), without the bootstrap term where s' is terminal.

    rewards (B,), next_q (B, n_actions) the Q-values of the next states, terminated (B,)
    bool or 0/1. Returns (B,). The lecture's example: r = -8, max Q(s') = 350, gamma 0.9
    gives -8 + 0.9 * 350 = 307.
    """
    alive = 1.0 - terminated.to(next_q.dtype)
    return rewards.to(next_q.dtype) + gamma * alive * next_q.max(dim=1).values


def discounted_returns(rewards: Sequence[float], gamma: float) -> np.ndarray:
    """G_t = r_t + gamma * G_{t+1} for every step of one episode (lecture 10), float64."""
    returns = np.zeros(len(rewards), dtype=np.float64)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = float(rewards[t]) + gamma * running
        returns[t] = running
    return returns


# --- the agent -----------------------------------------------------------------------


def build_q_network(obs_dim: int = OBS_DIM, n_actions: int = N_ACTIONS) -> nn.Module:
    return nn.Sequential(
        nn.Linear(obs_dim, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, n_actions),
    )


class Agent:
    """A Q-network and the policy it defines: greedy, or epsilon-greedy while exploring."""

    def __init__(self, q_network: nn.Module | None = None, seed: int = 0) -> None:
        self.q_network = q_network if q_network is not None else build_q_network()
        self.epsilon = EPSILON_END
        self._rng = np.random.default_rng(seed)

    def q_values(self, obs: npt.ArrayLike) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float32))
            return self.q_network(x).numpy()

    def act(self, obs: npt.ArrayLike, greedy: bool = True) -> int:
        if not greedy and self._rng.random() < self.epsilon:
            return int(self._rng.integers(N_ACTIONS))
        return int(np.argmax(self.q_values(obs)))

    def save(self, path: str | Path) -> None:
        """Weights only (a state_dict of tensors): loadable with weights_only=True."""
        torch.save(self.q_network.state_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> Agent:
        network = build_q_network()
        network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        network.eval()
        return cls(network)


# --- training ------------------------------------------------------------------------


def evaluate(agent: Agent, env: gym.Env, seeds: Sequence[int]) -> float:
    """Mean return of the greedy policy over one episode per seed."""
    returns = []
    for episode_seed in seeds:
        obs, _ = env.reset(seed=int(episode_seed))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def _update(
    online: nn.Module,
    target: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
) -> None:
    obs = torch.from_numpy(batch.obs)
    actions = torch.from_numpy(batch.actions)
    next_obs = torch.from_numpy(batch.next_obs)
    with torch.no_grad():
        # Double DQN: the online network chooses a', the target network scores it.
        best_next = online(next_obs).argmax(dim=1, keepdim=True)
        next_q = target(next_obs).gather(1, best_next)  # (B, 1): max over one column
        targets = td_target(
            torch.from_numpy(batch.rewards), next_q, torch.from_numpy(batch.terminated), GAMMA
        )
    predicted = online(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    loss = F.smooth_l1_loss(predicted, targets)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online.parameters(), 10.0)
    optimizer.step()


def train(env_id: str = "LunarLander-v3", *, total_steps: int, seed: int = 0) -> Agent:
    """Train a DQN agent for total_steps environment steps; returns the best greedy policy.

    Deterministic for a given seed on a given machine: the environment, the buffer, the
    exploration and the network initialisation all derive from it.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    eval_env = gym.make(env_id)
    eval_seeds = [seed * 1000 + EVAL_SEED_OFFSET + i for i in range(EVAL_EPISODES)]
    obs_dim = env.observation_space.shape[0]
    n_actions = int(env.action_space.n)

    online = build_q_network(obs_dim, n_actions)
    target = build_q_network(obs_dim, n_actions)
    target.load_state_dict(online.state_dict())
    optimizer = torch.optim.Adam(online.parameters(), lr=LEARNING_RATE)
    buffer = ReplayBuffer(BUFFER_CAPACITY, obs_dim, seed=seed)
    agent = Agent(online, seed=seed)

    best_score, best_state = -np.inf, None
    obs, _ = env.reset(seed=seed)
    for step in range(total_steps):
        agent.epsilon = epsilon_at(step)
        if step < LEARNING_STARTS:
            action = int(rng.integers(n_actions))
        else:
            action = agent.act(obs, greedy=False)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.push(obs, action, float(reward), next_obs, terminated)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()

        if step >= LEARNING_STARTS and step % TRAIN_EVERY == 0:
            _update(online, target, optimizer, buffer.sample(BATCH_SIZE))
        if step % TARGET_SYNC_EVERY == 0:
            target.load_state_dict(online.state_dict())
        last_step = step + 1 == total_steps
        if (step + 1) % EVAL_EVERY == 0 or last_step:
            score = evaluate(agent, eval_env, eval_seeds)
            if score > best_score:
                best_score = score
                best_state = {k: v.clone() for k, v in online.state_dict().items()}

    env.close()
    eval_env.close()
    best = build_q_network(obs_dim, n_actions)
    best.load_state_dict(best_state if best_state is not None else online.state_dict())
    best.eval()
    return Agent(best, seed=seed)
