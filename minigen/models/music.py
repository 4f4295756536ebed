r"""Bach's chorales, one note at a time: an AR-CNN and a transformer (objectives/autoregressive.py).

A chorale is a roll (4, T) (data/music.py): soprano, alto, tenor, bass, one column per eighth
note, each entry a token (0 a rest, 1..54 a pitch). The order is time first, then the voices top
down, x = (S_1, A_1, T_1, B_1, S_2, ...), and the chain rule gives the likelihood exactly:

    p(x) = prod_t prod_v p(x_{t,v} | x_{<t}, x_{t,<v})          (the PixelCNN's raster order on a
                                                                 picture of T rows and 4 columns)

AR-CNN (the DeepComposer / Coconet idea with an exact order). The *past* is a stack of causal
dilated convolutions over time on the chords before t (the input shifted one step: mask A), so
h_t depends on x_{<t} alone. The *present* is a masked linear layer within the step (MADE's
mask): voice v's hidden units see h_t and the voices u < v of step t, then its own logits.

Conditioning on given voices (harmonise). A melody given whole does not fit a time-first order:
the alto at step 3 would need the soprano at step 9, which the order puts later. So the given
voices are a conditioning input: their notes at every step, with one flag per voice saying which
are given, go through a centred (two-sided) convolution stack whose output is added to h_t. The
model is then p(written | given) = prod over the written voice-steps, in the same order, exact:
the given notes are inputs, never scored. One network learns both uses: in training, half the
windows give no voice (p(x)), a quarter the soprano, a quarter a random proper subset. Continuing
(``--mask end``) needs nothing extra: the given bars come first in the order.

Transformer: the names transformer (text.py) on the voice-steps as tokens: a start token, then
S_1 A_1 T_1 B_1 S_2 ..., trained on windows of ``window`` steps. A chorale longer than a window
is scored window by window, each window shifted by half of one, so that every token but the
first window's is predicted from at least half a window of context: still a product of
normalised conditionals, an exact likelihood of the pieces of that length.
"""
import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data import music
from minigen.models.loop import Family
from minigen.models.text import SAMPLE_SEED, Transformer, refuse_the_other_kind
from minigen.objectives import autoregressive as A
from minigen.viz import music as viz_music

V = len(music.VOICES)                                     # 4 voices


class CausalConv(nn.Module):
    """A 1-D convolution over time as one linear layer over shifted copies, (B, T, C) -> (B, T, O):
    y_t = W [h_{t-(k-1)d}, ..., h_{t-d}, h_t] + b (dilation d; zeros before the start). ``centred``:
    y_t = W [h_{t-(k//2)d}, ..., h_{t+(k//2)d}] + b, both ways (only on the given voices)."""

    def __init__(self, c_in, c_out, kernel, dilation=1, centred=False):
        super().__init__()
        self.kernel, self.dilation, self.centred = kernel, dilation, centred
        self.lin = nn.Linear(kernel * c_in, c_out)

    def forward(self, h):
        t, k, d = h.shape[1], self.kernel, self.dilation
        ahead = (k // 2) * d if self.centred else 0
        padded = F.pad(h, ((0, 0), ((k - 1) * d - ahead, ahead), (0, 0)))          # (B, T + (k-1)d, C)
        return self.lin(mg.concat([padded[:, j * d:j * d + t] for j in range(k)], axis=2))   # (B, T, O)


class MaskedLinear(nn.Linear):
    """nn.Linear whose weight (O, I) is multiplied by a fixed 0/1 ``mask`` (O, I): output o sees
    input i only where mask[o, i] = 1 (the hidden weights get zero gradient)."""

    def __init__(self, c_in, c_out, mask):
        super().__init__(c_in, c_out)
        self.register_buffer("mask", mg.tensor(mask), persistent=False)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


def voice_mask(width, per_voice, hidden, strict):
    """The present layer's (and, ``strict`` False, the output's) mask: output block v (``hidden``
    units) sees the first ``width`` inputs (h_t) and input block u (``per_voice`` units) where
    u < v (strict) or u == v (not strict: the block-diagonal map from voice v's units to its logits)."""
    mask = backend.host.zeros((V * hidden, width + V * per_voice), dtype="float32")
    for v in range(V):
        rows = slice(v * hidden, (v + 1) * hidden)
        mask[rows, :width] = 1
        for u in range(V):
            if (u < v) if strict else (u == v):
                mask[rows, width + u * per_voice:width + (u + 1) * per_voice] = 1
    return mask


def chords(embed, tokens, vocab):
    """Each step's four notes, looked up in ``embed`` (one table per voice: row v * vocab + token)
    and side by side: tokens (B, 4, T) -> (B, T, 4E)."""
    b, _, t = tokens.shape
    rows = tokens.transpose(0, 2, 1) + backend.array_module(tokens).arange(V) * vocab   # (B, T, 4)
    return embed(rows).reshape(b, t, -1)


class GivenVoices(nn.Module):
    """The conditioning input: the given voices' notes at every step, and one flag per voice
    saying which are given, through centred convolutions (dilations 1, 2, 4, 8: 31 steps wide):
    tokens (B, 4, T), given (B, 4) 0/1 floats -> (B, T, width). A voice not given is zeros."""

    def __init__(self, vocab, d_embed, width, kernel):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(V * vocab, d_embed)
        self.convs = [CausalConv(V * d_embed + V, width, kernel, 1, centred=True)] + \
                     [CausalConv(width, width, kernel, d, centred=True) for d in (2, 4, 8)]

    def forward(self, tokens, given):
        b, _, t = tokens.shape
        e = chords(self.embed, tokens, self.vocab).reshape(b, t, V, -1) * given.reshape(b, 1, V, 1)
        flags = given.reshape(b, 1, V) * mg.ones(b, t, 1, device=given.device, dtype=given.dtype)     # (B, T, 4)
        c = self.convs[0](mg.concat([e.reshape(b, t, -1), flags], axis=2))
        for conv in self.convs[1:]:
            c = c + conv(F.relu(c))
        return c


class ARCNN(nn.Module):
    """tokens (B, 4, T) and given (B, 4) 0/1 flags -> logits (B, 4, T, vocab); logits[:, v, t]
    depends on tokens[:, :, <t], tokens[:, <v, t] and the given voices at every step."""

    def __init__(self, vocab=music.VOCAB, d_embed=16, width=128, hidden=128, kernel=3,
                 dilations=(1, 2, 4, 8, 1, 2, 4, 8), dropout=0.1):
        super().__init__()
        self.vocab, self.kernel, self.dilations = vocab, kernel, tuple(dilations)
        self.embed = nn.Embedding(V * vocab, d_embed)      # one table per voice: row v * vocab + token
        self.first = CausalConv(V * d_embed, width, kernel)
        self.blocks = [CausalConv(width, width, kernel, d) for d in self.dilations]
        self.condition = GivenVoices(vocab, d_embed, width, kernel)
        self.drop = nn.Dropout(dropout)
        self.within = MaskedLinear(width + V * d_embed, V * hidden, voice_mask(width, d_embed, hidden, True))
        self.out = MaskedLinear(V * hidden, V * vocab, voice_mask(0, hidden, vocab, False))

    @property
    def reach(self):
        """How many steps back h_t reaches: the chords t - reach .. t - 1."""
        return self.kernel + (self.kernel - 1) * sum(self.dilations)

    def context(self, tokens, cond):
        """h (B, T, width): h_t from the chords before t (and cond_t, from the given voices)."""
        e = chords(self.embed, tokens, self.vocab)
        h = self.first(F.pad(e, ((0, 0), (1, 0), (0, 0)))[:, :-1]) + cond          # step t sees chord t-1..
        for conv in self.blocks:
            h = h + self.drop(conv(F.relu(h)))
        return h

    def voices(self, h, tokens):
        """Each voice's logits (B, 4, T, vocab) from h (B, T, width) and the chords (the masks)."""
        b, _, t = tokens.shape
        z = F.relu(self.within(mg.concat([F.relu(h), chords(self.embed, tokens, self.vocab)], axis=2)))
        return self.out(self.drop(z)).reshape(b, t, V, self.vocab).transpose(0, 2, 1, 3)

    def forward(self, tokens, given):
        return self.voices(self.context(tokens, self.condition(tokens, given)), tokens)

    def past(self, tokens, cond, t):
        """h_t (B, 1, width), from the last ``reach`` steps only (exact: it sees no further back)."""
        s = max(0, t - self.reach)
        return self.context(tokens[:, :, s:t + 1], cond[:, s:t + 1])[:, -1:]

    def present(self, h, tokens, t):
        """Step t's logits (B, 4, vocab), voice v's from h_t and the voices u < v of step t."""
        return self.voices(h, tokens[:, :, t:t + 1])[:, :, 0]


class NoteTransformer(nn.Module):
    """The names transformer on voice-steps (the module's docstring), ARCNN's contract: tokens
    (B, 4, T), given (B, 4) -> logits (B, 4, T, vocab); the start token is ``vocab``."""

    def __init__(self, vocab=music.VOCAB, window=32, d_model=64, n_layers=3, n_heads=4, dropout=0.1,
                 d_embed=16, kernel=3):
        super().__init__()
        self.vocab, self.window = vocab, window
        self.gpt = Transformer(vocab + 1, V * window, d_model, n_layers, n_heads, dropout)
        self.condition = GivenVoices(vocab, d_embed, d_model, kernel)

    def run(self, tokens, cond, start):
        """Logits (B, 4, T', vocab) of the window of steps start .. start + T' - 1 (T' <= window) of
        tokens (B, 4, T): each input's embedding plus the conditioning of the step it predicts."""
        b, _, t = tokens.shape
        xp = backend.array_module(tokens)
        seq = tokens[:, :, start:start + self.window].transpose(0, 2, 1).reshape(b, -1)      # (B, 4T')
        before = tokens[:, V - 1, start - 1:start] if start else xp.full((b, 1), self.vocab)  # (B, 1)
        inputs = xp.concatenate([before, seq[:, :-1]], axis=1)                                 # (B, 4T')
        steps = seq.shape[1] // V
        here = cond[:, start:start + steps].reshape(b, steps, 1, -1) * mg.ones(1, 1, V, 1, dtype=cond.dtype,
                                                                              device=cond.device)
        logits = self.gpt.decode(self.gpt.embed(inputs) + here.reshape(b, V * steps, -1))    # (B, 4T', vocab+1)
        return logits[:, :, :self.vocab].reshape(b, steps, V, self.vocab).transpose(0, 2, 1, 3)

    def forward(self, tokens, given):
        cond, t, half = self.condition(tokens, given), tokens.shape[2], self.window // 2
        parts = [self.run(tokens, cond, 0)]
        for start in range(half, t - half, half):                   # window k: steps k half .. + window
            parts.append(self.run(tokens, cond, start)[:, :, half:])
        return mg.concat(parts, axis=2)[:, :, :t]

    def past(self, tokens, cond, t):
        """The first step of the window that scores step t (as forward does), and the conditioning."""
        half = self.window // 2
        return (0 if t < self.window else (t - self.window) // half * half + half), cond

    def present(self, past, tokens, t):
        start, cond = past
        return self.run(tokens[:, :, :t + 1], cond, start)[:, :, -1]


def sequence_nll(net, tokens, given):
    """-log p(written voices | given voices) per piece (B,), of tokens (B, 4, T) (a device array)
    and given (B, 4) 0/1 flags (a Tensor): the sum over written voice-steps of -log p(x_{t,v} | ...);
    and how many notes that scores (a float)."""
    b, _, t = tokens.shape
    logits = net(tokens, given)                                        # (B, 4, T, vocab)
    each = F.cross_entropy(logits.reshape(-1, net.vocab), tokens.reshape(-1), reduction="none")
    written = (1 - given).reshape(b, V, 1) * mg.ones(1, 1, t, device=given.device, dtype=given.dtype)   # (B, 4, T)
    return (each.reshape(b, V, t) * written).sum(axis=(1, 2)), float(written.sum().item())


# ----- settings: every default of `minigen train autoregressive --data chorales` -----
RECIPES = {     # the first is the default; both chosen on a holdout: RESULTS.md, "Chorales"
    "arcnn": {"steps": 800, "batch_size": 32, "lr": 2e-3, "window": 32, "d_embed": 16, "width": 128,
              "hidden": 128, "kernel": 3, "dropout": 0.4, "given_share": 0.5, "weight_decay": 0.01,
              "betas": [0.9, 0.999], "lr_schedule": "cosine", "lr_warmup": 50, "max_grad_norm": 1.0,
              "ema": None, "eval_samples": 100, "length": 64},
    "transformer": {"steps": 800, "batch_size": 32, "lr": 2e-3, "window": 32, "d_model": 64, "n_layers": 3,
                    "n_heads": 4, "d_embed": 16, "kernel": 3, "dropout": 0.1, "given_share": 0.5,
                    "weight_decay": 0.1, "betas": [0.9, 0.99], "lr_schedule": "cosine", "lr_warmup": 50,
                    "max_grad_norm": 1.0, "ema": None, "eval_samples": 100, "length": 64},
}


class ChoraleModel(Family):
    """`minigen train autoregressive --data chorales [--model arcnn|transformer]`: maximum
    likelihood in time-then-voice order, AdamW."""

    RECIPES = RECIPES
    DATA = ("chorales",)
    SAMPLE_OPTIONS = ("temperature", "given", "mask", "length")

    @classmethod
    def resolve(cls, config, strict=False):
        refuse_the_other_kind(cls, config, "music", "text or images", ("bigram", "mlp", "pixelcnn"))
        return super().resolve(config, strict)

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = self.settings
        if config.model == "arcnn":
            self.net = ARCNN(music.VOCAB, s["d_embed"], s["width"], s["hidden"], s["kernel"], dropout=s["dropout"])
        else:
            self.net = NoteTransformer(music.VOCAB, s["window"], s["d_model"], s["n_layers"], s["n_heads"],
                                       s["dropout"], s["d_embed"], s["kernel"])
        self.modules = {"net": self.net}
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), config.lr, tuple(s["betas"]),
                                              weight_decay=s["weight_decay"])}
        self.start()

    def arrays(self):
        """Windows of ``window`` steps, every quarter window, of the training chorales: (N, 4, window)."""
        w = self.settings["window"]
        cuts = [music.to_tokens(r[:, i:i + w]) for r in self.train_data.rolls
                for i in range(0, r.shape[1] - w + 1, max(w // 4, 1))]
        return (backend.host.stack(cuts),)

    def given_flags(self, n):
        """(n, 4) 0/1 floats for a training batch: no voice given with probability 1 - given_share,
        else the soprano (half of those) or one of the 14 proper non-empty subsets, uniformly."""
        rng, host = backend.private_generator(self.config.seed * 100_003 + self.step_count), backend.host
        subsets = (host.arange(1, 2 ** V - 1)[:, None] >> host.arange(V)) & 1       # (14, 4)
        draw = rng.random(n)
        share = self.settings["given_share"]
        flags = host.where((draw < share / 2)[:, None], subsets[rng.integers(0, len(subsets), n)], 0)
        flags[(draw >= share / 2) & (draw < share)] = (1, 0, 0, 0)
        return backend.to_device(flags.astype("float32"), self.config.device)

    def step(self, batch):
        (tokens,) = batch                                                  # (B, 4, W)
        given = mg.tensor(self.given_flags(len(tokens)))
        nll, count = sequence_nll(self.net, tokens.data, given)
        loss = nll.sum() * (1.0 / count)
        self.update(loss, self.optimizers["net"])
        return {"nll": loss}

    def log_prob(self, rolls, given=None):
        """log p(roll) in nats of each of ``rolls`` (a list of MIDI rolls (4, T)), exact: a float64
        array (N,). ``given``: a tuple of voice indices; then log p(the other voices | those)."""
        flags = [1.0 if v in (given or ()) else 0.0 for v in range(V)]
        out = backend.host.zeros(len(rolls))
        lengths = [r.shape[1] for r in rolls]
        with mg.no_grad(), self.averaged():
            for length in sorted(set(lengths)):                          # same length: one batch
                which = [i for i, n in enumerate(lengths) if n == length]
                tokens = backend.to_device(music.to_tokens([rolls[i] for i in which]), self.config.device)
                nll, _ = sequence_nll(self.net, tokens, mg.tensor([flags] * len(which), device=self.config.device))
                out[which] = -nll.numpy()
        return out

    # ----- sampling: one voice-step at a time -----
    def sample(self, n, seed, **options):
        """n pieces, MIDI rolls int64 (n, 4, T). Options: temperature; length (steps to compose or
        to add after the given ones; default the recipe's); given (a roll (4, T) or (1, 4, T)) with
        mask, "end" (continue after it) or voice indices (write those voices, keep the others)."""
        self.check_options(options := {k: v for k, v in options.items() if v is not None})
        if ("given" in options) != ("mask" in options):
            raise ValueError("--given and --mask go together")
        length, temperature = options.get("length") or self.settings["length"], options.get("temperature", 1.0)
        blank = backend.host.zeros((n, V, length), dtype="int64")
        if "given" not in options:
            return self.fill(blank, (), 0, seed, temperature)
        given = music.check_roll(options["given"], "--given")[:1].repeat(n, axis=0)   # (n, 4, T0)
        mask = music.parse_mask(options["mask"]) if isinstance(options["mask"], str) else options["mask"]
        if mask == "end":
            return self.fill(backend.host.concatenate([given, blank], axis=2), (), given.shape[2], seed, temperature)
        return self.fill(given, tuple(v for v in range(V) if v not in mask), 0, seed, temperature)

    def fill(self, rolls, kept, start, seed, temperature):
        """Draw the voices not in ``kept`` at steps start.. of MIDI rolls (n, 4, T), in order; the
        kept voices and the steps before ``start`` stay as given. At each step the network's
        ``past`` (what does not change within the step), then its ``present`` for each voice in turn."""
        if not temperature > 0:
            raise ValueError(f"--temperature: must be > 0, got {temperature}")
        rng, device = backend.private_generator(seed), self.config.device
        tokens = backend.to_device(music.to_tokens(rolls), device)                  # (n, 4, T)
        given = mg.tensor([[float(v in kept) for v in range(V)]] * len(rolls), device=device)
        with mg.no_grad(), self.averaged():
            cond = self.net.condition(tokens, given)                               # (n, T, width)
            for t in range(start, tokens.shape[2]):
                past = self.net.past(tokens, cond, t)
                for v in (v for v in range(V) if v not in kept):
                    logits = self.net.present(past, tokens, t)[:, v]                  # (n, vocab)
                    tokens[:, v, t] = A.draw(A.sampling_distribution(logits, temperature), rng)
        return music.to_pitches(backend.to_host(tokens))

    # ----- evaluation -----
    def evaluate(self):
        """The exact test NLL per note (and per chorale), the same given Bach's soprano, the count
        baselines, and the musical statistics of samples and harmonisations beside Bach's."""
        test = self.test_data.rolls
        notes = sum(r.size for r in test)
        log_p, harmonised = self.log_prob(test), self.log_prob(test, given=(0,))
        result = {"nll_per_note": float(-log_p.sum() / notes), "nll": float(-log_p.mean()),
                  "harmonise_nll_per_note": float(-harmonised.sum() / (notes * 3 / 4)),
                  "test_chorales": len(test), "test_notes": notes}
        result.update(music.count_baselines(self.train_data.rolls, test))
        if self.settings["eval_samples"]:
            samples = list(self.sample(self.settings["eval_samples"], SAMPLE_SEED))
            pieces = [self.sample(1, SAMPLE_SEED, given=r, mask=(1, 2, 3))[0] for r in test]   # harmonised
            result.update(music.compare(test, samples, pieces))
        return result

    def figure(self):
        return viz_music.figure(self)

