#!/usr/bin/env python3
"""torch_cnn — the PyTorch peer of bench_cnn (bench/cnn.sh): one active-learning round of
Gal, Islam & Ghahramani 2017's CNN on MNIST written the way a PyTorch user would, on the CPU
(or --device cuda, for bench/run_cuda.sh: the data on the GPU, timings synchronised), timed
phase by phase.

Same work as bench_cnn: the model conv 32 4x4 (valid) -> ReLU -> conv 32 4x4 -> ReLU ->
max-pool 2x2 -> dropout 0.25 -> dense 128 -> ReLU -> dropout 0.5 -> dense 10 -> softmax, on
MNIST 1x28x28 (pixels / 255, from alsim's cache);
  train n:  fresh weights, 50 epochs of minibatch 128 (50 * ceil(n/128) Adam steps, lr 1e-3, of
            min(128, n) rows from successive shuffles of the first n pool rows), dropout on;
  score:    T = 100 MC-dropout samples of the first 2,000 pool rows, in batches of --batch
            rows, then BALD in float64, two ways:
            plain        model.train() (dropout on) and T full forward passes per batch under
                         torch.no_grad(), as MC-dropout code usually reads;
            trunk reuse  the convolutions and the pooling (everything before the first dropout)
                         once per batch, then T passes of the head.
Prints one JSON object: the median seconds of each phase over --reps repetitions (fewer for
the largest fit, --reps-large, and for the plain scoring pass, --reps-plain: it takes minutes),
the threads and the torch version.
"""
import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from peer import default_folder, load_mnist

DEV = torch.device("cpu")   # --device


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4)
        self.conv2 = nn.Conv2d(32, 32, 4)
        self.drop1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 11 * 11, 128)
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def trunk(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return torch.flatten(F.max_pool2d(x, 2), 1)

    def head(self, h):
        h = F.relu(self.fc1(self.drop1(h)))
        return self.fc2(self.drop2(h))

    def forward(self, x):
        return self.head(self.trunk(x))


def fit(x, y, n, epochs, minibatch, gen):
    """A fresh model fit on the first n rows: epochs * ceil(n / minibatch) Adam steps."""
    model = Net().to(DEV)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = x[:n], y[:n]
    m = min(minibatch, n)
    steps = epochs * math.ceil(n / minibatch)
    order, pos = torch.randperm(n, generator=gen), 0
    for _ in range(steps):
        if pos + m > n:     # a new epoch's shuffle (the last partial batch wraps, as alsim's)
            rest = order[pos:]
            order, pos = torch.randperm(n, generator=gen), m - len(rest)
            idx = torch.cat([rest, order[:pos]])
        else:
            idx, pos = order[pos:pos + m], pos + m
        opt.zero_grad()
        idx = idx.to(DEV)
        loss = F.cross_entropy(model(xs[idx]), ys[idx])
        loss.backward()
        opt.step()
    return model


def bald(mc):
    """BALD scores (n,) of MC samples mc (T,n,K), in float64."""
    mc = mc.double()
    pbar = mc.mean(dim=0)
    h_mean = -(pbar * torch.log(pbar.clamp_min(1e-300))).sum(dim=1)
    h_each = -(mc * torch.log(mc.clamp_min(1e-300))).sum(dim=2).mean(dim=0)
    return (h_mean - h_each).clamp_min(0.0)


def score_plain(model, x, T, batch):
    model.train()       # dropout on: MC dropout
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            out.append(torch.stack([F.softmax(model(xb), dim=1) for _ in range(T)]))
    return bald(torch.cat(out, dim=1))


def score_reuse(model, x, T, batch):
    model.train()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            h = model.trunk(x[i:i + batch])    # deterministic: once per batch
            out.append(torch.stack([F.softmax(model.head(h), dim=1) for _ in range(T)]))
    return bald(torch.cat(out, dim=1))


def timed(fn, reps):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        if DEV.type == "cuda":
            torch.cuda.synchronize()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=default_folder(), help="folder with the MNIST IDX files")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--sizes", default="20,110,520", help="labeled-set sizes n to fit")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--minibatch", type=int, default=128)
    ap.add_argument("--mc", type=int, default=100, help="T, MC-dropout samples")
    ap.add_argument("--pool", type=int, default=2000, help="pool rows scored")
    ap.add_argument("--batch", type=int, default=256, help="rows per scoring batch")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--reps-large", type=int, default=3, help="repetitions of fits with n > 200")
    ap.add_argument("--reps-plain", type=int, default=1,
                    help="repetitions of the plain scoring pass (minutes each on 2 cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    global DEV
    DEV = torch.device(a.device)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    xn, yn, _, _ = load_mnist(a.data)
    x = torch.from_numpy(xn).reshape(-1, 1, 28, 28).to(DEV)
    y = torch.from_numpy(yn).to(DEV)

    res = {"torch": torch.__version__, "device": str(DEV), "threads": torch.get_num_threads(), "mc": a.mc,
           "pool": a.pool, "batch": a.batch}
    model = None
    for n in (int(s) for s in a.sizes.split(",")):
        box = {}

        def run_fit():
            box["model"] = fit(x, y, n, a.epochs, a.minibatch, gen)
        res[f"train_n{n}_s"] = timed(run_fit, a.reps_large if n > 200 else a.reps)
        model = box["model"]
        print(f"torch_cnn: train n={n}: {res[f'train_n{n}_s']:.3f} s", file=sys.stderr)
    if model is None:
        model = Net().to(DEV)
    xs = x[:a.pool].contiguous()
    res["score_plain_s"] = timed(lambda: score_plain(model, xs, a.mc, a.batch), a.reps_plain)
    res["score_reuse_s"] = timed(lambda: score_reuse(model, xs, a.mc, a.batch), a.reps)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
