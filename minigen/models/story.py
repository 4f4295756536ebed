"""Stories: a long text one character at a time (Tiny Shakespeare, and Python source).

The models are the names' (text.py): the bigram, the MLP and the transformer, tokens (B, T) ->
logits (B, T, V). What changes is the data: no name begins or ends, there is one long text (a
corpus's documents), and a model sees a *block* of at most ``block_size`` characters.

    vocabulary   the corpus's characters, sorted; token 0 is the newline, so the MLP's "before
                 the start" (token 0) reads as the start of a line
    training     nanoGPT's get_batch: B windows at random places i of the training text,
                 x = text[i : i+T], y = text[i+1 : i+T+1]; the loss is the mean NLL per character,
                 -1/(BT) sum_b sum_t log p(y_bt | x_b1 .. x_bt)
    evaluation   the NLL per character of the whole test text, read in consecutive blocks:
                 block k predicts characters kT+1 .. kT+T, each from the ones before it in its
                 block (nanoGPT's estimate over random windows equals this in expectation)
    sampling     after a prompt (and a newline before it: a sample starts a line), ``length``
                 characters, each from the last T characters (nanoGPT's generate)
"""
import ast
import io
import tokenize

import minigen as mg
import minigen.functional as F
from minigen import backend, optim
from minigen.models.loop import Family
from minigen.models.text import MLP, SAMPLE_SEED, Bigram, Transformer, refuse_the_other_kind
from minigen.objectives import autoregressive as A
from minigen.viz import text as viz_text

NEWLINE = "\n"
STARTS_AT_ONCE = 500     # steps whose window starts go to the device in one copy

# nanoGPT's CPU recipe (its README: config/train_shakespeare_char.py with 4 layers, 4 heads, width
# 128, context 64, batch 12, 2,000 steps, no dropout): the anchor minigen is measured against
NANOGPT_CPU = {"steps": 2000, "batch_size": 12, "lr": 1e-3, "block_size": 64, "d_model": 128, "n_layers": 4,
               "n_heads": 4, "dropout": 0.0, "weight_decay": 0.1, "betas": [0.9, 0.99], "lr_schedule": "cosine",
               "lr_warmup": 100, "min_lr": 1e-4, "max_grad_norm": 1.0, "ema": None}

# ----- settings: every default of `minigen train autoregressive --data shakespeare|code` -----
SAMPLING = {"length": 500, "eval_samples": 20}       # --length's default; samples minigen eval scores
RECIPES = {     # the first is the default
    # nanoGPT's recipe with the steps that fit in 3 minutes on 2 cores, the learning rate chosen on
    # a holdout: RESULTS.md, "Shakespeare and code (text corpora)"; the same on code
    "transformer": {**NANOGPT_CPU, "steps": 3000, "lr": 2e-3, "min_lr": 2e-4, **SAMPLING},
    # the baselines, not tuned: the names' settings (text.py), a wider MLP, no dropout
    "mlp": {"steps": 3000, "batch_size": 32, "lr": 3e-3, "block_size": 64, "context": 8, "d_embed": 24,
            "hidden": 512, "dropout": 0.0, "weight_decay": 0.01, "betas": [0.9, 0.999], "lr_schedule": "cosine",
            "lr_warmup": 100, "max_grad_norm": 1.0, "ema": None, **SAMPLING},
    "bigram": {"steps": 1000, "batch_size": 32, "lr": 0.1, "block_size": 64, "weight_decay": 0.0,
               "betas": [0.9, 0.999], "lr_schedule": "cosine", "lr_warmup": 0, "max_grad_norm": None,
               "ema": None, **SAMPLING},
}
PROMPTS = {"shakespeare": "ROMEO:", "code": "def "}   # what eval's samples and samples.png start with


class StoryModel(Family):
    """`minigen train autoregressive --data shakespeare|code [--model transformer|mlp|bigram]`:
    maximum likelihood on random windows of the text, AdamW."""

    RECIPES = RECIPES
    DATA = ("shakespeare", "code")
    SAMPLE_OPTIONS = ("temperature", "top_k", "prompt", "length")

    @classmethod
    def resolve(cls, config, strict=False):
        refuse_the_other_kind(cls, config, "text", "images or music", ("pixelcnn", "arcnn"))
        return super().resolve(config, strict)

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = self.settings
        self.vocab = train.vocab                                 # sorted: the newline is token 0
        if self.vocab[0] != NEWLINE:
            raise ValueError(f"{config.data}: a corpus's first character (token 0) must be the newline")
        self.index = {ch: i for i, ch in enumerate(self.vocab)}
        self.block_size = s["block_size"]
        v = len(self.vocab)
        if config.model == "bigram":
            self.net = Bigram(v)
        elif config.model == "mlp":
            self.net = MLP(v, s["context"], s["d_embed"], s["hidden"], s["dropout"])
        else:
            self.net = Transformer(v, self.block_size, s["d_model"], s["n_layers"], s["n_heads"], s["dropout"])
        self.modules = {"net": self.net}
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), config.lr, tuple(s["betas"]),
                                              weight_decay=s["weight_decay"])}
        self.text = self.encode("".join(train.text), "the training text")   # (N,) host ints
        self.start()

    def encode(self, text, what):
        """A str -> its tokens, an int64 host array; a character outside the vocabulary is a
        ValueError naming ``what``."""
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"{what}: the character(s) {''.join(unknown)!r} are not in the "
                             f"{self.config.data} vocabulary {''.join(self.vocab)!r}")
        return backend.host.asarray([self.index[ch] for ch in text], dtype="int64")

    # ----- training: random windows, as nanoGPT's get_batch -----
    def training_examples(self):
        return len(self.text) - self.block_size                  # the windows a batch draws from

    def batches(self):
        """Endless batches of windows (B, T + 1) on the run's device, each at a random place of
        the training text. Step k draws from a generator seeded by (seed, k): a run resumed at
        step k sees the batches an uninterrupted run sees from k on. The text goes to the device
        once and the starts of STARTS_AT_ONCE steps at a time; each batch is cut there."""
        host, t, step, device = backend.host, self.block_size, self.step_count, self.config.device
        text = backend.to_device(self.text, device)                                     # (N,)
        offsets = backend.to_device(host.arange(t + 1), device)                         # (T + 1,)
        while True:
            starts = host.stack([backend.private_generator((self.config.seed, k)).integers(
                0, len(self.text) - t, self.config.batch_size) for k in range(step, step + STARTS_AT_ONCE)])
            for row in backend.to_device(starts, device):                                # (B,) each step
                yield text[row[:, None] + offsets]                                      # (B, T + 1)
            step += STARTS_AT_ONCE

    def step(self, windows):
        x, y = A.shift(windows)                                  # (B, T) each: y_t is the character after x_t
        logits = self.net(x)                                     # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))   # nats per character
        self.update(loss, self.optimizers["net"])
        return {"nll": loss}

    # ----- the likelihood, block by block -----
    def log_prob(self, texts, batch_size=256):
        """log p(text) in nats for each of ``texts`` (a list of str): every character but the
        first, predicted from the ones before it in its block of ``block_size`` (the module's
        docstring). A float64 NumPy array (N,)."""
        if isinstance(texts, str):
            raise ValueError("log_prob: give a list of texts, not one str")
        host, t = backend.host, self.block_size
        blocks, scored, owner = [], [], []                       # each block: T + 1 tokens, how many predictions
        for k, text in enumerate(texts):
            tokens = self.encode(text, "log_prob")
            for i in range(0, max(len(tokens) - 1, 0), t):
                piece = tokens[i:i + t + 1]
                blocks.append(host.pad(piece, (0, t + 1 - len(piece))))     # the last one padded (unscored)
                scored.append(len(piece) - 1)
                owner.append(k)
        out = host.zeros(len(texts))
        if not blocks:
            return out
        blocks, scored, owner = host.stack(blocks), host.asarray(scored), host.asarray(owner)
        with mg.no_grad(), self.averaged():
            for i in range(0, len(blocks), batch_size):
                part = backend.to_device(blocks[i:i + batch_size], self.config.device)
                x, y = A.shift(part)                             # (b, T) each
                mask = backend.to_device(host.arange(t)[None, :] < scored[i:i + batch_size, None], self.config.device)
                nll = A.sequence_nll(self.net(x), y, mask)       # (b,) nats
                host.add.at(out, owner[i:i + batch_size], -nll.numpy().astype("float64"))
        return out

    # ----- sampling: one character at a time -----
    def sample(self, n, seed, **options):
        """n texts (a list of str), each ``prompt`` and then ``length`` characters (default the
        recipe's), drawn with a private generator seeded by ``seed``; options: temperature, top_k,
        prompt, length. The model sees a newline before the prompt: a sample starts a line."""
        self.check_options(options)
        return self.write(n, seed, **options)

    def write(self, n, seed, temperature=1.0, top_k=None, prompt="", length=None):
        """``sample``'s work: one character at a time, each from the last ``block_size``."""
        length = self.settings["length"] if length is None else length
        if int(length) != length or length < 1:
            raise ValueError(f"--length: characters to write, an integer >= 1, got {length}")
        A.sampling_distribution(mg.zeros(1, 2), temperature, top_k)    # bad values fail before any work
        start = self.encode(NEWLINE + prompt, "--prompt")
        rng = backend.private_generator(seed)
        tokens = backend.to_device(start[None, :].repeat(n, axis=0), self.config.device)   # (n, 1 + len(prompt))
        xp = backend.array_module(tokens)
        with mg.no_grad(), self.averaged():
            for _ in range(int(length)):
                logits = self.net(tokens[:, -self.block_size:])[:, -1]                      # (n, V)
                nxt = A.draw(A.sampling_distribution(logits, temperature, top_k), rng)     # (n,)
                tokens = xp.concatenate([tokens, nxt[:, None]], axis=1)
        return ["".join(self.vocab[i] for i in row[1:]) for row in backend.to_host(tokens).tolist()]

    # ----- evaluation -----
    def evaluate(self):
        """The test text's NLL per character (block by block); on code, how many samples are
        Python (``python_shares``)."""
        test = self.test_data.text
        log_p = self.log_prob(test)
        predictions = sum(max(len(text) - 1, 0) for text in test)
        result = {"nll_per_token": float(-log_p.sum() / predictions), "test_predictions": predictions,
                  "test_documents": len(test), "block_size": self.block_size}
        if self.config.data == "code" and self.settings["eval_samples"]:
            samples = self.sample(self.settings["eval_samples"], SAMPLE_SEED, prompt=PROMPTS["code"])
            result.update(python_shares(samples), samples=len(samples), sample_length=self.settings["length"])
        return result

    def figure(self):
        return viz_text.story_figure(self, PROMPTS[self.config.data])


def python_shares(samples):
    """How Python-like samples of code are, on each sample's whole lines (the text up to its last
    newline: a sample stops mid-line): ``tokenize_share``, the share whose lines tokenize (no
    error token, no bad indentation; a bracket or a string still open where the sample was cut
    off is not held against it), and ``parse_share``, the share that ``ast.parse`` accepts whole."""
    tokenized = parsed = 0
    for sample in samples:
        lines = sample[:sample.rfind(NEWLINE) + 1]
        tokenized += tokenizes(lines)
        try:
            ast.parse(lines)
            parsed += 1
        except (SyntaxError, ValueError):
            pass
    return {"tokenize_share": tokenized / len(samples), "parse_share": parsed / len(samples)}


def tokenizes(source):
    """Whether Python's tokenizer reads ``source`` to its end without an error token or an
    indentation error (an EOF inside a bracket or a string is allowed: the text was cut)."""
    try:
        return all(tok.type != tokenize.ERRORTOKEN for tok in tokenize.generate_tokens(io.StringIO(source).readline))
    except tokenize.TokenError:                                  # EOF in a multi-line statement or string
        return True
    except (IndentationError, SyntaxError):
        return False
