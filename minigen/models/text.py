"""Names, one character at a time: three autoregressive models of text (objectives/autoregressive.py).

    Bigram        one table of logits: p(x_t | x_{t-1})
    MLP           Bengio et al. (2003): the previous k characters' embeddings -> tanh -> logits
    Transformer   a small GPT: token + position embeddings, pre-LayerNorm blocks (causal
                  self-attention, a GELU MLP), sampled with the attention's KV cache

A name is its letters between two boundary tokens 0, ". e m m a ." (data/encoding.py). The
models see tokens (B, T) and return logits (B, T, V), position t predicting the token after
input t. Each is ``decode(embed(tokens))``: ``embed`` looks each token up on its own (nothing
mixes positions there), ``decode`` mixes positions causally; the tests take the gradient of
decode's output with respect to its input to prove the causality.

Training is maximum likelihood by teacher forcing: one pass over the true names scores every
prediction (the inputs are the targets shifted right by one), and the loss is -log p(names) in
nats per predicted character, the end of each name included. Sampling draws one character at
a time from softmax(logits / T) over the top k, until the end token.
"""
import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data.encoding import Tokenizer
from minigen.models.loop import Family
from minigen.objectives import autoregressive as A
from minigen.objectives.autoregressive import BOUNDARY
from minigen.viz import text as viz_text


# ----- the models: tokens (B, T) -> logits (B, T, V) -----
class Bigram(nn.Module):
    """p(x_t | x_{t-1}) = softmax(W[x_{t-1}]): row i of the (V, V) table holds the logits of the
    token after token i. The count model is the same table filled with log counts."""

    def __init__(self, vocab_size):
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)
        nn.init.zeros_(self.table.weight)                        # start uniform: every logit 0

    def embed(self, tokens):
        return self.table(tokens)                                # (B, T, V): already the logits

    def decode(self, e):
        return e                                                 # a context of one token: nothing to mix

    def forward(self, tokens):
        return self.decode(self.embed(tokens))


class MLP(nn.Module):
    """Bengio et al. (2003): the embeddings of the last ``context`` tokens side by side, one tanh
    hidden layer, logits. Positions before the start of the name are the boundary token."""

    def __init__(self, vocab_size, context=8, d_embed=24, hidden=256, dropout=0.1):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_embed)
        self.hidden = nn.Linear(context * d_embed, hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)

    def embed(self, tokens):
        return self.tok(tokens)                                  # (B, T, d)

    def decode(self, e):
        b, t, _ = e.shape
        k = self.context
        before = self.tok(e.xp.full((b, k - 1), BOUNDARY))       # (B, k-1, d): before the start
        padded = mg.concat([before, e], axis=1)                  # (B, k-1+T, d)
        window = mg.concat([padded[:, j:j + t] for j in range(k)], axis=2)   # (B, T, k*d), oldest first
        h = self.drop(F.tanh(self.hidden(window)))               # (B, T, hidden)
        return self.out(h)                                       # (B, T, V)

    def forward(self, tokens):
        return self.decode(self.embed(tokens))


class Transformer(nn.Module):
    """A small GPT: token + learned position embeddings, pre-LayerNorm blocks (causal
    self-attention, a GELU MLP), a final LayerNorm and a linear head to the logits."""

    def __init__(self, vocab_size, block_size, d_model=64, n_layers=3, n_heads=4, dropout=0.0):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        for table in (self.tok, self.pos):
            nn.init.normal_(table.weight, std=0.02)              # GPT-2's initialisation
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[nn.TransformerBlock(d_model, n_heads, dropout=dropout)
                                      for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def embed(self, tokens):
        return self.tok(tokens)                                  # (B, T, C)

    def decode(self, e):
        t = e.shape[1]
        if t > self.block_size:
            raise ValueError(f"Transformer: {t} positions, but the model has only {self.block_size}")
        x = self.drop(e + self.pos.weight[:t])                   # (B, T, C)
        x = self.blocks(x)                                       # (B, T, C)
        return self.head(self.ln_f(x))                           # (B, T, V)

    def forward(self, tokens):
        return self.decode(self.embed(tokens))

    def decode_step(self, e, cache):
        """``decode`` of one new position: e (B, 1, C) embeds the token at position t, the number
        of positions ``cache`` holds (a KV cache per block, nn/attention.py: empty lists at the
        start; each gets this position's keys and values). Returns the logits (B, V) of the
        token after it: ``forward``'s numbers at position t, for one position's work."""
        t = cache[0][0].shape[2] if cache[0] else 0
        x = self.drop(e + self.pos.weight[t:t + 1])              # (B, 1, C)
        for block, kv in zip(self.blocks, cache):
            x = block(x, kv)                                     # (B, 1, C)
        return self.head(self.ln_f(x))[:, 0]                     # (B, V)


# ----- settings: every default of `minigen train autoregressive --data names` -----
# The learning rate warms up linearly, then decays on a cosine to 0.
RECIPES = {
    # chosen on a holdout: RESULTS.md, "Names (text models)"
    "transformer": {"steps": 4000, "batch_size": 64, "lr": 3e-3, "d_model": 64, "n_layers": 3, "n_heads": 4,
                    "dropout": 0.2, "weight_decay": 0.1, "betas": [0.9, 0.99], "lr_schedule": "cosine",
                    "lr_warmup": 100, "max_grad_norm": 1.0, "ema": None},
    # chosen on a holdout: RESULTS.md, "Names (text models)"
    "mlp": {"steps": 4000, "batch_size": 64, "lr": 3e-3, "context": 8, "d_embed": 24, "hidden": 256,
            "dropout": 0.3, "weight_decay": 0.01, "betas": [0.9, 0.999], "lr_schedule": "cosine", "lr_warmup": 100,
            "max_grad_norm": 1.0, "ema": None},
    # chosen on a holdout: RESULTS.md, "Names (text models)"
    "bigram": {"steps": 1000, "batch_size": 256, "lr": 0.1, "weight_decay": 0.0, "betas": [0.9, 0.999],
               "lr_schedule": "cosine", "lr_warmup": 0, "max_grad_norm": None, "ema": None},
}
SAMPLE_SEED = 1234          # the samples minigen eval scores (pixelcnn.py's too)
EVAL_SAMPLES = 1000         # how many (pixelcnn.py: images larger than 8x8 get none unless eval_samples says)


def refuse_the_other_kind(cls, config, kind, other_kind, other_models):
    """A --model of the other kind of autoregressive model, refused saying what it is for."""
    if config.model in other_models:
        raise ValueError(f"{config.family}: --model {config.model} is for {other_kind}; on {kind} "
                         f"({config.data}) choose from {list(cls.RECIPES)}")


class TextModel(Family):
    """`minigen train autoregressive --data names|surnames [--model bigram|mlp|transformer]`:
    maximum likelihood by teacher forcing, AdamW."""

    RECIPES = RECIPES
    DATA = ("names", "surnames")
    SAMPLE_OPTIONS = ("temperature", "top_k", "prompt")

    @classmethod
    def resolve(cls, config, strict=False):
        refuse_the_other_kind(cls, config, "text", "images", ("pixelcnn",))
        return super().resolve(config, strict)

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = self.settings
        self.tokenizer = Tokenizer(train.vocab, train.max_len)
        self.max_len = train.max_len                             # the longest name over every split
        v = len(self.tokenizer.vocab)
        if config.model == "bigram":
            self.net = Bigram(v)
        elif config.model == "mlp":
            self.net = MLP(v, s["context"], s["d_embed"], s["hidden"], s["dropout"])
        else:
            self.net = Transformer(v, self.max_len + 1, s["d_model"], s["n_layers"], s["n_heads"], s["dropout"])
        self.modules = {"net": self.net}
        betas = tuple(s["betas"])
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), config.lr, betas, weight_decay=s["weight_decay"])}
        self.start()

    def arrays(self):
        return self.tokenizer.encode(self.train_data.text)       # tokens (N, max_len + 2), lengths (N,)

    # ----- training: the exact likelihood, by teacher forcing -----
    def step(self, batch):
        tokens, lengths = batch                                  # (B, max_len + 2), (B,)
        nll, count = self.nll(tokens.data, lengths.data)         # (B,) nats, predictions scored
        loss = nll.sum() * (1.0 / float(count))                  # nats per predicted character
        self.update(loss, self.optimizers["net"])
        return {"nll": loss}

    def nll(self, tokens, lengths):
        """-log p(name) per name (B,) from tokens (B, max_len + 2) and lengths (B,) device arrays,
        and the number of predictions scored. Positions after the longest name are dropped: the
        host needs the longest length to shape the step (on a GPU, a read: one wait per step)."""
        longest, total = (int(v) for v in backend.read(lengths.max(), lengths.sum()))
        steps = longest + 1                                      # predictions of the longest name
        inputs, targets = A.shift(tokens[:, :steps + 1])         # (B, steps) each
        mask = A.prediction_mask(lengths, steps, backend.array_module(tokens))   # (B, steps)
        logits = A.force_end(self.net(inputs), self.max_len)     # (B, steps, V)
        return A.sequence_nll(logits, targets, mask), total + len(lengths)

    def log_prob(self, names, batch_size=1000):
        """log p(name) in nats for each of ``names`` (a list of str), exact: a float64 NumPy array (N,)."""
        if isinstance(names, str):
            raise ValueError("log_prob: give a list of names, not one str")
        tokens, lengths = self.tokenizer.encode(list(names))
        device, parts = self.config.device, []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(lengths), batch_size):
                nll, _ = self.nll(backend.to_device(tokens[i:i + batch_size], device),
                                  backend.to_device(lengths[i:i + batch_size], device))
                parts.append(-nll.numpy())
        return backend.host.concatenate(parts).astype("float64")

    # ----- sampling: one character at a time -----
    def sample(self, n, seed, **options):
        """n names (a list of str), each starting with ``prompt``, drawn with a private generator
        seeded by ``seed``; options: temperature, top_k, prompt."""
        self.check_options(options)
        return self.sample_text(n, seed, **options)

    def sample_text(self, n, seed, temperature=1.0, top_k=None, prompt="", cache=True):
        """n names, each starting with ``prompt``, drawn one character at a time until the end
        token (certain after max_len characters). ``cache``: the transformer keeps its keys
        and values (``Transformer.decode_step``) instead of recomputing the whole prefix."""
        A.sampling_distribution(mg.zeros(1, 2), temperature, top_k)    # bad values fail before any work
        try:
            prompt_tokens, _ = self.tokenizer.encode([prompt])
        except ValueError as exc:
            raise ValueError(f"--prompt: {exc}") from None
        prefix = prompt_tokens[0, :len(prompt) + 1]                    # the boundary, then the prompt
        rng = backend.private_generator(seed)
        tokens = backend.to_device(prefix[None, :].repeat(n, axis=0), self.config.device)   # (n, 1 + len(prompt))
        xp = backend.array_module(tokens)
        done = xp.zeros(n, dtype=bool)
        use_cache = cache and isinstance(self.net, Transformer)
        kv = [[] for _ in self.net.blocks] if use_cache else None
        with mg.no_grad(), self.averaged():
            if use_cache:                                              # the prefix, into the cache
                for t in range(tokens.shape[1]):
                    logits = self.net.decode_step(self.net.embed(tokens[:, t:t + 1]), kv)   # (n, V)
            for t in range(len(prompt), self.max_len + 1):             # t characters so far
                if not use_cache:
                    logits = self.net(tokens)[:, -1]                   # (n, V): the whole prefix again
                logits = A.force_end(logits.reshape(n, 1, -1), self.max_len, start=t)[:, 0]
                probs = A.sampling_distribution(logits, temperature, top_k)   # (n, V)
                nxt = xp.where(done, BOUNDARY, A.draw(probs, rng))     # (n,): finished names stay ended
                tokens = xp.concatenate([tokens, nxt[:, None]], axis=1)
                done |= nxt == BOUNDARY
                if bool(done.all()):
                    break
                if use_cache:
                    logits = self.net.decode_step(self.net.embed(nxt[:, None]), kv)
        return self.tokenizer.decode(backend.to_host(tokens[:, 1:]).tolist())   # every row ends (force_end)

    # ----- evaluation -----
    def evaluate(self):
        """The exact test NLL, per name and per predicted character, and what 1,000 samples
        look like next to the data (new names, test names, lengths)."""
        test = self.test_data.text
        log_p = self.log_prob(test)
        predictions = sum(len(name) + 1 for name in test)
        samples = self.sample(EVAL_SAMPLES, SAMPLE_SEED)
        train, held = set(self.train_data.text), set(test)
        return {"nll": float(-log_p.mean()), "nll_per_token": float(-log_p.sum() / predictions),
                "test_names": len(test), "test_predictions": predictions,
                "novel_share": sum(s not in train for s in samples) / len(samples),
                "test_name_share": sum(s in held for s in samples) / len(samples),
                "sample_mean_length": sum(map(len, samples)) / len(samples),
                "data_mean_length": sum(map(len, test)) / len(test), "samples": len(samples)}

    def figure(self):
        return viz_text.figure(self)
