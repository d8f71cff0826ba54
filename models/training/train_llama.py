"""Trains edged's default chat model: a small llama-architecture transformer on the King James Bible.

Writes a tokenizer (SentencePiece BPE, byte fallback) and float32 weights named and shaped as llama.cpp's
GGUF expects; `models/training/export-llama.ts` then turns them into a GGUF file.

Usage: /usr/bin/python3 models/training/train_llama.py OUT_DIR [--steps N]
"""
import argparse
import json
import math
import os
import random
import re
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F

import corpus

SEED = 1234
HP = dict(vocab=2048, ctx=512, dim=256, layers=4, heads=4, ffn=768, eps=1e-5, rope_base=10000.0)
CHAT_TOKENS = ["<|im_start|>", "<|im_end|>"]
SYSTEM_PROMPTS = ["You are a helpful assistant.", "Answer in the words of the King James Bible.", ""]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def chat_turn(role, content):
    return f"<|im_start|>{role}\n{content}<|im_end|>\n"


def documents(chapters, rng):
    """Plain chapters, and chat exchanges where the assistant answers a verse with the next one."""
    for _, verses in chapters:
        yield " ".join(verses)
        for i in range(0, len(verses) - 1, 4):
            system = rng.choice(SYSTEM_PROMPTS)
            doc = (chat_turn("system", system) if system else "") + chat_turn("user", verses[i]) + chat_turn("assistant", verses[i + 1])
            yield doc


def train_tokenizer(train_chapters, out_dir):
    text_path = os.path.join(out_dir, "tokenizer-corpus.txt")
    with open(text_path, "w") as f:
        for _, verses in train_chapters:
            f.write("\n".join(verses) + "\n")
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=os.path.join(out_dir, "tokenizer"), model_type="bpe",
        vocab_size=HP["vocab"], byte_fallback=True, user_defined_symbols=CHAT_TOKENS,
        normalization_rule_name="identity", remove_extra_whitespaces=False, split_digits=True,
        character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=2,
        minloglevel=2,
    )
    os.remove(text_path)
    return spm.SentencePieceProcessor(model_file=os.path.join(out_dir, "tokenizer.model"))


def vocabulary_json(sp):
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        tokens.append(piece)
        scores.append(float(sp.get_score(i)))
        if sp.is_unknown(i):
            types.append(2)
        elif sp.is_control(i) or piece in CHAT_TOKENS:
            types.append(3)
        elif sp.is_byte(i):
            types.append(6)
        else:
            types.append(1)
    return dict(model="llama", tokens=tokens, scores=scores, types=types, bos=sp.bos_id(), eos=sp.eos_id(),
                eot=sp.piece_to_id("<|im_end|>"), unk=sp.unk_id(), addBos=True, chatTemplate=CHAT_TEMPLATE)


SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in CHAT_TOKENS) + ")")


def encode_like_llama_cpp(sp, text):
    """llama.cpp splits text at special tokens and gives every text fragment its own leading-space prefix."""
    ids = []
    for fragment in SPECIAL_SPLIT.split(text):
        if fragment in CHAT_TOKENS:
            ids.append(sp.piece_to_id(fragment))
        elif fragment:
            ids.extend(sp.encode(fragment))
    return ids


def token_stream(sp, docs):
    ids = []
    for doc in docs:
        ids.append(sp.bos_id())
        ids.extend(encode_like_llama_cpp(sp, doc))
    return np.array(ids, dtype=np.int64)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(ctx, head_dim, base):
    inv = base ** (-torch.arange(0, head_dim, 2).float() / head_dim)
    angles = torch.arange(ctx).float()[:, None] * inv[None, :]
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    # llama.cpp's "normal" rope rotates adjacent pairs (x0, x1), (x2, x3), ...: no weight permutation needed at export.
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        d, f = HP["dim"], HP["ffn"]
        self.attn_norm, self.ffn_norm = RMSNorm(d, HP["eps"]), RMSNorm(d, HP["eps"])
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, f, bias=False), nn.Linear(d, f, bias=False)
        self.down = nn.Linear(f, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        h = HP["heads"]
        n = self.attn_norm(x)
        q, k, v = (m(n).view(b, t, h, d // h).transpose(1, 2) for m in (self.q, self.k, self.v))
        q, k = apply_rope(q, cos[:t], sin[:t]), apply_rope(k, cos[:t], sin[:t])
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // h) + mask[:t, :t]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(y)
        n = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(n)) * self.up(n))


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(HP["vocab"], HP["dim"])
        self.blocks = nn.ModuleList(Block() for _ in range(HP["layers"]))
        self.norm = RMSNorm(HP["dim"], HP["eps"])
        self.output = nn.Linear(HP["dim"], HP["vocab"], bias=False)
        cos, sin = rope_tables(HP["ctx"], HP["dim"] // HP["heads"], HP["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.full((HP["ctx"], HP["ctx"]), float("-inf")).triu(1), persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        return self.output(self.norm(x))

    def gguf_tensors(self):
        """(name, float32 array) in llama.cpp's names; a torch Linear [out, in] has ggml's [in, out] memory layout."""
        yield "token_embd.weight", self.embed.weight
        for i, b in enumerate(self.blocks):
            for name, t in (("attn_norm", b.attn_norm.weight), ("attn_q", b.q.weight), ("attn_k", b.k.weight),
                            ("attn_v", b.v.weight), ("attn_output", b.o.weight), ("ffn_norm", b.ffn_norm.weight),
                            ("ffn_gate", b.gate.weight), ("ffn_up", b.up.weight), ("ffn_down", b.down.weight)):
                yield f"blk.{i}.{name}.weight", t
        yield "output_norm.weight", self.norm.weight
        yield "output.weight", self.output.weight


@torch.no_grad()
def held_out_perplexity(model, ids):
    model.eval()
    ctx, nll, count = HP["ctx"], 0.0, 0
    for start in range(0, len(ids) - ctx - 1, ctx):
        chunk = torch.from_numpy(ids[start:start + ctx + 1])[None]
        logits = model(chunk[:, :-1])
        nll += F.cross_entropy(logits[0], chunk[0, 1:], reduction="sum").item()
        count += ctx
    model.train()
    return math.exp(nll / count)


@torch.no_grad()
def sample(model, sp, prompt, n=40):
    model.eval()
    ids = [sp.bos_id()] + sp.encode(prompt)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(n):
        logits = model(torch.tensor([ids[-HP["ctx"]:]]))[0, -1] / 0.7
        ids.append(int(torch.multinomial(logits.softmax(-1), 1, generator=g)))
    model.train()
    return sp.decode(ids[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)

    train_chapters, held_chapters = corpus.split()
    sp = train_tokenizer(train_chapters, args.out_dir)
    with open(os.path.join(args.out_dir, "vocabulary.json"), "w") as f:
        json.dump(vocabulary_json(sp), f)
    train_ids = token_stream(sp, documents(train_chapters, rng))
    held_ids = token_stream(sp, (corpus.chapter_text(c) for c in held_chapters))
    print(f"tokens: train {len(train_ids):,} held-out {len(held_ids):,}", flush=True)

    model = Llama()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params:,}", flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    warmup = max(1, args.steps // 20)
    gen = torch.Generator().manual_seed(SEED)
    t0, losses = time.time(), []
    for step in range(1, args.steps + 1):
        lr = args.lr * (step / warmup if step <= warmup else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (args.steps - warmup))))
        for group in opt.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, len(train_ids) - HP["ctx"] - 1, (args.batch,), generator=gen)
        batch = torch.stack([torch.from_numpy(train_ids[s:s + HP["ctx"] + 1]) for s in starts.tolist()])
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, HP["vocab"]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == args.steps:
            elapsed = time.time() - t0
            print(f"step {step}/{args.steps} loss {np.mean(losses[-50:]):.3f} lr {lr:.2e} "
                  f"{elapsed:.0f}s elapsed, eta {elapsed / step * (args.steps - step):.0f}s", flush=True)

    ppl = held_out_perplexity(model, held_ids)
    report = dict(seed=SEED, steps=args.steps, batch=args.batch, lr=args.lr, hyperparams=HP, parameters=n_params,
                  train_tokens=int(len(train_ids)), held_out_tokens=int(len(held_ids)),
                  final_train_loss=float(np.mean(losses[-50:])), held_out_perplexity=ppl,
                  seconds=round(time.time() - t0), threads=args.threads,
                  sample=sample(model, sp, "And God said"))
    print(json.dumps(report, indent=2), flush=True)
    with open(os.path.join(args.out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=2)

    index, offset = {}, 0
    with open(os.path.join(args.out_dir, "weights.bin"), "wb") as f:
        for name, t in model.gguf_tensors():
            data = t.detach().float().contiguous().numpy().astype("<f4")
            f.write(data.tobytes())
            index[name] = dict(offset=offset, count=int(data.size))
            offset += data.nbytes
    hp = dict(contextLength=HP["ctx"], embeddingLength=HP["dim"], blockCount=HP["layers"], feedForwardLength=HP["ffn"],
              headCount=HP["heads"], headCountKv=HP["heads"], rmsEpsilon=HP["eps"], ropeFreqBase=HP["rope_base"])
    with open(os.path.join(args.out_dir, "weights.json"), "w") as f:
        json.dump(dict(hyperparams=hp, tensors=index), f, indent=1)


if __name__ == "__main__":
    main()
