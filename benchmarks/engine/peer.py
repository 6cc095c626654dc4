"""The PyTorch side of benchmarks/engine: the same workloads as Workloads.cs, written as a PyTorch
user would write them. Run by EngineBench with Debian's /usr/bin/python3 (python3-torch, the same
libtorch 1.13.1 as the engine). Progress goes to stderr; the last stdout line is one JSON object.

    peer.py info
    peer.py overhead --calls N --batches N --threads N
    peer.py train --model mlp|cnn|small --epochs N --threads N --seed S --data DIR
    peer.py memory --threads N --seed S --data DIR      (one CNN epoch; reports this process's VmHWM)
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = 0.2860
STD = 0.3530
WARMUP_BATCHES = 20
MODELS = {"mlp": (128, False), "cnn": (128, True), "small": (32, False)}
MASK = (1 << 64) - 1


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_idx(path, dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != 0x800 + dims:
        raise ValueError(f"{path}: not an IDX file with {dims} dimension(s)")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_train(data_dir, limit=None):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 3)
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 1)
    n = images.shape[0] if limit is None else min(limit, images.shape[0])
    images, labels = images[:n], labels[:n]
    # The same op sequence as the engine: bytes -> float, / 255, - mean, / std.
    raw = torch.from_numpy(images.reshape(n, 28 * 28).copy())
    x = raw.to(torch.float32).mul(1.0 / 255).add(-MEAN).mul(1.0 / STD)
    y = torch.from_numpy(labels.copy()).to(torch.int64)
    return x, y, n


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
    if name == "small":
        return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    raise ValueError(f"unknown model {name}")


def permutation(n, seed):
    """Fisher-Yates driven by splitmix64: the same order as Workloads.Permutation in C#."""
    p = list(range(n))
    state = seed & MASK
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        j = z % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def batch_indices(n, batch_size, seed):
    """The batch index tensors of one epoch, built before the clock starts (as the engine does)."""
    perm = torch.tensor(permutation(n, seed), dtype=torch.int64)
    return [perm[s:s + batch_size].clone() for s in range(0, n, batch_size)]


def step(model, optimizer, x, y, indices):
    inputs = x.index_select(0, indices)
    target = y.index_select(0, indices)
    logits = model(inputs)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def train(x, y, n, name, epochs, seed, warmup_batches=WARMUP_BATCHES):
    batch_size, image = MODELS[name]
    torch.manual_seed(seed)
    model = build(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    x = x.reshape(n, 1, 28, 28) if image else x.reshape(n, 784)

    first_loss = float("nan")
    warmup = batch_indices(n, batch_size, seed)
    for b in range(min(warmup_batches, len(warmup))):
        loss = step(model, optimizer, x, y, warmup[b])
        if b == 0:
            first_loss = loss

    rates, last_loss = [], float("nan")
    for epoch in range(epochs):
        batches = batch_indices(n, batch_size, seed + 1 + epoch)
        start = time.perf_counter()
        for indices in batches:
            last_loss = step(model, optimizer, x, y, indices)
        rates.append(n / (time.perf_counter() - start))
        log(f"[pytorch] {name} epoch {epoch + 1}/{epochs}: {rates[-1]:,.0f} samples/s, loss {last_loss:.4f}")
    return {"samples_per_s": rates, "first_loss": first_loss, "last_loss": last_loss}


def add_overhead(calls, batches):
    a = torch.rand(16)
    b = torch.rand(16)

    def batch():
        start = time.perf_counter_ns()
        for _ in range(calls):
            c = a + b  # noqa: F841 (freed by reference counting when rebound, as in user code)
        return (time.perf_counter_ns() - start) / calls

    batch()
    return [batch() for _ in range(batches)]


def libtorch_path():
    """The libtorch_cpu this process mapped, to show both sides run the same library."""
    with open("/proc/self/maps") as f:
        for line in f:
            if "libtorch_cpu" in line:
                return line.split()[-1]
    return "not found"


def memory_kb():
    peak = rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return peak, rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["info", "overhead", "train", "memory"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--samples", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.command == "info":
        result = {"torch": torch.__version__, "python": sys.version.split()[0], "libtorch": libtorch_path()}
    elif args.command == "overhead":
        result = {"ns_per_call": add_overhead(args.calls, args.batches)}
    elif args.command == "train":
        x, y, n = load_train(args.data, args.samples)
        result = train(x, y, n, args.model, args.epochs, args.seed)
    else:
        x, y, n = load_train(args.data, args.samples)
        _, after_load = memory_kb()
        start = time.perf_counter()
        run = train(x, y, n, "cnn", 1, args.seed, warmup_batches=0)
        peak, rss = memory_kb()
        result = {"peak_kb": peak, "rss_after_load_kb": after_load, "rss_end_kb": rss,
                  "seconds": time.perf_counter() - start, "last_loss": run["last_loss"]}
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
