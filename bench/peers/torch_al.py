#!/usr/bin/env python3
"""torch_al — the PyTorch peer of an alsim run, for bench/run_cuda.sh: the same active-learning
loop written the way a PyTorch user would, doing the same work on the same GPU, timed per round.

Same work as `alsim --dataset mnist --strategy S --rounds R --batch b --init n --mc T`:
MNIST (pixels / 255), the MLP 784-H-10 with ReLU and dropout p, retrained every round from
the same initial weights (He-normal, zero biases) with AdamW (lr 1e-3, decoupled weight decay
1e-4, fresh state each round) for epochs · ceil(n_labeled / m) steps of m = min(64, n_labeled)
rows drawn from successive shuffles; test accuracy every round; then pool scoring: the first
layer once per round, T MC-dropout passes of the rest, BALD (or entropy / least-confidence /
margin / var-ratios / mean-std) reduced on the GPU in float64, top-b of the unlabeled rows.
The pool and test set live on the GPU (uploaded once), which alsim does not do (it uploads
each scoring chunk every round), so this peer is not handicapped there.

Not the same numbers as alsim (PyTorch draws its own masks, minibatches and initial set); the
point is seconds per round at the same labeled-set sizes. Prints one JSON object per round
and a summary object, e.g.
  {"round": 3, "n_labeled": 50, "steps": 50, "train_s": ..., "eval_s": ..., "score_s": ...,
   "select_s": ..., "accuracy": ...}
Needs numpy and torch with CUDA (or --device cpu). MNIST IDX files from --data (a folder
holding train-images-idx3-ubyte etc.; default $ALSIM_DATA/mnist, else ~/.cache/alsim/mnist).

On the CPU (bench/run.sh: --device cpu --threads 2, Debian's python3-torch) it is the same
loop on the same cores as alsim's CPU backend; --threads sets torch.set_num_threads.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from peer import add_loop_args, load_mnist


def scores_of(kind, probs=None, mc=None):
    """Per-row scores, higher = query first; probs (n,K), mc (T,n,K); float64 like alsim."""
    if kind == "least-confidence":
        return 1.0 - probs.max(dim=1).values
    if kind == "entropy":
        return -(probs * torch.log(probs.clamp_min(1e-300))).sum(dim=1)
    if kind == "margin":
        top2 = probs.topk(2, dim=1).values
        return -(top2[:, 0] - top2[:, 1])
    if kind == "bald":
        pbar = mc.mean(dim=0)
        h_mean = -(pbar * torch.log(pbar.clamp_min(1e-300))).sum(dim=1)
        h_each = -(mc * torch.log(mc.clamp_min(1e-300))).sum(dim=2).mean(dim=0)
        return (h_mean - h_each).clamp_min(0.0)
    if kind == "var-ratios":
        votes = F.one_hot(mc.argmax(dim=2), mc.shape[2]).sum(dim=0)
        return 1.0 - votes.max(dim=1).values.double() / mc.shape[0]
    if kind == "mean-std":
        return mc.std(dim=0, unbiased=False).mean(dim=1)
    raise SystemExit(f"torch_al: unknown strategy {kind}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_loop_args(ap, "bald")
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--mc", type=int, default=20)
    ap.add_argument("--pool-size", type=int, default=0)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (alsim never uses it)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32      # fp32 matmuls, as alsim's cuBLAS
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    x, y, xt, yt = load_mnist(a.data)
    if a.pool_size:
        keep = rng.permutation(len(x))[:a.pool_size]
        x, y = x[keep], y[keep]
    N, K = len(x), 10
    X, Y = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
    XT, YT = torch.from_numpy(xt).to(dev), torch.from_numpy(yt).to(dev)

    # the initial set: class-balanced
    per = a.init // K
    init = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in range(K)])
    labeled = np.zeros(N, dtype=bool)
    labeled[init] = True
    order = list(init)

    # the model, and its initial weights, reused every round
    W1 = torch.randn(a.hidden, 784, device=dev) * math.sqrt(2.0 / 784)
    W2 = torch.randn(K, a.hidden, device=dev) * math.sqrt(2.0 / a.hidden)
    init_state = [W1, torch.zeros(a.hidden, device=dev), W2, torch.zeros(K, device=dev)]
    params = [t.clone().requires_grad_(True) for t in init_state]
    use_mc = a.strategy in ("bald", "var-ratios", "mean-std")
    fused = dev.type == "cuda"

    def forward(inp, train):
        w1, b1, w2, b2 = params
        h = F.relu(F.linear(inp, w1, b1))
        h = F.dropout(h, a.dropout, training=train)
        return F.linear(h, w2, b2)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    totals = {"train_s": 0.0, "eval_s": 0.0, "score_s": 0.0, "select_s": 0.0}
    for r in range(a.rounds + 1):
        sync()
        t0 = time.perf_counter()
        n = len(order)
        m = min(a.minibatch, n)
        steps = a.epochs * math.ceil(n / a.minibatch)
        with torch.no_grad():
            for p, p0 in zip(params, init_state):
                p.copy_(p0)
        try:        # the fused CUDA kernel where this torch has it: the fastest AdamW
            opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=1e-4, fused=fused)
        except (TypeError, RuntimeError):
            opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=1e-4)
        rows = torch.tensor(order, device=dev)
        perms = torch.cat([torch.randperm(n, device=dev) for _ in range(math.ceil(steps * m / n) + 1)])
        batches = rows[perms[:steps * m]].view(steps, m)
        for s in range(steps):
            idx = batches[s]
            loss = F.cross_entropy(forward(X[idx], True), Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sync()
        t1 = time.perf_counter()
        with torch.no_grad():
            acc = (forward(XT, False).argmax(dim=1) == YT).double().mean().item()
        t2 = time.perf_counter()
        rec = {"round": r, "n_labeled": n, "steps": steps, "train_s": t1 - t0, "eval_s": t2 - t1,
               "score_s": 0.0, "select_s": 0.0, "accuracy": acc}
        if r < a.rounds:
            with torch.no_grad():
                w1, b1, w2, b2 = params
                h = F.relu(F.linear(X, w1, b1))                 # the first layer, once
                if use_mc:
                    mc = torch.stack([F.softmax(F.linear(F.dropout(h, a.dropout, training=True), w2, b2), dim=1)
                                      for _ in range(a.mc)]).double()
                    sc = scores_of(a.strategy, mc=mc)
                else:
                    sc = scores_of(a.strategy, probs=F.softmax(F.linear(h, w2, b2), dim=1).double())
                sync()
                t3 = time.perf_counter()
                sc[torch.from_numpy(labeled).to(dev)] = -math.inf
                picked = sc.topk(a.batch).indices.cpu().numpy()
                t4 = time.perf_counter()
            labeled[picked] = True
            order.extend(picked.tolist())
            rec["score_s"], rec["select_s"] = t3 - t2, t4 - t3
        for k in totals:
            totals[k] += rec[k]
        print(json.dumps(rec), flush=True)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(json.dumps({"summary": True, "torch": torch.__version__, "device": name,
                      "threads": torch.get_num_threads(), "strategy": a.strategy, "rounds": a.rounds,
                      "mc": a.mc, "pool": N, **totals}),
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
