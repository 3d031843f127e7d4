#!/usr/bin/env python3
"""sklearn_al — the scikit-learn / NumPy peer of an alsim softmax-regression run, for bench/run.sh:
the same active-learning loop written the way a Python user would, on the same CPU, timed per
round.

Same work as `alsim --hidden 0 --strategy S --rounds R --batch b --init n --epochs E`: MNIST
(pixels / 255, the IDX files of alsim's cache), softmax regression 784-10, retrained every
round from the same initial weights for epochs · ceil(n_labeled / m) optimizer steps of
m = min(64, n_labeled) rows; test accuracy every round; then the whole pool's predictive
probabilities, the strategy's score in float64 (entropy, margin or least-confidence), and the
top b of the unlabeled rows. Two trainers:

  --trainer numpy    (default) AdamW exactly as alsim's learner_fit: lr 1e-3, betas 0.9/0.999,
                     eps 1e-8, decoupled weight decay 1e-4 on every parameter, He-normal
                     weights and zero biases, minibatches drawn from successive shuffles
                     (the last one of an epoch completed from the next): the same steps and
                     rows seen, as vectorised NumPy (float32, the system BLAS);
  --trainer sklearn  sklearn.neural_network.MLPClassifier(hidden_layer_sizes=()): softmax
                     regression with sklearn's Adam (L2 alpha 1e-4, coupled, not AdamW),
                     batch_size m and max_iter = epochs (the same number of steps; its last
                     minibatch of an epoch is short), early stopping off, random_state fixed
                     (the same initial weights every round): what a scikit-learn user writes.

Not the same numbers as alsim (its own draws); the point is seconds per round at the same
labeled-set sizes. Prints one JSON object per round and a summary object, e.g.
  {"round": 3, "n_labeled": 50, "steps": 50, "train_s": ..., "eval_s": ..., "score_s": ...,
   "select_s": ..., "accuracy": ...}
Needs numpy (and scikit-learn for --trainer sklearn): Debian's python3-numpy, python3-sklearn.
OPENBLAS_NUM_THREADS (bench/run.sh: 2) sets NumPy's BLAS threads.
"""
import argparse
import json
import math
import sys
import time
import warnings

import numpy as np

from peer import add_loop_args, load_mnist


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def scores_of(kind, probs):
    """Per-row scores in float64, higher = query first, probs (n,K)."""
    p = probs.astype(np.float64)
    if kind == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    if kind == "least-confidence":
        return 1.0 - p.max(axis=1)
    if kind == "margin":
        top2 = np.partition(p, -2, axis=1)[:, -2:]
        return -(top2[:, 1] - top2[:, 0])
    raise SystemExit(f"sklearn_al: unknown strategy {kind} (entropy, margin, least-confidence)")


class NumpyAdamW:
    """Softmax regression trained exactly as alsim's learner_fit (no hidden layer)."""

    def __init__(self, d, k, seed, a):
        rng = np.random.default_rng(seed)
        self.w0 = (rng.standard_normal((k, d)) * math.sqrt(2.0 / d)).astype(np.float32)
        self.b0 = np.zeros(k, dtype=np.float32)
        self.a, self.k = a, k
        self.rng = rng

    def fit(self, x, y, steps):
        a, k = self.a, self.k
        w, b = self.w0.copy(), self.b0.copy()
        mw, vw = np.zeros_like(w), np.zeros_like(w)
        mb, vb = np.zeros_like(b), np.zeros_like(b)
        n = len(x)
        m = min(a.minibatch, n)
        order, pos = self.rng.permutation(n), 0
        lr, b1, b2, eps, wd = np.float32(1e-3), np.float32(0.9), np.float32(0.999), np.float32(1e-8), np.float32(1e-4)
        eye = np.eye(k, dtype=np.float32)
        for t in range(1, steps + 1):
            if pos + m <= n:
                idx = order[pos:pos + m]
                pos += m
            else:       # complete the minibatch from the next shuffle
                rest = order[pos:]
                order = self.rng.permutation(n)
                pos = m - len(rest)
                idx = np.concatenate([rest, order[:pos]])
            xb = x[idx]
            p = softmax(xb @ w.T + b)
            g = (p - eye[y[idx]]) / np.float32(m)
            gw, gb = g.T @ xb, g.sum(axis=0)
            c1, c2 = np.float32(1 - 0.9 ** t), np.float32(1 - 0.999 ** t)
            for prm, grd, mm, vv in ((w, gw, mw, vw), (b, gb, mb, vb)):
                mm *= b1
                mm += (1 - b1) * grd
                vv *= b2
                vv += (1 - b2) * grd * grd
                prm -= lr * ((mm / c1) / (np.sqrt(vv / c2) + eps) + wd * prm)
        self.w, self.b = w, b

    def predict_proba(self, x):
        return softmax(x @ self.w.T + self.b)


class SklearnMLP:
    """sklearn's MLPClassifier without hidden layers: what a scikit-learn user writes."""

    def __init__(self, d, k, seed, a):
        self.seed, self.a = seed, a

    def fit(self, x, y, steps):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        a = self.a
        self.clf = MLPClassifier(hidden_layer_sizes=(), solver="adam", alpha=1e-4,
                                 batch_size=min(a.minibatch, len(x)), learning_rate_init=1e-3,
                                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, max_iter=a.epochs,
                                 shuffle=True, random_state=self.seed, tol=0.0,
                                 n_iter_no_change=a.epochs + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.clf.fit(x, y)

    def predict_proba(self, x):
        return self.clf.predict_proba(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_loop_args(ap, "entropy")
    ap.add_argument("--trainer", choices=("numpy", "sklearn"), default="numpy")
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    x, y, xt, yt = load_mnist(a.data)
    N, D, K = len(x), x.shape[1], 10
    per = a.init // K       # the initial set: class-balanced
    init = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in range(K)])
    labeled = np.zeros(N, dtype=bool)
    labeled[init] = True
    order = list(init)
    model = (NumpyAdamW if a.trainer == "numpy" else SklearnMLP)(D, K, a.seed, a)

    totals = {"train_s": 0.0, "eval_s": 0.0, "score_s": 0.0, "select_s": 0.0}
    for r in range(a.rounds + 1):
        t0 = time.perf_counter()
        n = len(order)
        steps = a.epochs * math.ceil(n / a.minibatch)
        rows = np.asarray(order)
        model.fit(x[rows], y[rows], steps)
        t1 = time.perf_counter()
        acc = float((model.predict_proba(xt).argmax(axis=1) == yt).mean())
        t2 = time.perf_counter()
        rec = {"round": r, "n_labeled": n, "steps": steps, "train_s": t1 - t0, "eval_s": t2 - t1,
               "score_s": 0.0, "select_s": 0.0, "accuracy": acc}
        if r < a.rounds:
            sc = scores_of(a.strategy, model.predict_proba(x))
            t3 = time.perf_counter()
            sc[labeled] = -np.inf
            top = np.argpartition(-sc, a.batch)[:a.batch]
            picked = top[np.argsort(-sc[top], kind="stable")]
            t4 = time.perf_counter()
            labeled[picked] = True
            order.extend(picked.tolist())
            rec["score_s"], rec["select_s"] = t3 - t2, t4 - t3
        for k in totals:
            totals[k] += rec[k]
        print(json.dumps(rec), flush=True)
    info = {"summary": True, "numpy": np.__version__, "trainer": a.trainer,
            "strategy": a.strategy, "rounds": a.rounds, "pool": N, **totals}
    if a.trainer == "sklearn":
        import sklearn
        info["sklearn"] = sklearn.__version__
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    sys.exit(main())
