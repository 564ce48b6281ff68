"""Accuracy and training time of the reference solutions of assignments 2, 3 and 4, and the
time nngrade takes to grade them (which must stay close to the training budget).

Run: python bench/reference_training.py [--seeds 0 1 2] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.core.options import GradeOptions  # noqa: E402
from graders.core.runner import grade  # noqa: E402
from graders.data.mnist import load_mnist, to_features, train_validation_split  # noqa: E402


def reference(module: str):
    sys.path.insert(0, str(REPO / "reference"))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(REPO / "reference"))


def train_a2(seed: int, data: Path) -> tuple[float, float]:
    perceptron = reference("a2.perceptron")
    images, labels = load_mnist("train", data, download=False)
    test_images, test_labels = load_mnist("test", data, download=False)
    started = time.perf_counter()
    W, b = perceptron.train(to_features(images), labels, seed=seed)
    elapsed = time.perf_counter() - started
    accuracy = float(np.mean(perceptron.predict(to_features(test_images), W, b) == test_labels))
    return accuracy, elapsed


def train_a3(seed: int, data: Path) -> tuple[float, float]:
    mlp = reference("a3.mlp")
    images, labels = load_mnist("train", data, download=False)
    test_images, test_labels = load_mnist("test", data, download=False)
    (tx, ty), (vx, vy) = train_validation_split(images, labels, validation=10000, seed=0)
    started = time.perf_counter()
    params, _ = mlp.train(to_features(tx), ty, to_features(vx), vy, seed=seed)
    elapsed = time.perf_counter() - started
    accuracy = float(np.mean(mlp.predict(params, to_features(test_images)) == test_labels))
    return accuracy, elapsed


def train_a4(seed: int, data: Path) -> tuple[float, float]:
    import torch

    pipeline = reference("a4.pipeline")
    images, labels = load_mnist("train", data, download=False)
    test_images, test_labels = load_mnist("test", data, download=False)
    started = time.perf_counter()
    model = pipeline.train(images, labels, seed=seed)
    elapsed = time.perf_counter() - started
    x = torch.from_numpy(test_images.astype(np.float32) / 255.0).unsqueeze(1)
    with torch.no_grad():
        predicted = model.eval()(x).argmax(dim=1).numpy()
    return float(np.mean(predicted == test_labels)), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    lines = []
    for key, trainer, budget, threshold in (
        ("a2", train_a2, 120, 0.90),
        ("a3", train_a3, 300, 0.95),
        ("a4", train_a4, 300, 0.98),
    ):
        runs = [trainer(seed, args.data_dir) for seed in args.seeds]
        accuracies = [a for a, _ in runs]
        times = [t for _, t in runs]
        started = time.perf_counter()
        spec = importlib.import_module(f"graders.{key}").ASSIGNMENT
        result = grade(
            spec, REPO / "reference", GradeOptions(data_dir=args.data_dir, download=False)
        )
        grading = time.perf_counter() - started
        line = (
            f"| {key} | {', '.join(f'{a:.2%}' for a in accuracies)} | {min(accuracies):.2%} "
            f"(needs {threshold:.0%}) | {statistics.median(times):.1f} s (max {max(times):.1f}) "
            f"| {budget} s | {grading:.1f} s ({result.points:g}/{result.max_points:g}) |"
        )
        print(line)
        lines.append(line)
    body = (
        f"Reference solutions trained in-process with seeds {args.seeds} on the full training "
        "set (a3: 50,000 images, 10,000 held out for validation), evaluated on the 10,000 "
        "test images; then the whole assignment graded by nngrade (bubblewrap when available).\n\n"
        "| assignment | test accuracy per seed | worst | training time (median) | budget "
        "| grading time (points) |\n|---|---|---|---|---|---|\n" + "\n".join(lines)
    )
    write_section("bench/reference_training.py", body)


if __name__ == "__main__":
    main()
