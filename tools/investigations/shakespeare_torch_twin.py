"""nanoGPT's CPU recipe on Tiny Shakespeare, in minigen and in a PyTorch twin, timed side by side.

The anchor (nanoGPT's README): 4 layers, 4 heads, width 128, context 64, batch 12, 2,000 steps,
no dropout, "about 3 minutes ... a loss of 1.88". minigen runs it as ``story.NANOGPT_CPU``; the
twin is minigen's Transformer (models/text.py) layer for layer in PyTorch: token and position
embeddings, pre-LayerNorm blocks (a fused qkv Linear with bias, causal attention, a projection;
Linear 4C, GELU (tanh), Linear), a final LayerNorm, a Linear head with bias (no weight tying).
It starts from minigen's initial weights, reads the same batches (minigen's random windows,
``StoryModel.batches``), steps AdamW as minigen does (every parameter decayed, lr by
``optim.warmup_cosine``, global-norm clip 1.0), and is scored the same way: the NLL per
character of the whole test text in consecutive 64-character blocks.

Per seed, minigen trains, then the twin, in this one process with the same BLAS threads
(``--threads``), so that both see the same machine; the ratio of their training times is the
comparison (a benchmark, not a test: the load on a shared machine moves both; the CPU time
each took, also printed, moves less with it).

Usage: python -m tools.investigations.shakespeare_torch_twin --seeds 0 1 2 [--threads 1] [--steps N]
       python -m tools.investigations.shakespeare_torch_twin --check   (the twin's logits against minigen's)
    (needs PyTorch) One JSON line per seed.

Results: RESULTS.md, "Shakespeare and code (text corpora)".
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import minigen as mg
from minigen import optim
from minigen.bench.torch_steps import GPTBlock
from minigen.models import make
from minigen.models.loop import train as train_minigen
from minigen.models.story import NANOGPT_CPU


class TwinTransformer(tnn.Module):
    """minigen's Transformer, with its parameter names (its state_dict loads as it is)."""

    def __init__(self, vocab, block_size, c, layers, heads):
        super().__init__()
        self.tok, self.pos = tnn.Embedding(vocab, c), tnn.Embedding(block_size, c)
        self.blocks = tnn.Sequential(*[GPTBlock(c, heads) for _ in range(layers)])   # the benchmark's block
        self.ln_f, self.head = tnn.LayerNorm(c), tnn.Linear(c, vocab)

    def forward(self, tokens):                                         # (B, T) -> (B, T, V)
        x = self.tok(tokens) + self.pos.weight[:tokens.shape[1]]
        return self.head(self.ln_f(self.blocks(x)))


def twin_of(family):
    s = family.settings
    twin = TwinTransformer(len(family.vocab), s["block_size"], s["d_model"], s["n_layers"], s["n_heads"])
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in family.net.state_dict().items()})
    return twin


def twin_nll_per_character(twin, text_tokens, t):
    """The test text's NLL per character, in consecutive blocks of t (StoryModel.log_prob's reading)."""
    n = (len(text_tokens) - 1) // t * t                                # the whole blocks, then the rest
    whole, rest = torch.tensor(text_tokens[:n + 1]), torch.tensor(text_tokens[n:])
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 256 * t):                                 # 256 blocks at a time
            x = whole[i:i + 256 * t + 1]
            inputs, targets = x[:-1].reshape(-1, t), x[1:].reshape(-1, t)
            total += tF.cross_entropy(twin(inputs).reshape(-1, twin.head.out_features), targets.reshape(-1),
                                      reduction="sum").item()
        if len(rest) > 1:
            total += tF.cross_entropy(twin(rest[None, :-1])[0], rest[1:], reduction="sum").item()
    return total / (len(text_tokens) - 1)


def train_twin(family, twin):
    """The twin trained on the family's batches with its optimizer settings; returns the seconds
    of wall time and of this process's CPU time it took."""
    s, cfg = family.settings, family.config
    opt = torch.optim.AdamW(twin.parameters(), lr=cfg.lr, betas=tuple(s["betas"]), eps=1e-8,
                            weight_decay=s["weight_decay"])
    batches = family.batches()
    start, cpu = time.perf_counter(), time.process_time()
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = optim.warmup_cosine(step, cfg.lr, min(s["lr_warmup"], cfg.steps), cfg.steps, s["min_lr"])
        w = torch.from_numpy(next(batches))
        logits = twin(w[:, :-1])
        loss = tF.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), s["max_grad_norm"])
        opt.step()
    return time.perf_counter() - start, time.process_time() - cpu


def run(seed, steps, threads):
    """minigen, then the twin, from the same initial weights on the same batches."""
    settings = {**NANOGPT_CPU, **({"steps": steps} if steps else {})}
    family = make("autoregressive", "shakespeare", model="transformer", seed=seed, eval_samples=0, **settings)
    twin = twin_of(family)
    cpu = time.process_time()
    _, mg_seconds = train_minigen(family, quiet=True)
    mg_cpu = time.process_time() - cpu
    test = family.test_data.text
    mg_nll = float(-family.log_prob(test).sum() / (len(test[0]) - 1))
    twin_seconds, twin_cpu = train_twin(family, twin)
    twin.eval()
    twin_nll = twin_nll_per_character(twin, family.encode(test[0], "test"), family.block_size)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    return {"seed": seed, "steps": family.config.steps, "threads": threads,
            "minigen_nll": round(mg_nll, 4), "twin_nll": round(twin_nll, 4),
            "minigen_train_s": round(mg_seconds, 1), "twin_train_s": round(twin_seconds, 1),
            "ratio": round(mg_seconds / twin_seconds, 3), "minigen_cpu_s": round(mg_cpu, 1),
            "twin_cpu_s": round(twin_cpu, 1), "cpu_ratio": round(mg_cpu / twin_cpu, 3), "load_after": float(load)}


def check():
    """The twin with minigen's weights gives minigen's logits."""
    family = make("autoregressive", "shakespeare", model="transformer", seed=0, eval_samples=0, **NANOGPT_CPU)
    twin = twin_of(family)
    tokens = family.text[None, :64]
    family.net.eval()
    with mg.no_grad():
        ours = family.net(tokens).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(tokens)).numpy()
    print(json.dumps({"max_abs_difference": float(np.abs(ours - theirs).max())}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, help="default: the recipe's 2,000")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both (default 1)")
    parser.add_argument("--check", action="store_true", help="compare the twin's logits with minigen's")
    args = parser.parse_args(argv)
    mg.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    if args.check:
        return check()
    for seed in args.seeds:
        print(json.dumps({**run(seed, args.steps, args.threads), "cpus": os.cpu_count()}), flush=True)


if __name__ == "__main__":
    main()
