#!/usr/bin/python3
"""make_bench_bert — writes a randomly initialised BERT encoder in the Hugging Face layout
(config.json, model.safetensors, vocab.txt, tokenizer_config.json) of a benchmark's shape into
a folder, for bench/bert.sh: bench_bert (alsim) and bench/peers/bert_torch.py (PyTorch) both
load it. The weights are drawn as tests/fixtures/hf_bert.py's random_weights, matrices with
BERT's initializer range 0.02; vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK] then filler tokens.

  /usr/bin/python3 bench/make_bench_bert.py OUT [--shape minilm|base] [--seed 0]

Shapes: minilm (MiniLM-L6: hidden 384, 6 layers, 12 heads, intermediate 1536) and base
(BERT-base: 768, 12, 12, 3072), both with vocab 30522 and 512 positions. Needs torch."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from hf_bert import SPECIAL, random_weights, write_folder  # noqa: E402

SHAPES = {"minilm": (384, 6, 12, 1536), "base": (768, 12, 12, 3072)}   # hidden, layers, heads, intermediate
VOCAB, MAXPOS, TYPES, EPS = 30522, 512, 2, 1e-12


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="minilm")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    H, layers, heads, inter = SHAPES[a.shape]
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    vocab = SPECIAL + ["tok%d" % i for i in range(VOCAB - len(SPECIAL))]
    w = random_weights(VOCAB, H, layers, inter, MAXPOS, TYPES, 0.02)
    write_folder(a.out, w, vocab, layers, heads, inter, MAXPOS, TYPES, EPS)
    print("make_bench_bert: %s: %s, hidden %d, %d layers, %d heads, intermediate %d, vocab %d"
          % (a.out, a.shape, H, layers, heads, inter, VOCAB))


if __name__ == "__main__":
    main()
