"""Choose the corpus storytellers' defaults on a held-out part of the TRAIN split (never on test).

shakespeare: trains on the training text less its last 111,540 characters (as many as the test
split holds), reports the NLL per character of those characters, read block by block as
`minigen eval` reads the test text (models/story.py). code: trains on the training files less
the last 12 (tools/holdout/holdout.py's ``carve``), reports the NLL per character of those 12.
Each trial prints its training wall time, the BLAS threads and the load, since the default must
also fit a time budget (Shakespeare: 3 minutes on 2 cores). One seed per setting; a second
seed tells a gain from noise.

Usage: python -m tools.holdout.story_holdout DATA MODEL [SETTING ...] [--threads N]
  a SETTING is key=value, any keyword of minigen.models.make: steps, batch_size, lr, seed
  (default 0) or a setting of the recipe, e.g.
      python -m tools.holdout.story_holdout shakespeare transformer lr=3e-3 steps=3000 --threads 2

Results: RESULTS.md, "Shakespeare and code (text corpora)".
"""
import argparse
import ast
import dataclasses

import minigen as mg
from minigen.data import get_dataset
from minigen.models import make
from minigen.models.loop import train
from tools.holdout.holdout import carve


def carve_text(data):
    """(fit, held) of a corpus: on shakespeare (one document) the training text less as many
    characters as the test text, and those characters; on code, ``carve``'s last files."""
    if data != "shakespeare":
        return carve(data)
    full, count = get_dataset(data, "train"), len(get_dataset(data, "test").text[0])
    text = full.text[0]
    return (dataclasses.replace(full, data=[text[:-count]]),
            dataclasses.replace(full, data=[text[-count:]], split="holdout"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", choices=["shakespeare", "code"])
    parser.add_argument("model", choices=["transformer", "mlp", "bigram"])
    parser.add_argument("settings", nargs="*", help="key=value")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    given = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.settings)}
    given.setdefault("seed", 0)
    mg.set_num_threads(args.threads)
    fit, held = carve_text(args.data)
    family = make("autoregressive", args.data, model=args.model, split=(fit, held), eval_samples=0, **given)
    _, seconds = train(family, quiet=True)
    log_p = family.log_prob(held.text)
    held_nll = -log_p.sum() / sum(len(t) - 1 for t in held.text)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{args.data} {args.model} {given}: holdout nll per character {held_nll:.4f}, "
          f"{family.config.steps} steps in {seconds:.0f} s ({args.threads} threads), load {load}", flush=True)


if __name__ == "__main__":
    main()
