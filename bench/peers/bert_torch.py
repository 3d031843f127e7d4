#!/usr/bin/env python3
"""bert_torch — the PyTorch peer of bench_bert (bench/bert.sh): the same BERT encoder forward
on the same model folder and token ids, in plain PyTorch (tests/fixtures/hf_bert.py's
`encoder`, the implementation alsim's encoder is checked against), float32, under
torch.inference_mode(), on --threads intra-op threads.

  bert_torch.py --model DIR --ids FILE [--batch 32] [--tokens 128] [--reps 5] [--threads 2] [--device cuda]

FILE: the (batch · tokens) ids as little-endian int32 (bench_bert --ids wrote them); token
types 0, mask all 1. Prints one JSON object: the median seconds of --reps forwards after one
warm-up, tokens/s, the threads and the torch version."""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
from hf_bert import encoder, read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (each forward waits for the GPU)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    w = read_safetensors(os.path.join(a.model, "model.safetensors"))
    w = {(k[5:] if k.startswith("bert.") else k): v.to(a.device) for k, v in w.items()}
    with open(a.ids, "rb") as f:
        raw = bytearray(f.read())
    ids = torch.frombuffer(raw, dtype=torch.int32).to(torch.int64).reshape(a.batch, a.tokens).to(a.device)
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    heads, eps = config["num_attention_heads"], config.get("layer_norm_eps", 1e-12)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False      # fp32 as alsim's cuBLAS calls
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        encoder(w, ids, types, mask, heads, eps)     # warm-up
        sync()
        for _ in range(a.reps):
            t0 = time.perf_counter()
            encoder(w, ids, types, mask, heads, eps)
            sync()
            times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    print(json.dumps({"forward_s": s, "tokens_per_s": a.batch * a.tokens / s, "reps": a.reps, "device": a.device,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
