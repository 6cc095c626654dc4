"""The PyTorch side of benchmarks/engine: the same workloads as Workloads.cs, written as a PyTorch
user would write them. Run by EngineBench with Debian's /usr/bin/python3 (python3-torch 1.13 and its
libtorch_cpu; the engine runs TorchSharp on LibTorch 2.10). Progress goes to stderr; the last stdout
line is one JSON object.

    peer.py info
    peer.py overhead --calls N --batches N --threads N
    peer.py train --model mlp|cnn|small --epochs N --threads N --seed S --data DIR [--weights STEM]
    peer.py memory --threads N --seed S --data DIR      (one CNN epoch; reports this process's VmHWM)

--weights STEM loads the initial weights EngineBench wrote (STEM.json: name, shape and offset of each
parameter; STEM.bin: float32), so both sides start from the same weights.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = 0.2860
STD = 0.3530
WARMUP_BATCHES = 20
MODELS = {"mlp": (128,), "cnn": (128,), "small": (32,)}
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


class Mlp(nn.Module):
    """Linear layers with ReLU between them; parameter names (layers.0.weight, ...) as Workloads.cs's Mlp."""

    def __init__(self, *widths):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class Cnn(nn.Module):
    """2 x (conv 3x3 without bias, BatchNorm2d, ReLU, max-pool 2), Linear(3136, 128), ReLU, Dropout(0.25), Linear(128, 10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(3136, 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(self.dropout(x))


def build(name):
    if name == "mlp":
        return Mlp(784, 256, 128, 10)
    if name == "cnn":
        return Cnn()
    if name == "small":
        return Mlp(784, 64, 10)
    raise ValueError(f"unknown model {name}")


def load_weights(model, stem):
    """Copies the initial weights EngineBench wrote into the model, checking every name and shape."""
    with open(stem + ".json") as f:
        entries = json.load(f)
    raw = np.fromfile(stem + ".bin", dtype="<f4")
    params = dict(model.named_parameters())
    if sorted(params) != sorted(e["name"] for e in entries):
        raise ValueError(f"parameter names differ: {sorted(params)} vs {sorted(e['name'] for e in entries)}")
    with torch.no_grad():
        for e in entries:
            p = params[e["name"]]
            n = int(np.prod(e["shape"]))
            if list(p.shape) != list(e["shape"]):
                raise ValueError(f"{e['name']}: shape {list(p.shape)} vs {e['shape']}")
            p.copy_(torch.from_numpy(raw[e["offset"]:e["offset"] + n].reshape(e["shape"]).copy()))


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


def eval_loss(model, x, y, indices):
    """The loss of one batch in evaluation mode without gradients (the initial weights' loss, no dropout)."""
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x.index_select(0, indices)), y.index_select(0, indices)).item()


def train(x, y, n, name, epochs, seed, weights=None, warmup_batches=WARMUP_BATCHES):
    batch_size = MODELS[name][0]
    torch.manual_seed(seed)
    model = build(name)
    if weights:
        load_weights(model, weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    first_loss = float("nan")
    warmup = batch_indices(n, batch_size, seed)
    initial_loss = eval_loss(model, x, y, warmup[0])
    # Both sides seed here, so dropout draws from the same generator state.
    torch.manual_seed(seed + 1)
    model.train()
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
    return {"samples_per_s": rates, "initial_loss": initial_loss, "first_loss": first_loss, "last_loss": last_loss,
            "parameters": sum(p.numel() for p in model.parameters())}


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
    """The libtorch_cpu this process mapped (Debian's, of python3-torch)."""
    with open("/proc/self/maps") as f:
        for line in f:
            if "libtorch_cpu" in line:
                return line.split()[-1]
    return "not found"


def debian_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def status_kb():
    """VmHWM, VmRSS, RssAnon, RssFile, ... of this process, in KiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                values[parts[0].rstrip(":")] = int(parts[1])
    return values


def memory_kb():
    s = status_kb()
    return s["VmHWM"], s["VmRSS"]


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
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.command == "info":
        result = {"torch": torch.__version__, "python": sys.version.split()[0], "libtorch": libtorch_path(),
                  "package": debian_version("python3-torch")}
    elif args.command == "overhead":
        result = {"ns_per_call": add_overhead(args.calls, args.batches)}
    elif args.command == "train":
        x, y, n = load_train(args.data, args.samples)
        result = train(x, y, n, args.model, args.epochs, args.seed, args.weights)
    else:
        x, y, n = load_train(args.data, args.samples)
        _, after_load = memory_kb()
        start = time.perf_counter()
        run = train(x, y, n, "cnn", 1, args.seed, warmup_batches=0)
        peak, rss = memory_kb()
        end = status_kb()
        result = {"peak_kb": peak, "rss_after_load_kb": after_load, "rss_end_kb": rss,
                  "rss_anon_end_kb": end["RssAnon"], "rss_file_end_kb": end["RssFile"],
                  "seconds": time.perf_counter() - start, "last_loss": run["last_loss"]}
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
