"""torch_batchbald — BatchBALD's greedy selection in plain PyTorch, for bench/batch.sh.

The algorithm of the paper's released code (BlackHC/batchbald_redux: get_batchbald_batch with
DynamicJointEntropy), written as its users run it: probabilities (N, T, K) in double, the
conditional entropies once, then b greedy steps; the joint entropy of the picked rows with each
candidate exact (a (K^i, T) matrix of joint probabilities, one (K^i, T) x (T, K) matmul per
candidate, in chunks of 1024 candidates) while K^i <= M, else estimated from M configurations
drawn afresh each step, M // T under each sample (torch.multinomial), importance-weighted by
1 / Q. M = 10,000, alsim's BATCHBALD_CONFIGS. The inputs: the MC samples bench_batch wrote
(int32 magic, T, n, K, then (T, n, K) float32). Prints one JSON line: the median seconds of the
selection (the conversion to double before the clock), the picks, and how many of the first
picks (the exact steps) equal alsim's. Not a test.
"""
import argparse
import json
import math
import time

import numpy as np
import torch

MAGIC = 0x4D43424C


def read_mc(path):
    """(T, n, K) float32 as bench_batch wrote it."""
    head = np.fromfile(path, dtype="<i4", count=4)
    if head[0] != MAGIC:
        raise SystemExit(f"{path}: not a bench_batch MC file")
    t, n, k = (int(x) for x in head[1:])
    return np.fromfile(path, dtype="<f4", offset=16).reshape(t, n, k)


def conditional_entropy(probs_N_T_K):
    """E_w[H(y | w)] per row: (N,)."""
    T = probs_N_T_K.shape[1]
    return -torch.sum(torch.xlogy(probs_N_T_K, probs_N_T_K), dim=(1, 2)) / T


def exact_extend(joint_M_T, probs_T_K):
    """Every configuration extended by every label of one row: (M·K, T)."""
    T, K = probs_T_K.shape
    joint_T_M_K = joint_M_T.t()[:, :, None] * probs_T_K[:, None, :]
    return joint_T_M_K.reshape(T, -1).t().contiguous()


def sample_configs(probs_P_T_K, M):
    """M // T configurations of the P picked rows' labels under each sample w_t, drawn afresh:
    (M', T) joint probabilities P(config | w_t), M' = T·(M // T)."""
    P, T, K = probs_P_T_K.shape
    S = max(1, M // T)
    choices_P_T_S = torch.multinomial(probs_P_T_K.reshape(-1, K), S, replacement=True).reshape(P, T, S)
    # probs_P_T(w)_T(drawn under)_S: p_w(y_j drawn under w_t), for every w
    gathered = torch.gather(probs_P_T_K[:, :, None, :].expand(P, T, T, K), 3,
                            choices_P_T_S[:, None, :, :].expand(P, T, T, S))
    joint_T_T_S = torch.exp(torch.sum(torch.log(gathered), dim=0))
    return joint_T_T_S.reshape(T, -1).t().contiguous()


def joint_entropies(joint_M_T, probs_N_T_K, sampled, out_N, chunk=1024):
    """H(picked, y_x) for every row x, exact or importance-sampled."""
    N, T, K = probs_N_T_K.shape
    M = joint_M_T.shape[0]
    q_1_M_1 = joint_M_T.mean(dim=1, keepdim=True)[None] if sampled else None
    for start in range(0, N, chunk):
        end = min(N, start + chunk)
        b = end - start
        p_b_M_K = torch.empty((b, M, K), dtype=joint_M_T.dtype)
        for i in range(b):
            torch.matmul(joint_M_T, probs_N_T_K[start + i], out=p_b_M_K[i])
        p_b_M_K /= T
        nats = -torch.log(p_b_M_K) * p_b_M_K
        if sampled:
            out_N[start:end] = torch.sum(nats / q_1_M_1, dim=(1, 2)) / M
        else:
            out_N[start:end] = torch.sum(nats, dim=(1, 2))


def batchbald(probs_N_T_K, b, M):
    """The greedy batch: b row indices."""
    N, T, K = probs_N_T_K.shape
    cond_N = conditional_entropy(probs_N_T_K)
    joint_M_T = torch.ones((1, T), dtype=torch.double)
    sampled = False
    picks = []
    scores_N = torch.empty(N, dtype=torch.double)
    for i in range(min(b, N)):
        if i > 0:
            if K ** i > M:
                joint_M_T = sample_configs(probs_N_T_K[picks], M)
                sampled = True
            else:
                joint_M_T = exact_extend(joint_M_T, probs_N_T_K[picks[-1]])
        joint_entropies(joint_M_T, probs_N_T_K, sampled, scores_N)
        scores_N -= cond_N + cond_N[picks].sum()
        scores_N[picks] = -math.inf
        picks.append(int(scores_N.argmax()))
    return picks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mc", help="bench_batch's batch_mc.bin")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--configs", type=int, default=10000, help="M: configurations beyond which it samples")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--picks", help="alsim's picks (bench_batch's batch_picks.txt), to compare")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    mc = read_mc(a.mc)
    probs = torch.from_numpy(np.ascontiguousarray(mc.transpose(1, 0, 2))).double()   # (N, T, K)
    secs = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        picks = batchbald(probs, a.batch, a.configs)
        secs.append(time.perf_counter() - t0)
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "n": probs.shape[0],
           "T": probs.shape[1], "K": probs.shape[2], "b": a.batch, "reps": a.reps,
           "median_s": float(np.median(secs)), "picks": picks}
    if a.picks:
        with open(a.picks) as f:
            theirs = [int(x) for x in f.read().split()]
        exact = 0
        while exact < len(picks) and a.configs >= probs.shape[2] ** exact:
            exact += 1      # picks 0..exact-1 come from exact joint entropies
        res["exact_picks"] = exact
        res["same_exact_picks"] = sum(1 for x, y in zip(picks[:exact], theirs[:exact]) if x == y)
        res["same_picks"] = len(set(picks) & set(theirs))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
