"""Does the test-set perturbation move an honest model's accuracy? (It must not.)

Trains each reference solution once (seed 0) and measures its test accuracy on the
public images and on the perturbed images the grader scores on, and counts how many
perturbed images a look-up table of the public test set still finds.

Run: python bench/perturbation.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from reference_training import reference  # noqa: E402
from results_file import write_section  # noqa: E402

from graders.data.mnist import load_mnist, to_features, train_validation_split  # noqa: E402
from graders.data.perturb import PIXELS, PUBLIC_SEED, perturb  # noqa: E402


def classifiers(data: Path):
    """(name, function from uint8 test images to predicted labels) for each reference."""
    images, labels = load_mnist("train", data, download=False)
    perceptron = reference("a2.perceptron")
    W, b = perceptron.train(to_features(images), labels, seed=0)
    yield "a2", lambda x: perceptron.predict(to_features(x), W, b)
    mlp = reference("a3.mlp")
    (tx, ty), (vx, vy) = train_validation_split(images, labels, validation=10000, seed=0)
    params, _ = mlp.train(to_features(tx), ty, to_features(vx), vy, seed=0)
    yield "a3", lambda x: mlp.predict(params, to_features(x))
    try:
        import torch
    except ImportError:
        return
    model = reference("a4.pipeline").train(images, labels, seed=0).eval()

    def cnn(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return (
                model(torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)).argmax(1).numpy()
            )

    yield "a4", cnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    test_images, test_labels = load_mnist("test", args.data_dir, download=False)
    changed = perturb(test_images, PUBLIC_SEED)
    table = {hashlib.sha256(image.tobytes()).digest() for image in test_images}
    found = sum(hashlib.sha256(image.tobytes()).digest() in table for image in changed)
    rows = ["| reference | public test images | perturbed | difference |", "|---|---|---|---|"]
    for name, classify in classifiers(args.data_dir):
        public = float(np.mean(classify(test_images) == test_labels))
        scored = float(np.mean(classify(changed) == test_labels))
        row = f"| {name} | {public:.2%} | {scored:.2%} | {100 * (scored - public):+.2f} points |"
        print(row)
        rows.append(row)
    body = (
        f"Each of the 10,000 test images has {PIXELS} pixels moved by one grey level. A table "
        f"of the public test images finds {found} of the perturbed ones.\n\n" + "\n".join(rows)
    )
    print(f"look-up hits: {found}")
    write_section("bench/perturbation.py", body)


if __name__ == "__main__":
    main()
