"""A PyTorch twin of minigen's chorales AR-CNN (minigen/models/music.py): same data, recipe, evaluation.

Does minigen's default reach what the same model reaches in PyTorch? The twin, layer for layer:
    one embedding table per voice (4 x 55 rows, 16 wide); a causal convolution over time written
    as a linear layer over k = 3 shifted copies (dilation d, zeros before the start), first on the
    chords shifted one step, then 8 residual blocks h + dropout(conv_d(relu h)), d = 1 2 4 8 1 2 4 8;
    the given voices (flags and their embeddings, their own table) through centred convolutions
    (d = 1 2 4 8, residual) added to h; a masked linear layer within the step (voice v sees h_t and
    the voices u < v of step t), relu, dropout, a block-diagonal masked linear layer to 4 x 55 logits.
    Training: windows of 32 steps every 8 steps of the training chorales; in each batch a window
    gives no voice with probability 0.5, the soprano 0.25, one of the 14 proper subsets 0.25; loss
    nats per written note; AdamW (lr 2e-3, betas (0.9, 0.999), weight decay 0.01), warm-up 50 steps
    then cosine to 0, global-norm clip 1.0, batch 32 shuffled each epoch, last partial batch dropped.
    Evaluation: the exact NLL per note of the 44 test chorales, whole (each chorale at its length).

Usage: python -m tools.investigations.music_torch_twin --seed 0 [--steps 800]   (one JSON line)
       python -m tools.investigations.music_torch_twin --check   (the twin's logits against minigen's)
    (needs PyTorch; OMP_NUM_THREADS=1 recommended: the script sets torch.set_num_threads(1))

Results: RESULTS.md, "Chorales".
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from minigen.data import music
from minigen.models import make

V = 4


class CausalConv(tnn.Module):
    def __init__(self, c_in, c_out, k, d=1, centred=False):
        super().__init__()
        self.k, self.d, self.centred = k, d, centred
        self.lin = tnn.Linear(k * c_in, c_out)

    def forward(self, h):                                          # (B, T, C)
        t, k, d = h.shape[1], self.k, self.d
        ahead = (k // 2) * d if self.centred else 0
        padded = tF.pad(h, (0, 0, (k - 1) * d - ahead, ahead))
        return self.lin(torch.cat([padded[:, j * d:j * d + t] for j in range(k)], dim=2))


class MaskedLinear(tnn.Linear):
    def __init__(self, c_in, c_out, mask):
        super().__init__(c_in, c_out)
        self.register_buffer("mask", torch.tensor(mask))

    def forward(self, x):
        return tF.linear(x, self.weight * self.mask, self.bias)


def chords(embed, tokens, vocab):
    b, _, t = tokens.shape
    return embed(tokens.transpose(1, 2) + torch.arange(V) * vocab).reshape(b, t, -1)


class Given(tnn.Module):
    def __init__(self, vocab, e, width, k):
        super().__init__()
        self.vocab = vocab
        self.embed = tnn.Embedding(V * vocab, e)
        self.convs = tnn.ModuleList([CausalConv(V * e + V, width, k, 1, True)] +
                                    [CausalConv(width, width, k, d, True) for d in (2, 4, 8)])

    def forward(self, tokens, given):
        b, _, t = tokens.shape
        x = chords(self.embed, tokens, self.vocab).reshape(b, t, V, -1) * given[:, None, :, None]
        c = self.convs[0](torch.cat([x.reshape(b, t, -1), given[:, None, :].expand(b, t, V)], dim=2))
        for conv in self.convs[1:]:
            c = c + conv(torch.relu(c))
        return c


class TwinARCNN(tnn.Module):
    def __init__(self, vocab, e, width, hidden, k, dropout, dilations=(1, 2, 4, 8, 1, 2, 4, 8)):
        super().__init__()
        from minigen.models.music import voice_mask
        self.vocab = vocab
        self.embed = tnn.Embedding(V * vocab, e)
        self.first = CausalConv(V * e, width, k)
        self.blocks = tnn.ModuleList([CausalConv(width, width, k, d) for d in dilations])
        self.condition = Given(vocab, e, width, k)
        self.drop = tnn.Dropout(dropout)
        self.within = MaskedLinear(width + V * e, V * hidden, voice_mask(width, e, hidden, True))
        self.out = MaskedLinear(V * hidden, V * vocab, voice_mask(0, hidden, vocab, False))

    def forward(self, tokens, given):                              # (B, 4, T), (B, 4) -> (B, 4, T, vocab)
        b, _, t = tokens.shape
        e = chords(self.embed, tokens, self.vocab)
        h = self.first(tF.pad(e, (0, 0, 1, 0))[:, :-1]) + self.condition(tokens, given)
        for conv in self.blocks:
            h = h + self.drop(conv(torch.relu(h)))
        z = torch.relu(self.within(torch.cat([torch.relu(h), e], dim=2)))
        return self.out(self.drop(z)).reshape(b, t, V, self.vocab).transpose(1, 2)


def nll(net, tokens, given):
    """-log p(written | given) per piece, and the number of written notes."""
    logits = net(tokens, given)
    each = tF.cross_entropy(logits.reshape(-1, net.vocab), tokens.reshape(-1), reduction="none")
    written = (1 - given)[:, :, None].expand(tokens.shape)
    return (each.reshape(tokens.shape) * written).sum(dim=(1, 2)), written.sum()


def flags(rng, n, share=0.5):
    subsets = (np.arange(1, 2 ** V - 1)[:, None] >> np.arange(V)) & 1
    draw = rng.random(n)
    out = np.where((draw < share / 2)[:, None], subsets[rng.integers(0, len(subsets), n)], 0)
    out[(draw >= share / 2) & (draw < share)] = (1, 0, 0, 0)
    return torch.tensor(out, dtype=torch.float32)


def test_nll_per_note(net, rolls):
    net.eval()
    total = count = 0.0
    with torch.no_grad():
        for length in sorted({r.shape[1] for r in rolls}):
            tokens = torch.tensor(music.to_tokens([r for r in rolls if r.shape[1] == length]))
            n, c = nll(net, tokens, torch.zeros(len(tokens), V))
            total, count = total + n.sum().item(), count + c.item()
    return total / count


def train(seed, steps):
    family = make("autoregressive", "chorales", model="arcnn", seed=seed, steps=steps)   # data and recipe
    s, cfg = family.settings, family.config
    windows = torch.tensor(family.arrays()[0])
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TwinARCNN(music.VOCAB, s["d_embed"], s["width"], s["hidden"], s["kernel"], s["dropout"])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, betas=tuple(s["betas"]), weight_decay=s["weight_decay"])
    start, order, k = time.time(), [], 0
    for step in range(cfg.steps):
        if k + cfg.batch_size > len(order):
            order, k = rng.permutation(len(windows)), 0
        batch = windows[order[k:k + cfg.batch_size]]
        k += cfg.batch_size
        warm = s["lr_warmup"]
        lr = cfg.lr * (step + 1) / warm if step < warm else \
            cfg.lr * (1 + math.cos(math.pi * (step - warm) / (cfg.steps - warm))) / 2
        for g in opt.param_groups:
            g["lr"] = lr
        net.train()
        total, count = nll(net, batch, flags(rng, len(batch), s["given_share"]))
        loss = total.sum() / count
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), s["max_grad_norm"])
        opt.step()
    seconds = time.time() - start
    return {"seed": seed, "steps": cfg.steps, "train_seconds": round(seconds, 1),
            "nll_per_note": test_nll_per_note(net, family.test_data.rolls)}


def check():
    """The twin with minigen's random weights gives minigen's logits."""
    import minigen as mg
    family = make("autoregressive", "chorales", model="arcnn", seed=0, dropout=0.0)
    s = family.settings
    twin = TwinARCNN(music.VOCAB, s["d_embed"], s["width"], s["hidden"], s["kernel"], 0.0)
    state = {k: torch.tensor(v.numpy()) for k, v in family.net.state_dict().items()}   # the same names
    missing = twin.load_state_dict(state, strict=False).missing_keys
    assert all(k.endswith("mask") for k in missing), missing
    tokens = music.to_tokens(family.test_data.rolls[0][None])
    given = np.array([[1.0, 0, 0, 0]], dtype=np.float32)
    family.net.eval()
    twin.eval()
    with mg.no_grad():
        ours = family.net(tokens, mg.tensor(given)).numpy()
    with torch.no_grad():
        theirs = twin(torch.tensor(tokens), torch.tensor(given)).numpy()
    print(json.dumps({"max_abs_difference": float(np.abs(ours - theirs).max())}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="default: the recipe's")
    parser.add_argument("--check", action="store_true", help="compare the twin's logits with minigen's")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.check:
        return check()
    print(json.dumps(train(args.seed, args.steps)))


if __name__ == "__main__":
    main()
