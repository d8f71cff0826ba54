"""Trains edged's sentence-embedding model and exports it to ONNX (fp32).

A 2-layer transformer encoder over hashed words (the same FNV-1a word hashing as src/engines/onnx/wordHash.ts),
mean-pooled and L2-normalized, trained contrastively: a verse and the verse after it are a positive pair, the
other verses of the batch are negatives. The held-out chapters give the pairing test.

Usage: /usr/bin/python3 models/training/train_embedder.py OUT_DIR [--steps N]
"""
import argparse
import json
import math
import os
import random
import re
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import corpus

SEED = 1234
HP = dict(buckets=8192, max_len=64, dim=256, layers=2, heads=4, ffn=512, out=256)
PAD = 0
WORD = re.compile(r"[a-z0-9']+")


def fnv1a(word):
    h = 0x811C9DC5
    for b in word.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def encode(text):
    ids = [1 + fnv1a(w) % (HP["buckets"] - 1) for w in WORD.findall(text.lower())][: HP["max_len"]]
    return ids or [1 + fnv1a("") % (HP["buckets"] - 1)]


def batch_tensors(texts):
    rows = [encode(t) for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.int64)
    mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        d = HP["dim"]
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ff1, self.ff2 = nn.Linear(d, HP["ffn"]), nn.Linear(HP["ffn"], d)

    def forward(self, x, bias):
        b, t, d = x.shape
        h = HP["heads"]
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h)) + bias
        y = torch.matmul(att.softmax(-1), v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.ff2(F.gelu(self.ff1(self.norm2(x))))


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(HP["buckets"], HP["dim"], padding_idx=PAD)
        self.positions = nn.Embedding(HP["max_len"], HP["dim"])
        self.layers = nn.ModuleList(Layer() for _ in range(HP["layers"]))
        self.norm = nn.LayerNorm(HP["dim"])
        self.head = nn.Linear(HP["dim"], HP["out"])

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        x = self.tokens(input_ids) + self.positions(torch.arange(t))[None]
        m = attention_mask.to(torch.float32)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.norm(x)
        pooled = (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return F.normalize(self.head(pooled), dim=-1)


def pairs(chapters):
    return [(v[i], v[i + 1]) for _, v in chapters for i in range(len(v) - 1)]


@torch.no_grad()
def pairing_accuracy(model, held_pairs, pool=100):
    """Top-1: how often a verse's nearest neighbour among `pool` candidate next-verses is its own; random = 1/pool."""
    model.eval()
    hits, total = 0, 0
    for start in range(0, len(held_pairs) - pool + 1, pool):
        chunk = held_pairs[start:start + pool]
        a = model(*batch_tensors([p[0] for p in chunk]))
        b = model(*batch_tensors([p[1] for p in chunk]))
        hits += int((a @ b.T).argmax(1).eq(torch.arange(len(chunk))).sum())
        total += len(chunk)
    model.train()
    return hits / total, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)
    train_chapters, held_chapters = corpus.split()
    train_pairs, held_pairs = pairs(train_chapters), pairs(held_chapters)
    rng.shuffle(held_pairs)
    print(f"pairs: train {len(train_pairs):,} held-out {len(held_pairs):,}", flush=True)

    model = Embedder()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scale = 20.0  # inverse temperature of the contrastive softmax
    t0, losses = time.time(), []
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        chunk = rng.sample(train_pairs, args.batch)
        a = model(*batch_tensors([p[0] for p in chunk]))
        b = model(*batch_tensors([p[1] for p in chunk]))
        logits = scale * a @ b.T
        target = torch.arange(len(chunk))
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == args.steps:
            el = time.time() - t0
            print(f"step {step}/{args.steps} loss {np.mean(losses[-50:]):.3f} {el:.0f}s elapsed, eta {el / step * (args.steps - step):.0f}s", flush=True)

    acc, n = pairing_accuracy(model, held_pairs)
    report = dict(seed=SEED, steps=args.steps, batch=args.batch, lr=args.lr, hyperparams=HP,
                  parameters=sum(p.numel() for p in model.parameters()), final_train_loss=float(np.mean(losses[-50:])),
                  held_out_pairing_top1=acc, held_out_pairs=n, random_baseline=1 / 100, seconds=round(time.time() - t0))
    print(json.dumps(report, indent=2), flush=True)
    with open(os.path.join(args.out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=2)

    model.eval()
    ids, mask = batch_tensors(["In the beginning God created the heaven and the earth.", "Jesus wept."])
    torch.onnx.export(model, (ids, mask), os.path.join(args.out_dir, "embedder-fp32.onnx"),
                      input_names=["input_ids", "attention_mask"], output_names=["embeddings"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                    "embeddings": {0: "batch"}}, opset_version=17, do_constant_folding=True)
    with open(os.path.join(args.out_dir, "held-out-pairs.json"), "w") as f:
        json.dump(held_pairs[:n], f)


if __name__ == "__main__":
    main()
