"""LunarLander episodes played in the grader process, with actions chosen elsewhere.

The environment, its rewards and its seeds stay here; a policy is only a function from a
batch of observations to a batch of actions (for a student's agent, a call into the
worker). All episodes run in lockstep, so one call chooses the actions of every episode
still running: 100 episodes cost about as many calls as the longest one has steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

ENV_ID = "LunarLander-v3"
N_ACTIONS = 4
SOLVED_SCORE = 200.0  # lecture 10: an episode scoring >= 200 is a solution

Policy = Callable[[np.ndarray], np.ndarray]


class PolicyProblem(Exception):
    """The policy answered with something that is not an action for every observation."""


class OutOfTime(Exception):
    """The episodes did not finish within the time budget."""


@dataclass(frozen=True)
class Scores:
    returns: np.ndarray  # one undiscounted return per episode

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))

    @property
    def solved_share(self) -> float:
        return float(np.mean(self.returns >= SOLVED_SCORE))

    def summary(self) -> str:
        return (
            f"mean {self.mean:.1f} ± {self.std:.1f} over {len(self.returns)} episodes "
            f"(min {self.returns.min():.1f}, max {self.returns.max():.1f}), "
            f"{self.solved_share:.0%} of episodes >= {SOLVED_SCORE:.0f}"
        )


def play(policy: Policy, seeds: Sequence[int], *, time_budget_s: float = float("inf")) -> Scores:
    """One episode per seed (reset(seed=s), gymnasium's 1000-step time limit)."""
    started = time.monotonic()
    envs = [gym.make(ENV_ID) for _ in seeds]
    try:
        observations = [env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds, strict=True)]
        returns = np.zeros(len(envs))
        running = list(range(len(envs)))
        while running:
            if time.monotonic() - started > time_budget_s:
                raise OutOfTime(
                    f"{len(running)} of {len(envs)} episodes were still running after "
                    f"{time_budget_s:.0f} s"
                )
            batch = np.stack([observations[i] for i in running]).astype(np.float32)
            actions = _valid_actions(policy(batch), len(running))
            still_running = []
            for i, action in zip(running, actions, strict=True):
                observation, reward, terminated, truncated, _ = envs[i].step(int(action))
                observations[i] = observation
                returns[i] += float(reward)
                if not (terminated or truncated):
                    still_running.append(i)
            running = still_running
        return Scores(returns)
    finally:
        for env in envs:
            env.close()


def _valid_actions(actions: object, count: int) -> np.ndarray:
    array = np.asarray(actions)
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
        raise PolicyProblem(f"expected {count} integer actions, got {array.dtype} {array.shape}")
    bad = array[(array < 0) | (array >= N_ACTIONS)]
    if bad.size:
        raise PolicyProblem(f"act() returned {int(bad[0])}; actions are 0..{N_ACTIONS - 1}")
    return array


def random_policy(seed: int) -> Policy:
    """Uniformly random actions: the baseline an agent must clearly beat."""
    rng = np.random.default_rng(seed)
    return lambda observations: rng.integers(N_ACTIONS, size=len(observations))


def render_gif(policy: Policy, seed: int, path: Path, *, every: int = 3, scale: int = 2) -> Path:
    """Play one episode headless and save it as an animated GIF (every 3rd frame, half size).

    Raises ImportError when Pillow or pygame (gymnasium's renderer) is missing.
    """
    from PIL import Image

    env = gym.make(ENV_ID, render_mode="rgb_array")
    frames = []
    try:
        observation, _ = env.reset(seed=int(seed))
        done, step = False, 0
        while not done:
            if step % every == 0:
                frames.append(env.render()[::scale, ::scale])
            action = _valid_actions(policy(observation[None].astype(np.float32)), 1)[0]
            observation, _, terminated, truncated, _ = env.step(int(action))
            done = terminated or truncated
            step += 1
        frames.append(env.render()[::scale, ::scale])
    finally:
        env.close()
    images = [Image.fromarray(frame) for frame in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame_ms = round(1000 * every / env.metadata.get("render_fps", 50))
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0, optimize=True
    )
    return path
