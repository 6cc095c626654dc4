"""Trains a logistic-regression classifier by gradient descent, in plain Python, and tracks it.

    python3 clients/python/examples/train_linear.py --url http://127.0.0.1:5000 --experiment demo

The data are two Gaussian blobs drawn with a fixed seed, split into train and validation. Every
epoch logs loss and accuracy for both; the learned weights are uploaded as weights.json. The last
line printed is a JSON summary (run id, final figures, where the weights were written).
"""

import argparse
import json
import math
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import modelops  # noqa: E402


def make_blobs(n, seed):
    """n points in 2-D: class 1 around (1, 1), class 0 around (-1, -1), overlapping a little."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        centre = 1.0 if label else -1.0
        rows.append(([rng.gauss(centre, 1.0), rng.gauss(centre, 1.0)], label))
    rng.shuffle(rows)
    return rows


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def evaluate(weights, bias, rows):
    """Mean cross-entropy and accuracy."""
    loss, correct = 0.0, 0
    for x, y in rows:
        p = sigmoid(sum(w * xi for w, xi in zip(weights, x)) + bias)
        p = min(max(p, 1e-12), 1 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        correct += (p >= 0.5) == bool(y)
    return loss / len(rows), correct / len(rows)


def train_epoch(weights, bias, rows, learning_rate):
    """One pass of full-batch gradient descent; returns the new weights and bias."""
    grad_w, grad_b = [0.0] * len(weights), 0.0
    for x, y in rows:
        error = sigmoid(sum(w * xi for w, xi in zip(weights, x)) + bias) - y
        grad_w = [g + error * xi for g, xi in zip(grad_w, x)]
        grad_b += error
    n = len(rows)
    return [w - learning_rate * g / n for w, g in zip(weights, grad_w)], bias - learning_rate * grad_b / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="portal URL (default: $MODELOPS_URL or http://127.0.0.1:5000)")
    parser.add_argument("--experiment", default="demo")
    parser.add_argument("--run-name", default="logistic-regression")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out-dir", default=None, help="where weights.json is written (default: a temporary folder)")
    args = parser.parse_args(argv)

    rows = make_blobs(args.samples, args.seed)
    cut = int(len(rows) * 0.8)
    train, validation = rows[:cut], rows[cut:]
    out_dir = args.out_dir or tempfile.mkdtemp(prefix="train-linear-")
    os.makedirs(out_dir, exist_ok=True)

    client = modelops.Client(args.url)
    params = {"model": "logistic_regression", "learning_rate": args.learning_rate, "epochs": args.epochs,
              "samples": args.samples, "seed": args.seed}
    with client.start_run(args.experiment, name=args.run_name, params=params) as run:
        run.set_tags({"framework": "plain-python", "dataset": "gaussian-blobs"})
        run.log_params({"train_size": len(train), "validation_size": len(validation)})
        weights, bias = [0.0, 0.0], 0.0
        for epoch in range(1, args.epochs + 1):
            weights, bias = train_epoch(weights, bias, train, args.learning_rate)
            loss, accuracy = evaluate(weights, bias, train)
            val_loss, val_accuracy = evaluate(weights, bias, validation)
            run.log_metrics({"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy}, step=epoch)

        weights_path = os.path.join(out_dir, "weights.json")
        with open(weights_path, "w") as f:
            json.dump({"weights": weights, "bias": bias, "features": ["x1", "x2"]}, f, indent=2)
        run.log_artifact(weights_path, "model")
        run.set_tag("best_val_accuracy", f"{val_accuracy:.4f}")

    summary = {"run_id": run.id, "experiment_id": run.experiment_id, "status": run.status, "epochs": args.epochs,
               "final": {"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy},
               "weights": weights_path}
    print(f"Run {run.id} {run.status}: val_accuracy {val_accuracy:.3f}, loss {loss:.4f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
