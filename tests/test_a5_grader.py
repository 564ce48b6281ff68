"""Assignment 5 grader on the real LunarLander: full marks for the reference, none for the
stub, and each seeded bug (or cheat) loses exactly the points of the criteria it breaks."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import REFERENCE, TEMPLATE, build_submission, points_by_criterion, replace_once

from graders.core.options import GradeOptions
from graders.core.results import Status
from graders.core.runner import UnknownCriteria, grade

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "gymnasium", "Box2D")),
    reason="needs the rl extra",
)

FULL = {"replay_buffer": 3, "epsilon": 2, "td_target": 3, "returns": 2, "performance": 15,
        "learning": 5}  # fmt: skip
# Everything but the retraining run (about a minute): what most seeded bugs are graded on.
FAST = ("replay_buffer", "epsilon", "td_target", "returns", "performance")


def grade_a5(submission, **options):
    from graders.a5 import ASSIGNMENT

    return grade(ASSIGNMENT, submission, GradeOptions(**options))


def mean_score(reason: str) -> float:
    found = re.search(r"mean (-?\d+\.\d) ± (\d+\.\d) over (\d+) episodes", reason)
    assert found, reason
    return float(found.group(1))


def test_reference_scores_well_and_leaves_a_watchable_episode(graded_course):
    from PIL import Image

    result = graded_course("a5", "reference")
    assert points_by_criterion(result) == FULL, {c.id: c.reason for c in result.criteria}
    performance = next(c for c in result.criteria if c.id == "performance")
    assert mean_score(performance.reason) >= 250
    assert (
        "over 100 episodes" in performance.reason and "% of episodes >= 200" in performance.reason
    )
    assert "public evaluation seeds" in performance.reason
    learning = next(c for c in result.criteria if c.id == "learning")
    assert "the greedy agent scores a mean" in learning.reason and "(needed " in learning.reason
    (saved,) = result.artifacts
    gif = Path(saved.removeprefix("episode animation: "))
    assert gif.name == "a5-episode.gif"
    with Image.open(gif) as animation:
        assert animation.n_frames > 20 and animation.size == (300, 200)


def test_stub_says_what_is_missing(graded_course):
    result = graded_course("a5", "student_template")
    assert "a5/agent.pt is missing from the submission" in result.notices
    for criterion in result.criteria:
        expected = "a5/agent.pt is missing" if criterion.id == "performance" else "not implemented"
        assert expected in criterion.reason, criterion


LIST_BUFFER = '''
class ReplayBuffer:
    """Keeps every transition: a list that grows past its capacity."""

    def __init__(self, capacity, obs_dim, seed=0):
        self.capacity = capacity
        self.rows = []
        self._rng = np.random.default_rng(seed)

    def push(self, obs, action, reward, next_obs, terminated):
        self.rows.append((np.asarray(obs, np.float32), action, reward,
                          np.asarray(next_obs, np.float32), terminated))

    def sample(self, batch_size):
        picked = [self.rows[i] for i in self._rng.integers(0, len(self.rows), batch_size)]
        obs, actions, rewards, next_obs, terminated = zip(*picked)
        return Batch(np.stack(obs), np.array(actions, dtype=np.int64),
                     np.array(rewards, dtype=np.float32), np.stack(next_obs),
                     np.array(terminated, dtype=bool))

    def __len__(self):
        return len(self.rows)


def epsilon_at('''


def _without_ring_buffer(source: str) -> str:
    start = source.index("class ReplayBuffer:")
    end = source.index("def epsilon_at(")
    return source[:start] + LIST_BUFFER.lstrip() + source[end + len("def epsilon_at(") :]


REWARD_HACK = """
import gymnasium.envs.box2d.lunar_lander as _lunar_lander

_real_step = _lunar_lander.LunarLander.step


def _generous_step(self, action):
    obs, reward, terminated, truncated, info = _real_step(self, action)
    return obs, reward + 1000.0, terminated, truncated, info


_lunar_lander.LunarLander.step = _generous_step
"""

SEEDED_BUGS = {
    "bootstraps through terminal states": (
        replace_once("    alive = 1.0 - terminated.to(next_q.dtype)\n", "    alive = 1.0\n"),
        {"td_target": 1.5},
        "a crash (terminated: target = r)",
    ),
    "buffer grows past capacity": (
        _without_ring_buffer,
        {"replay_buffer": 1},
        "len(buffer) after 51 pushes is 51; expected 50",
    ),
    "epsilon never decays": (
        replace_once("    return EPSILON_START + fraction * (EPSILON_END - EPSILON_START)\n",
                     "    return EPSILON_START\n"),
        {"epsilon": 0},
        "the schedule must decay to <= 0.1",
    ),
    "act returns a float": (
        replace_once("        return int(np.argmax(self.q_values(obs)))",
                     "        return float(np.argmax(self.q_values(obs)))"),
        {"performance": 0},
        "act() returned float",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SEEDED_BUGS))
def test_seeded_bug_loses_exactly_its_criteria(name, tmp_path):
    edit, broken, reason = SEEDED_BUGS[name]
    submission = build_submission(tmp_path, assignment="a5", edits={"a5/agent.py": edit})
    result = grade_a5(submission, only=FAST)
    expected = {**{k: v for k, v in FULL.items() if k in FAST}, "learning": 0, **broken}
    assert points_by_criterion(result) == expected, {c.id: c.reason for c in result.criteria}
    for criterion in result.criteria:
        if criterion.id in FAST:
            assert (criterion.status == Status.PASSED) == (criterion.id not in broken), criterion
    first = next(c for c in result.criteria if c.id == next(iter(broken)))
    assert reason in first.reason


def q_network():
    """The reference's network shape (8 -> 256 -> 256 -> 4), freshly initialised."""
    import torch

    layers = [torch.nn.Linear(8, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(256, 4))


def _save_whole_module(submission) -> None:
    import torch

    from graders.a5.probes import CHECKPOINT

    network = q_network()
    network.load_state_dict(torch.load(REFERENCE / CHECKPOINT, weights_only=True))
    torch.save(network, submission / CHECKPOINT)


def test_a_checkpoint_that_needs_pickle_loses_the_performance_points(tmp_path):
    submission = build_submission(
        tmp_path,
        assignment="a5",
        edits={"a5/agent.py": replace_once(
            "network.load_state_dict(torch.load(path, map_location=\"cpu\", weights_only=True))",
            "network = torch.load(path, map_location=\"cpu\", weights_only=False)")},
    )  # fmt: skip
    _save_whole_module(submission)
    result = grade_a5(submission, only=FAST)
    assert points_by_criterion(result) == {**FULL, "learning": 0, "performance": 0}
    performance = next(c for c in result.criteria if c.id == "performance")
    assert "does not load with torch.load(weights_only=True)" in performance.reason
    assert "torch.nn.modules.container.Sequential" in performance.reason


def test_an_rl_library_import_zeroes_the_assignment(tmp_path):
    submission = build_submission(
        tmp_path,
        assignment="a5",
        edits={"a5/agent.py": replace_once(
            "    torch.manual_seed(seed)\n",
            "    from stable_baselines3 import DQN  # noqa: F401\n    torch.manual_seed(seed)\n")},
    )  # fmt: skip
    result = grade_a5(submission, only=FAST)
    assert result.points == 0
    assert [v.module for v in result.violations] == ["stable_baselines3"]
    assert result.violations[0].file == "a5/agent.py" and result.violations[0].line > 0


def test_editing_the_environment_reward_changes_nothing(tmp_path):
    """The agent's module patches LunarLander's reward by +1000 and ships untrained weights:
    the evaluation runs in the grader, so it sees the real (bad) scores."""
    import torch

    from graders.a5.probes import CHECKPOINT

    submission = build_submission(
        tmp_path,
        assignment="a5",
        edits={"a5/agent.py": lambda source: source + REWARD_HACK},
    )
    torch.manual_seed(0)
    untrained = q_network()
    torch.save(untrained.state_dict(), submission / CHECKPOINT)
    result = grade_a5(submission, only=FAST)
    assert points_by_criterion(result) == {**FULL, "learning": 0, "performance": 0}
    performance = next(c for c in result.criteria if c.id == "performance")
    assert mean_score(performance.reason) < 0


def test_a_train_that_never_learns_loses_the_learning_points(tmp_path, monkeypatch):
    """A learning rate of 0 learns nothing however long it trains: a tenth of the run
    (the criterion's other direction is the reference's full run) shows it."""
    from graders.a5 import grader

    monkeypatch.setattr(grader, "LEARNING_STEPS", grader.LEARNING_STEPS // 10)
    submission = build_submission(
        tmp_path,
        assignment="a5",
        edits={"a5/agent.py": replace_once("LEARNING_RATE = 6e-4\n", "LEARNING_RATE = 0.0\n")},
    )
    result = grade_a5(submission, only=("learning",))
    learning = next(c for c in result.criteria if c.id == "learning")
    assert learning.status == Status.FAILED and learning.points == 0, learning
    assert "a random policy scores" in learning.reason and "needed at least" in learning.reason


def test_instructor_seeds_replace_the_public_ones_and_stay_secret(tmp_path):
    from graders.a5.grader import PUBLIC_EVALUATION_SEEDS, evaluation_seeds

    class Context:
        def __init__(self, secrets):
            self.secrets = secrets

        def secret(self, name, default=None):
            return self.secrets.get("a5", {}).get(name, default)

    public, _, how = evaluation_seeds(Context({}))
    assert public == PUBLIC_EVALUATION_SEEDS and how == "public evaluation seeds"
    secret, learning, how = evaluation_seeds(Context({"a5": {"evaluation_seed": 829301}}))
    assert how == "the instructor's seeds" and len(secret) == 100 and len(learning) == 10
    assert not set(secret) & set(PUBLIC_EVALUATION_SEEDS) and not set(secret) & set(learning)
    assert evaluation_seeds(Context({"a5": {"evaluation_seed": 829301}}))[0] == secret

    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"a5": {"evaluation_seed": 829301}}')
    result = grade_a5(REFERENCE, only=("performance",), secrets_file=secrets)
    performance = next(c for c in result.criteria if c.id == "performance")
    assert performance.points == 15 and "on the instructor's seeds" in performance.reason
    assert "829301" not in str(result.to_dict())


def test_only_grades_the_named_criteria_and_rejects_unknown_ones():
    result = grade_a5(TEMPLATE, only=("epsilon",))
    statuses = {c.id: c.status for c in result.criteria}
    assert list(statuses) == list(FULL)
    assert statuses["epsilon"] == Status.FAILED
    assert all(s == Status.NOT_RUN for k, s in statuses.items() if k != "epsilon")
    with pytest.raises(UnknownCriteria, match="has no criterion epsilom; its criteria are"):
        grade_a5(TEMPLATE, only=("epsilom",))


def test_episodes_run_in_the_grader_and_reject_invalid_actions():
    from graders.a5 import episodes

    scores = episodes.play(episodes.random_policy(0), (0, 1, 2))
    again = episodes.play(episodes.random_policy(0), (0, 1, 2))
    assert np.array_equal(scores.returns, again.returns)  # seeded: reproducible
    assert scores.mean < 0 and len(scores.returns) == 3
    with pytest.raises(episodes.PolicyProblem, match="actions are 0..3"):
        episodes.play(lambda obs: np.full(len(obs), 7), (0,))
    with pytest.raises(episodes.PolicyProblem, match="integer actions"):
        episodes.play(lambda obs: np.zeros(len(obs)), (0,))
    with pytest.raises(episodes.OutOfTime):
        episodes.play(episodes.random_policy(0), (0,), time_budget_s=0.0)
