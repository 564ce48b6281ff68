"""Grader of assignment 5: a deep RL agent for LunarLander (a5/agent.py, a5/agent.pt).

Components are checked in the worker against values computed here. The two agents (one
retrained from the student's code for a short budget, one loaded from the shipped
weights) stay in the worker and only ever see observations: LunarLander runs in this
process, so nothing a submission does can change the environment, its rewards or its
seeds. Evaluation seeds are public by default and the instructor's secret when given.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.a5 import episodes
from graders.kit import (
    CheckpointProblem,
    Credit,
    CriterionFailed,
    GradingContext,
    Sandbox,
    check_state_dict_checkpoint,
    criterion,
    expect,
)

PROBES = "graders.a5.probes"
OBS_DIM = 8
MAX_CHECKPOINT_BYTES = 10 * 2**20

# Performance: the shipped agent, greedy, one episode per evaluation seed.
EVALUATION_EPISODES = 100
PUBLIC_EVALUATION_SEEDS = tuple(range(EVALUATION_EPISODES))
PERFORMANCE_TIERS = [(200.0, 1.0), (150.0, 2 / 3), (100.0, 0.4), (0.0, 0.2)]
ANIMATION_SEED = 0  # the rendered episode always uses a public seed

# Learning: retrain from the student's code for a short budget and compare the greedy
# policy with a random one on the same episodes. Calibrated on the reference over many
# training seeds (bench/learning_calibration.py, recorded in bench/RESULTS.md).
LEARNING_STEPS = 30_000
LEARNING_EPISODES = 10
PUBLIC_LEARNING_SEEDS = tuple(range(1000, 1000 + LEARNING_EPISODES))
LEARNING_MARGIN = 100.0  # the trained mean must beat the random mean by this much


@pytest.fixture
def sandbox(grading: GradingContext) -> Sandbox:
    return grading.sandbox("rl")


def _dict(answer: object, what: str) -> dict:
    if not isinstance(answer, dict):
        raise CriterionFailed(f"{what} gave {expect.describe(answer)}")
    if "problem" in answer:
        raise CriterionFailed(str(answer["problem"]))
    return answer


def evaluation_seeds(grading: GradingContext) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """(performance seeds, learning seeds, how they were chosen): the instructor's secret
    ``evaluation_seed`` when one was given, else the public defaults."""
    secret = grading.secret("evaluation_seed")
    if secret is None:
        return PUBLIC_EVALUATION_SEEDS, PUBLIC_LEARNING_SEEDS, "public evaluation seeds"
    drawn = np.random.default_rng(int(secret)).choice(
        2**31 - 1, size=EVALUATION_EPISODES + LEARNING_EPISODES, replace=False
    )
    seeds = tuple(int(s) for s in drawn)
    return seeds[:EVALUATION_EPISODES], seeds[EVALUATION_EPISODES:], "the instructor's seeds"


def _policy(sandbox: Sandbox, agent: str, label: str) -> episodes.Policy:
    def choose(observations: np.ndarray) -> np.ndarray:
        found = _dict(
            sandbox.call(f"{PROBES}:act_batch", (agent, observations), label=label), label
        )
        return found["actions"]

    return choose


def _play(policy: episodes.Policy, seeds: tuple[int, ...], budget: float) -> episodes.Scores:
    try:
        return episodes.play(policy, seeds, time_budget_s=budget)
    except episodes.PolicyProblem as problem:
        raise CriterionFailed(str(problem)) from None
    except episodes.OutOfTime as late:
        raise CriterionFailed(f"the agent is too slow to choose actions: {late}") from None


# --- components (10 points) ------------------------------------------------------------


def _buffer(sandbox: Sandbox, capacity: int, pushes: int, batch: int, seed: int) -> dict:
    return _dict(
        sandbox.call(
            f"{PROBES}:buffer_run", (capacity, OBS_DIM, pushes, batch, seed), label="ReplayBuffer"
        ),
        "ReplayBuffer",
    )


def _check_lengths(found: dict, capacity: int, pushes: int) -> None:
    expected = [min(i + 1, capacity) for i in range(pushes)]
    lengths = found.get("lengths")
    if lengths != expected:
        lengths = list(lengths) if isinstance(lengths, list) else []
        wrong = next((i for i, e in enumerate(expected) if i >= len(lengths) or lengths[i] != e))
        got = lengths[wrong] if wrong < len(lengths) else "nothing"
        raise CriterionFailed(
            f"with capacity {capacity}, len(buffer) after {wrong + 1} pushes is {got}; "
            f"expected {expected[wrong]} (the buffer holds at most capacity transitions)"
        )


def _sampled_arrays(found: dict, batch: int) -> dict[str, np.ndarray]:
    """The five fields of sample(batch) as arrays of the right shapes (dtypes untouched)."""
    shapes = {"obs": (batch, OBS_DIM), "actions": (batch,), "rewards": (batch,),
              "next_obs": (batch, OBS_DIM), "terminated": (batch,)}  # fmt: skip
    arrays = {}
    for name, shape in shapes.items():
        value = found["fields"][name]
        if not isinstance(value, np.ndarray) or value.dtype == object:
            raise CriterionFailed(
                f"sample({batch}).{name} is {expect.describe(value)}; expected an array of shape {shape}"
            )
        if value.shape != shape:
            raise CriterionFailed(
                f"sample({batch}).{name} has shape {value.shape}; expected {shape}"
            )
        arrays[name] = value
    return arrays


def _transition_index(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Which push each sampled row came from (transition i has obs[0] = i)."""
    return np.rint(arrays["obs"][:, 0].astype(np.float64)).astype(np.int64)


def _check_sampled_rows(arrays: dict[str, np.ndarray]) -> None:
    """dtypes, and every row's fields belong to one transition."""
    for name in ("obs", "next_obs"):
        if arrays[name].dtype != np.float32:
            raise CriterionFailed(
                f"sampled {name} has dtype {arrays[name].dtype}; expected float32"
            )
    if not np.issubdtype(arrays["actions"].dtype, np.integer):
        raise CriterionFailed(
            f"sampled actions have dtype {arrays['actions'].dtype}; expected integers"
        )
    if not np.issubdtype(arrays["rewards"].dtype, np.floating):
        raise CriterionFailed(
            f"sampled rewards have dtype {arrays['rewards'].dtype}; expected floats"
        )
    flags = arrays["terminated"]
    if not (flags.dtype == bool or np.isin(flags, (0, 1)).all()):
        raise CriterionFailed("sampled terminated flags are not booleans (or 0/1)")
    index = _transition_index(arrays)
    expected_obs = (index[:, None] + np.arange(OBS_DIM) / 100).astype(np.float32)
    together = (
        np.allclose(arrays["obs"], expected_obs, atol=1e-4)
        and np.array_equal(arrays["actions"], index % 4)
        and np.allclose(arrays["rewards"], 0.5 * index)
        and np.allclose(arrays["next_obs"], expected_obs + 1000, atol=1e-3)
        and np.array_equal(flags.astype(bool), index % 3 == 0)
    )
    if not together:
        raise CriterionFailed(
            "a sampled row mixes fields of different transitions (obs, action, reward, "
            "next_obs and terminated of one row must come from the same push)"
        )


@criterion("replay_buffer", 3, "ReplayBuffer: FIFO at capacity, sampled batches")
def test_replay_buffer(sandbox: Sandbox, credit: Credit, seed: int) -> None:
    credit.parts(("length", "sampled batch", "FIFO"))
    capacity, pushes, batch = 50, 80, 400
    found = _buffer(sandbox, capacity, pushes, batch, seed)
    with credit.check("length"):
        _check_lengths(found, capacity, pushes)

        @given(capacity=st.integers(1, 12), pushes=st.integers(0, 30))
        @expect.PROPERTY_SETTINGS
        def lengths_for_any_capacity(capacity: int, pushes: int) -> None:
            _check_lengths(_buffer(sandbox, capacity, pushes, 1, seed), capacity, pushes)

        lengths_for_any_capacity()
    with credit.check("sampled batch"):
        _check_sampled_rows(_sampled_arrays(found, batch))
    with credit.check("FIFO"):
        index = _transition_index(_sampled_arrays(found, batch))
        oldest = pushes - capacity
        if index.min() < oldest:
            raise CriterionFailed(
                f"after {pushes} pushes into a buffer of capacity {capacity}, sample() returned "
                f"transition {index.min()}, which should have been overwritten (FIFO)"
            )
        if len(np.unique(index)) < capacity // 2:
            raise CriterionFailed(
                f"{batch} samples drew only {len(np.unique(index))} different transitions of "
                f"{capacity}; sample uniformly from the whole buffer"
            )


@criterion("epsilon", 2, "epsilon_at: within [0, 1], non-increasing, decays")
def test_epsilon(sandbox: Sandbox) -> None:
    steps = sorted({*range(0, 200_001, 500), 1, 2, 5, 10, 50, 10**6, 10**7})
    values = sandbox.call(f"{PROBES}:epsilon_values", (steps,), label="epsilon_at")
    if not isinstance(values, list) or len(values) != len(steps):
        raise CriterionFailed(f"epsilon_at probe gave {expect.describe(values)}")
    for step, value in zip(steps, values, strict=True):
        if not isinstance(value, float) or not 0.0 <= value <= 1.0:
            raise CriterionFailed(f"epsilon_at({step}) is {value}; expected a number in [0, 1]")
    for i in range(len(steps) - 1):
        step, value, later, next_value = steps[i], values[i], steps[i + 1], values[i + 1]
        if next_value > value + 1e-12:
            raise CriterionFailed(
                f"epsilon_at rises from {value:.4g} at step {step} to {next_value:.4g} at "
                f"step {later}; the schedule must be non-increasing"
            )
    if values[0] < 0.5:
        raise CriterionFailed(f"epsilon_at(0) is {values[0]:.3g}; start exploring (>= 0.5)")
    at_end = values[steps.index(200_000)]
    if at_end > 0.1:
        raise CriterionFailed(
            f"epsilon_at(200000) is {at_end:.3g}; the schedule must decay to <= 0.1 by step 200,000"
        )


def _expected_targets(
    rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    return rewards + gamma * (~terminated) * next_q.max(axis=1)


def _check_targets(
    sandbox: Sandbox,
    rewards: np.ndarray,
    next_q: np.ndarray,
    terminated: np.ndarray,
    gamma: float,
    what: str,
) -> None:
    found = sandbox.call(
        f"{PROBES}:td_targets",
        (rewards.astype(np.float32), next_q.astype(np.float32), terminated, gamma),
        label="td_target",
    )
    got = expect.array(found, rewards.shape, f"td_target for {what}", numpy_only=True)
    expected = _expected_targets(
        rewards.astype(np.float32), next_q.astype(np.float32), terminated, gamma
    )
    expect.close(got, expected, f"td_target for {what}", rtol=1e-5, atol=1e-3)


_batches = st.integers(1, 16).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-100, 100, width=32), min_size=n, max_size=n),
        st.lists(
            st.lists(st.floats(-500, 500, width=32), min_size=4, max_size=4), min_size=n, max_size=n
        ),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.floats(0.0, 1.0),
    )
)


@criterion("td_target", 3, "td_target: the lecture's example; terminal vs truncated")
def test_td_target(sandbox: Sandbox, credit: Credit) -> None:
    credit.parts(("bootstrapped targets", "terminal states"))
    with credit.check("bootstrapped targets"):
        # Lecture 8: Q(s) = [330, 40, -430], r = -8, max Q(s') = 350, gamma 0.9 -> 307.
        _check_targets(
            sandbox,
            np.array([-8.0]),
            np.array([[350.0, 120.0, -40.0]]),
            np.array([False]),
            0.9,
            "the lecture's example (r = -8, max Q(s') = 350, gamma 0.9: 307)",
        )

        @given(batch=_batches)
        @expect.PROPERTY_SETTINGS
        def bootstraps(batch: tuple) -> None:
            rewards, next_q, _, gamma = batch
            flags = np.zeros(len(rewards), dtype=bool)
            _check_targets(
                sandbox, np.array(rewards), np.array(next_q), flags, gamma,
                "non-terminal transitions (r + gamma * max Q(s'))",
            )  # fmt: skip

        bootstraps()
    with credit.check("terminal states"):
        _check_targets(
            sandbox,
            np.array([-100.0, 5.0]),
            np.array([[350.0, 10.0, 0.0, 0.0], [20.0, 40.0, 0.0, 0.0]]),
            np.array([True, False]),
            0.99,
            "a crash (terminated: target = r) and a time-limit truncation (not terminated: "
            "target bootstraps)",
        )

        @given(batch=_batches)
        @expect.PROPERTY_SETTINGS
        def stops_at_terminal(batch: tuple) -> None:
            rewards, next_q, flags, gamma = batch
            _check_targets(
                sandbox, np.array(rewards), np.array(next_q), np.array(flags), gamma,
                "a batch with terminal states (target = r where terminated)",
            )  # fmt: skip

        stops_at_terminal()


def _expected_returns(rewards: list[float], gamma: float) -> np.ndarray:
    returns, running = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


@criterion("returns", 2, "discounted_returns: G_t = r_t + gamma * G_(t+1)")
def test_returns(sandbox: Sandbox) -> None:
    def check(rewards: list[float], gamma: float, what: str) -> None:
        found = sandbox.call(
            f"{PROBES}:discounted_returns", (rewards, gamma), label="discounted_returns"
        )
        got = expect.array(found, (len(rewards),), f"discounted_returns {what}", numpy_only=True)
        expect.close(
            got, _expected_returns(rewards, gamma), f"discounted_returns {what}", rtol=1e-6, atol=1e-6
        )  # fmt: skip

    check([1.0, 1.0, 1.0], 0.9, "of [1, 1, 1] with gamma 0.9 ([2.71, 1.9, 1])")
    check([0.0, 0.0, 10.0, -100.0], 0.5, "of [0, 0, 10, -100] with gamma 0.5")

    @given(
        rewards=st.lists(st.floats(-100, 100), min_size=1, max_size=40),
        gamma=st.floats(0.0, 1.0),
    )
    @expect.PROPERTY_SETTINGS
    def recursion(rewards: list[float], gamma: float) -> None:
        check(rewards, gamma, f"of {len(rewards)} rewards with gamma {gamma:.3g}")

    recursion()


# --- performance (15 points) -----------------------------------------------------------


# Performance runs before learning: a train() that saves its agent must not be able to
# overwrite the shipped checkpoint before it is graded.


def _check_checkpoint(grading: GradingContext) -> None:
    path = grading.staged.root / "a5" / "agent.pt"
    if not path.is_file():
        raise CriterionFailed("a5/agent.pt is missing: save your trained agent with agent.save")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CriterionFailed(f"a5/agent.pt is {size / 2**20:.1f} MB; the limit is 10 MB")
    try:
        check_state_dict_checkpoint(path.read_bytes())
    except CheckpointProblem as problem:
        raise CriterionFailed(
            f"a5/agent.pt does not load with torch.load(weights_only=True): {problem}; "
            "save the state_dict, not the whole module"
        ) from None


@criterion("performance", 15, "the shipped agent: mean score over 100 episodes (full from 200)")
def test_performance(sandbox: Sandbox, grading: GradingContext, credit: Credit) -> None:
    _check_checkpoint(grading)
    _dict(sandbox.call(f"{PROBES}:load_shipped", label="Agent.load"), "Agent.load")
    policy = _policy(sandbox, "shipped", "act")
    seeds, _, chosen = evaluation_seeds(grading)
    scores = _play(policy, seeds, grading.assignment.budgets["evaluate"])
    grading.series["returns"] = [round(float(r), 2) for r in scores.returns]
    credit.tiered(
        scores.mean,
        PERFORMANCE_TIERS,
        f"{scores.summary()} on {chosen}; full credit from a mean of 200",
    )
    target = grading.artifact_path("episode.gif")
    if target is not None:
        try:
            episodes.render_gif(policy, ANIMATION_SEED, target)
            grading.artifacts.append(f"episode animation: {target}")
        except ImportError as missing:  # a report nicety, never a reason to lose points
            grading.artifacts.append(f"no episode animation ({missing.name} is not installed)")


# --- learning (5 points) ---------------------------------------------------------------


@criterion("learning", 5, "train: a short run from your code clearly beats a random policy")
def test_learning(sandbox: Sandbox, grading: GradingContext, credit: Credit, seed: int) -> None:
    budget = grading.assignment.budgets["learn"]
    _, seeds, _ = evaluation_seeds(grading)
    _dict(
        sandbox.call(
            f"{PROBES}:train_agent", (LEARNING_STEPS, seed), budget_s=budget, label="train"
        ),
        "train",
    )
    trained = _play(
        _policy(sandbox, "trained", "act"), seeds, grading.assignment.budgets["evaluate"]
    )
    random = episodes.play(episodes.random_policy(seed), seeds)
    needed = random.mean + LEARNING_MARGIN
    outcome = (
        f"after train(total_steps={LEARNING_STEPS:,}, seed={seed}) the greedy agent scores a "
        f"mean {trained.mean:.1f} over {len(seeds)} episodes; a random policy scores "
        f"{random.mean:.1f} on the same episodes"
    )
    if trained.mean < needed:
        raise CriterionFailed(
            f"{outcome}; needed at least {needed:.1f} (random + {LEARNING_MARGIN:.0f})"
        )
    credit.award(1.0, f"{outcome} (needed {needed:.1f})")
