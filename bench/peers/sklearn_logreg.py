#!/usr/bin/env python3
"""sklearn_logreg — the scikit-learn peer of `alsim --model logreg --standardize`, for
bench/logreg_vs_sklearn.sh (learning curves) and bench/run.sh (fit time). Three commands:

  export NAME DIR [--test-frac 0.3] [--split-seed 0] [--rows N]
      A set as NumPy files DIR/pool_x.npy, pool_y.npy, test_x.npy, test_y.npy (features
      float32, as alsim holds them; labels 0..K-1), so alsim (`--dataset
      npy:DIR/pool_x.npy,DIR/pool_y.npy --test npy:DIR/test_x.npy,DIR/test_y.npy`) and this peer
      see the same numbers. NAME: a set bundled with scikit-learn (breast_cancer, wine, digits,
      iris), split stratified; or mnist: the first N rows (--rows) of MNIST's training and test
      files from alsim's cache (bench/peers/peer.py), pixels / 255.

  al --data DIR [--init 20 --batch 10 --rounds 20 --seed 0 --seeds 10 --C 1 --tol 1e-4
                        --max-iter 1000]
      The protocol of `alsim --model logreg --standardize --strategy random` written the way a
      scikit-learn user would: StandardScaler fitted on the pool (never the test set) and
      applied to both; a class-balanced random initial set (init / K rows of each class, the
      remainder to the first classes, as alsim's oracle); every round LogisticRegression(C,
      tol, max_iter) fitted from scratch on the labeled rows, test accuracy, then `batch`
      unlabeled rows drawn uniformly at random; rounds + 1 points. The AULC of a seed is
      alsim's (sim/metrics.c metrics_aulc): the trapezoid area under accuracy against labeled
      rows divided by the range of labeled rows. Not alsim's draws (NumPy's generator), the
      same protocol. Prints one JSON object per seed and a summary object.

  fit --data DIR [--C 1 --tol 1e-4 --max-iter 1000 --reps 3]
      Standardizes as above and times LogisticRegression.fit on the whole pool (the median of
      reps fits), as `alsim --full-data --model logreg --standardize` fits once. Prints a JSON
      object: rows, features, classes, fit seconds, iterations, test accuracy.

Needs Debian's python3-sklearn (scikit-learn, NumPy, SciPy); OPENBLAS_NUM_THREADS sets the
BLAS threads.
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np


def read_set(d):
    """(x, y, x_test, y_test) of an exported folder: features in float64, labels int."""
    f = lambda name: np.load(os.path.join(d, name))
    return (f("pool_x.npy").astype(np.float64), f("pool_y.npy").astype(np.int64),
            f("test_x.npy").astype(np.float64), f("test_y.npy").astype(np.int64))


def standardized(pool, test):
    from sklearn.preprocessing import StandardScaler
    sc = StandardScaler().fit(pool)        # the pool's mean and sd; sd 0 kept as 1
    return sc.transform(pool), sc.transform(test)


def aulc(x, acc):
    """alsim's metrics_aulc: trapezoid area over the labeled-rows range, divided by it."""
    x, acc = np.asarray(x, float), np.asarray(acc, float)
    if len(x) == 1 or x[-1] == x[0]:
        return float(acc[0])
    return float(np.sum(0.5 * (acc[1:] + acc[:-1]) * np.diff(x)) / (x[-1] - x[0]))


def initial_set(y, k, n_init, rng):
    """alsim's class-balanced initial set, drawn with NumPy: a random order of the pool,
    walked taking a row while its class has room (n_init / k each, the remainder to the
    first classes), then any class."""
    order = rng.permutation(len(y))
    want = [n_init // k + (c < n_init % k) for c in range(k)]
    rows = []
    for r in order:
        if len(rows) == n_init:
            break
        if want[y[r]] > 0:
            want[y[r]] -= 1
            rows.append(r)
    for r in order:
        if len(rows) == n_init:
            break
        if r not in rows:
            rows.append(r)
    return np.array(sorted(rows))


def cmd_export(a):
    if a.name == "mnist":
        from peer import default_folder, load_mnist
        x, y, xt, yt = load_mnist(default_folder())
        x, y, xt, yt = x[:a.rows], y[:a.rows], xt[:a.rows], yt[:a.rows]
    else:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split
        loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
                   "digits": datasets.load_digits, "iris": datasets.load_iris}
        if a.name not in loaders:
            sys.exit(f"sklearn_logreg: unknown set {a.name} (mnist, {', '.join(loaders)})")
        d = loaders[a.name]()
        x, xt, y, yt = train_test_split(d.data, d.target, test_size=a.test_frac,
                                        random_state=a.split_seed, stratify=d.target)
    os.makedirs(a.dir, exist_ok=True)
    for name, v in (("pool_x", x), ("test_x", xt)):
        np.save(os.path.join(a.dir, name + ".npy"), np.ascontiguousarray(v, dtype=np.float32))
    for name, v in (("pool_y", y), ("test_y", yt)):
        np.save(os.path.join(a.dir, name + ".npy"), np.asarray(v, dtype=np.int32))
    print(json.dumps({"set": a.name, "pool": len(y), "test": len(yt), "features": x.shape[1],
                      "classes": int(len(np.unique(y)))}))


def model(a):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=a.C, tol=a.tol, max_iter=a.max_iter)


def cmd_al(a):
    x, y, xt, yt = read_set(a.data)
    x, xt = standardized(x, xt)
    classes = np.unique(np.concatenate([y, yt]))
    y = np.searchsorted(classes, y)
    yt = np.searchsorted(classes, yt)
    k = len(classes)
    warnings.simplefilter("ignore")         # ConvergenceWarning: counted, not printed
    values = []
    for s in range(a.seed, a.seed + a.seeds):
        rng = np.random.default_rng(s)
        labeled = np.zeros(len(y), bool)
        labeled[initial_set(y, k, a.init, rng)] = True
        xs, accs, capped = [], [], 0
        for r in range(a.rounds + 1):
            m = model(a).fit(x[labeled], y[labeled])
            capped += int(m.n_iter_[0] >= a.max_iter)
            xs.append(int(labeled.sum()))
            accs.append(float((m.predict(xt) == yt).mean()))
            if r < a.rounds:
                pick = rng.choice(np.flatnonzero(~labeled), size=a.batch, replace=False)
                labeled[pick] = True
        values.append(aulc(xs, accs))
        print(json.dumps({"seed": s, "aulc": values[-1], "final_accuracy": accs[-1],
                          "final_labeled": xs[-1], "fits_at_max_iter": capped}))
    print(json.dumps({"seeds": a.seeds, "aulc_mean": float(np.mean(values)),
                      "aulc_sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}))


def cmd_fit(a):
    x, y, xt, yt = read_set(a.data)
    x, xt = standardized(x, xt)
    warnings.simplefilter("ignore")
    times, m = [], None
    for _ in range(a.reps):
        t0 = time.perf_counter()
        m = model(a).fit(x, y)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"rows": x.shape[0], "features": x.shape[1], "classes": int(len(np.unique(y))),
                      "fit_s": float(np.median(times)), "n_iter": int(m.n_iter_[0]),
                      "accuracy": float((m.predict(xt) == yt).mean())}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("name")
    e.add_argument("dir")
    e.add_argument("--test-frac", type=float, default=0.3)
    e.add_argument("--split-seed", type=int, default=0)
    e.add_argument("--rows", type=int, default=2000, help="mnist: rows of each file")
    for name in ("al", "fit"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="a folder written by export")
        p.add_argument("--C", type=float, default=1.0)
        p.add_argument("--tol", type=float, default=1e-4)
        p.add_argument("--max-iter", type=int, default=1000)
        if name == "al":
            p.add_argument("--init", type=int, default=20)
            p.add_argument("--batch", type=int, default=10)
            p.add_argument("--rounds", type=int, default=20)
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--seeds", type=int, default=10)
        else:
            p.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    {"export": cmd_export, "al": cmd_al, "fit": cmd_fit}[a.cmd](a)


if __name__ == "__main__":
    main()
