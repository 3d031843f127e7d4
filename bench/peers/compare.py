#!/usr/bin/env python3
"""compare — alsim against its Python peers, per phase of an AL round, for bench/run.sh.

  compare.py --alsim RUN_DIR --peer NAME=FILE.jsonl [--peer ...] --rounds A-B [--kv FILE]

Reads alsim's per-round seconds (RUN_DIR/timings.csv: train, score, select, eval; the labeled
-set sizes from curve.csv) and each peer's JSON lines (bench/peers/torch_al.py,
sklearn_al.py), keeps rounds A..B of both (the same labeled-set sizes, so the same work:
rounds with a scoring pass, round 0's warm-up left out), checks the sizes match, and prints a
markdown table: the median seconds per round of each phase (train, score, select, eval, and
the whole round = their sum, median over rounds), and per peer the ratio alsim/peer (time:
below 1 means alsim is faster) with the speed-up peer/alsim. With --kv it appends
`TAGspeedup_NAME_PHASE X` lines for run.sh's targets table.
"""
import argparse
import csv
import json
import os
import statistics
import sys

PHASES = ("train", "score", "select", "eval")


def alsim_rounds(run):
    with open(os.path.join(run, "timings.csv")) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(run, "curve.csv")) as f:
        sizes = {int(r["round"]): int(r["n_labeled"]) for r in csv.DictReader(f)}
    out = {}
    for r in rows:
        k = int(r["round"])
        out[k] = {p: float(r[p + "_s"]) for p in PHASES}
        out[k]["n"] = sizes[k]
    return out


def peer_rounds(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if rec.get("summary"):
                continue
            out[rec["round"]] = {p: float(rec[p + "_s"]) for p in PHASES}
            out[rec["round"]]["n"] = rec["n_labeled"]
    return out


def medians(rounds, keep):
    m = {p: statistics.median(rounds[r][p] for r in keep) for p in PHASES}
    m["round"] = statistics.median(sum(rounds[r][p] for p in PHASES) for r in keep)
    return m


def fmt_s(x):
    return f"{x:.4f}" if x < 1 else f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alsim", required=True)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--rounds", required=True, help="A-B, inclusive")
    ap.add_argument("--kv")
    ap.add_argument("--tag", default="", help="prefix of the --kv names")
    a = ap.parse_args()
    lo, hi = (int(v) for v in a.rounds.split("-"))
    keep = list(range(lo, hi + 1))
    al = alsim_rounds(a.alsim)
    peers = []
    for spec in a.peer:
        name, path = spec.split("=", 1)
        try:
            pr = peer_rounds(path)
        except (OSError, ValueError) as e:
            print(f"compare: {name}: {e}", file=sys.stderr)
            continue
        missing = [r for r in keep if r not in pr or r not in al]
        if missing:
            print(f"compare: {name}: rounds {missing} missing", file=sys.stderr)
            continue
        bad = [r for r in keep if pr[r]["n"] != al[r]["n"]]
        if bad:
            print(f"compare: {name}: labeled-set sizes differ from alsim's in rounds {bad}",
                  file=sys.stderr)
            continue
        peers.append((name, medians(pr, keep)))
    am = medians(al, keep)
    head = "| phase (median s per round, rounds %d–%d, labeled %d–%d) | alsim |" % (
        lo, hi, al[lo]["n"], al[hi]["n"])
    sep = "|---|---|"
    for name, _ in peers:
        head += f" {name} | alsim/{name} (speed-up) |"
        sep += "---|---|"
    print(head)
    print(sep)
    for p in PHASES + ("round",):
        label = "**whole round**" if p == "round" else p
        line = f"| {label} | {fmt_s(am[p])} |"
        for name, pm in peers:
            if pm[p] > 0 and am[p] > 0:
                ratio = am[p] / pm[p]
                line += f" {fmt_s(pm[p])} | {ratio:.3f} ({1 / ratio:.1f}×) |"
            else:
                line += f" {fmt_s(pm[p])} | – |"
        print(line)
    if a.kv:
        with open(a.kv, "a") as f:
            for name, pm in peers:
                for p in PHASES + ("round",):
                    if am[p] > 0:
                        f.write(f"{a.tag}speedup_{name}_{p} {pm[p] / am[p]:.4f}\n")
                f.write(f"{a.tag}round_s_{name} {pm['round']:.5f}\n")
            f.write(f"{a.tag}round_s_alsim {am['round']:.5f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
