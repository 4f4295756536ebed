"""The `minigen` command: train, sample, eval, bench, tour, learn (see DESIGN.md's command line)."""
import argparse
import json
import sys
from pathlib import Path

from minigen import backend
from minigen.models import FAMILIES, build
from minigen.models.loop import Config, train
from minigen.runs import RUN_FILES, open_run, resume, write_run


class UsageError(Exception):
    """Bad arguments found after parsing: printed as a usage message, exit code 2.

    ``usage=False`` for a problem with the machine rather than the arguments (no GPU): then the
    message alone, one line."""

    def __init__(self, message, usage=True):
        super().__init__(message)
        self.usage = usage


def _device(name):
    try:
        device = backend.normalize_device(name)
    except backend.DeviceError as exc:
        raise UsageError(str(exc)) from None
    if device != "cpu":
        try:
            backend.check_cuda(device)
        except backend.DeviceError as exc:
            raise UsageError(f"--device {name}: {exc}", usage=False) from None
    return device


def _check_out(out, overwrite):
    """Refuse, before any training, to write into a folder that holds a run (unless --overwrite)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    held = [name for name in RUN_FILES if (out / name).exists()]
    if held and not overwrite:
        raise UsageError(f"--out {out}: already holds a run ({', '.join(held)}); choose another --out, "
                         f"or pass --overwrite to replace it", usage=False)


def cmd_train(args):
    if args.resume is not None:
        return _resume(args)
    if args.family is None or args.data is None:
        raise UsageError("train: give FAMILY and --data NAME (or --resume DIR to continue a stopped run)")
    config = Config(family=args.family, data=args.data, model=args.model, loss=args.loss, steps=args.steps,
                    batch_size=args.batch_size, lr=args.lr, device=_device(args.device), seed=args.seed,
                    conditional=args.conditional, captions=args.captions,
                    out=args.out or f"runs/{args.family}-{args.data.replace(':', '_').replace('/', '_')}")
    _check_out(config.out, args.overwrite)
    try:
        family = build(config)
    except (ValueError, OSError) as exc:  # bad settings, or data files missing / malformed (idx:PATH)
        raise UsageError(str(exc)) from None
    config = family.config
    if config.batch_size > family.training_examples():
        raise UsageError(f"--batch-size {config.batch_size} is larger than the {family.training_examples()} "
                         f"training examples of {config.data}")
    history, seconds = train(family, quiet=args.quiet)
    _finish(family, write_run(family, history, seconds, config.out), seconds, args.quiet)


def _resume(args):
    """train --resume DIR: a stopped run trained on to its steps (the other flags are the run's own)."""
    given = [f"--{k.replace('_', '-')}" for k in ("family", "data", "model", "loss", "steps", "batch_size", "lr",
                                                  "out") if getattr(args, k) is not None]
    if given:
        raise UsageError(f"train --resume: takes its settings from the run folder; drop {', '.join(given)}")
    try:
        family, metrics = resume(args.resume, quiet=args.quiet)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    _finish(family, metrics, metrics["train_seconds"], args.quiet)


def _finish(family, metrics, seconds, quiet):
    """The last words of a training run: one line for a stopped one, the metrics for every one."""
    config = family.config
    if family.step_count < config.steps:
        print(f"stopped at step {family.step_count} of {config.steps}: saved in {config.out} (partial); "
              f"`minigen train --resume {config.out}` continues it", file=sys.stderr)
    elif not quiet:
        print(f"trained {config.family} ({config.model}) on {config.data} for {config.steps} steps "
              f"in {seconds:.1f} s -> {config.out}")
    print(json.dumps(metrics))


def cmd_eval(args):
    family = _open(args.dir, args.device)
    metrics = family.evaluate()
    if family.partial:
        metrics.update(partial=True, steps=family.step_count, planned_steps=family.config.steps)
    path = Path(args.dir) / "metrics.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **metrics}, indent=2))
    print(json.dumps(metrics))


SAMPLE_OPTIONS = ("sampler", "sample_steps", "temperature", "top_k", "prompt", "label", "guidance", "mask",
                  "length")
MUSIC_OUT = (".mid", ".wav", ".npy", ".png")


def cmd_sample(args):
    options = {k: getattr(args, k) for k in SAMPLE_OPTIONS if getattr(args, k) is not None}
    if args.mask is not None and args.mask_file is not None:
        raise UsageError("sample: give --mask or --mask-file, not both")
    if args.mask_file is not None:
        options["mask"] = _load_array(args.mask_file, "--mask-file")
    if (args.given is None) != ("mask" not in options):
        raise UsageError("sample: --given FILE.npy and --mask (top|bottom|left|right|box:R0,C0,R1,C1, "
                         "or --mask-file M.npy) go together")
    if args.given is not None and Path(args.given).resolve() == Path(args.out).resolve():
        raise UsageError(f"sample: --out {args.out} is the --given file; choose another --out (the input is kept)")
    family = _open(args.dir, args.device)
    music = family.train_data.kind == "music"
    if args.given is not None:
        options["given"] = _load_roll(args.given) if music else _load_given(args.given)
    if family.partial:
        print(f"{args.dir}: a partial run (stopped at step {family.step_count} of {family.config.steps})",
              file=sys.stderr)
    try:
        samples = family.sample(args.n, args.seed, **options)
    except (NotImplementedError, ValueError) as exc:  # an option this family lacks, or a bad value
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    if music:
        return _write_music(out, samples)
    text = isinstance(samples, list)
    if out.suffix not in (".txt", ".npy") or (out.suffix == ".txt") != text:
        raise UsageError(f"sample: this run makes {'text' if text else 'arrays'}: --out must end in "
                         f"{'.txt' if text else '.npy'}, got {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if text and "length" in family.SAMPLE_OPTIONS:   # passages of a corpus: each under a header line
        out.write_text("".join(f"=== sample {k + 1} of {len(samples)} ===\n{s}\n\n" for k, s in enumerate(samples)))
    elif text:                                      # names: one a line
        out.write_text("".join(f"{s}\n" for s in samples))
    else:
        import numpy as np
        np.save(out, np.asarray(samples, dtype=np.float32))
    print(f"wrote {len(samples)} samples to {out}")


def cmd_bench(args):
    from minigen.bench.run import main as bench_main
    bench_main(device=args.device, quick=args.quick, out=args.out)


def cmd_tour(args):
    from minigen.tour import run_tour
    run_tour(device=_device(args.device), quick=args.quick, out=args.out, quiet=args.quiet)


def cmd_learn_start(args):
    from minigen.learn import workbook
    try:
        written, kept = workbook.start(args.dir)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc), usage=False) from None
    exercises = sum(p.suffix == ".py" for p in written)
    print(f"wrote {exercises} exercise(s) to {args.dir}" + (f" (and {args.dir}/README.md)" if any(
        p.name == "README.md" for p in written) else ""))
    if kept:
        print(f"kept {len(kept)} file(s) already there, as they were: {', '.join(p.name for p in kept)}")
    print(f"start with {Path(args.dir) / 'sigmoid.py'}; check your answers with `minigen learn check {args.dir}`")


def cmd_learn_list(args):
    from minigen.learn import workbook
    from minigen.learn.exercises import EXERCISES
    if args.dir is not None and not Path(args.dir).is_dir():
        raise UsageError(f"{args.dir}: no such folder (`minigen learn start {args.dir}` makes it)", usage=False)
    for number, exercise in enumerate(EXERCISES, 1):
        status = "" if args.dir is None else f"{workbook.progress(exercise, args.dir):12} "
        print(f"{number:2}  {exercise.name:20} {status}{exercise.summary}")
    if args.dir is not None:
        print(f"`minigen learn check {args.dir}` says which pass")


def cmd_learn_check(args):
    from minigen.learn import workbook
    results = []
    try:
        for result in workbook.check(args.dir, args.names):       # one line each, in teaching order
            print(workbook.report_line(result), flush=True)
            results.append(result)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    counts = {status: sum(r["status"] == status for r in results) for status in ("passed", "failed", "not started")}
    print(f"{len(results)} checked: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n))
    if counts["passed"] < len(results):
        raise SystemExit(1)


def cmd_learn_run(args):
    from minigen.learn.run import learn_run
    settings = {k: getattr(args, k) for k in ("data", "model", "loss", "steps", "batch_size", "lr", "seed", "conditional")}
    try:
        learn_run(args.dir, args.family, device=_device(args.device), quiet=args.quiet, **settings)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None


def _load_array(path, flag):
    """The array in the .npy file ``path``, never unpickled; a UsageError naming ``flag`` if unreadable."""
    import numpy as np
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{flag} {path}: cannot read it as a .npy array ({exc})") from None


def _load_given(path):
    """The images of --given: a float32 .npy file (N, C, H, W), never unpickled."""
    import numpy as np
    given = _load_array(path, "--given")
    if given.ndim != 4 or given.dtype.kind != "f":
        raise UsageError(f"--given {path}: expected float images (N, C, H, W), got shape {given.shape} "
                         f"of dtype {given.dtype}")
    return given.astype(np.float32)


def _load_roll(path):
    """The piece of --given for a music run: a .mid file or a .npy roll (4, T) of MIDI pitches."""
    from minigen.data import music
    try:
        return music.read_midi(path) if Path(path).suffix == ".mid" else music.check_roll(
            _load_array(path, "--given"), f"--given {path}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _write_music(out, rolls):
    """Pieces (N, 4, T) to --out: .npy all of them (int16 MIDI pitches); .mid (four voice tracks)
    and .wav the pieces one after another, a bar's rest between two; .png their piano rolls."""
    import numpy as np
    from minigen.data import music
    from minigen.viz.music import rolls_figure
    if out.suffix not in MUSIC_OUT:
        raise UsageError(f"sample: this run makes music: --out must end in {', '.join(MUSIC_OUT)}, got {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = np.zeros((len(music.VOICES), 4 * music.STEPS_PER_QUARTER), dtype=rolls.dtype)
    joined = np.concatenate([part for roll in rolls for part in (roll, bar)][:-1], axis=1)
    if out.suffix == ".npy":
        np.save(out, rolls.astype(np.int16))
    elif out.suffix == ".mid":
        music.write_midi(out, joined)
    elif out.suffix == ".wav":
        music.write_wav(out, joined)
    else:
        rolls_figure(rolls[:8]).savefig(out, dpi=110)
    print(f"wrote {len(rolls)} piece{'s' * (len(rolls) != 1)} to {out}")


def _open(path, device):
    try:
        return open_run(path, device=None if device is None else _device(device))
    except (ValueError, OSError) as exc:  # no run folder, a damaged checkpoint, data gone
        raise UsageError(str(exc)) from None


def _count(minimum):
    """An argparse type: an int >= minimum (else a usage error, exit code 2)."""
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value
    parse.__name__ = "int"
    return parse


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def parser():
    p = argparse.ArgumentParser(prog="minigen", description="Generative AI from scratch.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write a run folder")
    t.add_argument("family", nargs="?", choices=sorted(FAMILIES))
    t.add_argument("--data",
                   help="8gaussians | swissroll | digits | digits-binary | names | surnames | idx:PATH")
    t.add_argument("--model", help="architecture (the family's default if omitted)")
    t.add_argument("--loss", help="objective variant (the family's default if omitted)")
    t.add_argument("--steps", type=_count(0))
    t.add_argument("--batch-size", type=_count(1))
    t.add_argument("--lr", type=_positive_float)
    t.add_argument("--conditional", action="store_true", help="learn p(x | label) on labelled data")
    t.add_argument("--captions", action="store_true",
                   help="digits: learn p(x | caption), captions such as 'a thick seven leaning right'")
    t.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", help="run folder (default runs/FAMILY-DATA)")
    t.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--resume", metavar="DIR", help="continue a run stopped by Ctrl-C to its steps")
    t.set_defaults(parser=t, run=cmd_train)

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("dir")
    s.add_argument("--n", type=_count(1), default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device")
    s.add_argument("--sampler", choices=["ddpm", "ddim"], help="diffusion: the reverse process")
    s.add_argument("--sample-steps", type=_count(1), help="diffusion: denoising steps (DDIM default 50)")
    s.add_argument("--temperature", type=_positive_float, help="autoregressive: divide the logits by T")
    s.add_argument("--top-k", type=_count(1), help="autoregressive: draw from the K likeliest only")
    s.add_argument("--prompt", help="autoregressive text: every sample starts with this text; captioned "
                                   "runs (--captions): the caption to draw, e.g. 'a thin two leaning left' "
                                   "(without it: 'a zero', 'a one', ... in turn; '' = no caption)")
    s.add_argument("--label", type=int, help="conditional runs: samples of class K")
    s.add_argument("--guidance", type=float, help="conditional diffusion: classifier-free guidance weight")
    s.add_argument("--given", help="images: FILE.npy (N, C, H, W) in [0, 1] whose unmasked pixels are kept; "
                                   "music: FILE.mid or FILE.npy (4, T), a piece")
    s.add_argument("--mask", help="the pixels of --given to fill in: top|bottom|left|right (a half) or "
                                  "box:R0,C0,R1,C1 (rows R0..R1-1, columns C0..C1-1); music: the voices "
                                  "to write (alto,tenor,bass) or end (continue after --given)")
    s.add_argument("--length", type=_count(1), help="music: eighth notes to write (default 64); text "
                                                          "without an end token: characters to write")
    s.add_argument("--mask-file", help="images: M.npy, a boolean array (H, W) or the images' shape, "
                                       "True where to fill in")
    s.add_argument("--out", required=True, help="FILE.npy for arrays; FILE.txt for text (names one a line, "
                                               "passages each under a header line); music: "
                                               "FILE.mid, FILE.wav, FILE.npy or FILE.png")
    s.set_defaults(parser=s, run=cmd_sample)

    e = sub.add_parser("eval", help="test-split metrics of a trained run, as JSON")
    e.add_argument("dir")
    e.add_argument("--device")
    e.set_defaults(parser=e, run=cmd_eval)

    b = sub.add_parser("bench", help="time minigen against hand-written NumPy (and PyTorch, CuPy when present)")
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda", "all"])
    b.add_argument("--quick", action="store_true", help="fewer sizes and repeats (under two minutes)")
    b.add_argument("--out", help="output folder (default: benchmarks/results at a checkout's root, else bench-results)")
    b.set_defaults(run=cmd_bench)

    r = sub.add_parser("tour", help="every family briefly: a gallery and a table")
    r.add_argument("--device", default="cpu")
    r.add_argument("--quick", action="store_true", help="a few steps each (for CI)")
    r.add_argument("--out", default="tour")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(parser=r, run=cmd_tour)

    learn = sub.add_parser("learn", help="exercises: write minigen's pieces yourself, checked by property tests")
    steps = learn.add_subparsers(dest="learn_command", required=True, metavar="start | list | check | run")
    ls = steps.add_parser("start", help="write a workbook of exercises (stubs) into DIR")
    ls.add_argument("dir")
    ls.set_defaults(parser=ls, run=cmd_learn_start)
    ll = steps.add_parser("list", help="the exercises in teaching order (and how far DIR has got)")
    ll.add_argument("dir", nargs="?")
    ll.set_defaults(parser=ll, run=cmd_learn_list)
    lc = steps.add_parser("check", help="check the exercises in DIR (all, or those named); exit code 0 if all pass")
    lc.add_argument("dir")
    lc.add_argument("names", nargs="*", metavar="NAME")
    lc.set_defaults(parser=lc, run=cmd_learn_check)
    lr = steps.add_parser("run", help="train FAMILY with your functions, beside minigen's own")
    lr.add_argument("dir")
    lr.add_argument("family", choices=["autoregressive", "diffusion", "gan", "vae"])
    lr.add_argument("--data", help="the family's usual data if omitted (vae: digits-binary, gan and "
                                   "diffusion: 8gaussians, autoregressive: names)")
    lr.add_argument("--model", help="architecture (the family's default if omitted)")
    lr.add_argument("--loss", help="objective variant (the family's default if omitted)")
    lr.add_argument("--steps", type=_count(1), help="training steps of each run (a short run by default)")
    lr.add_argument("--batch-size", type=_count(1))
    lr.add_argument("--lr", type=_positive_float)
    lr.add_argument("--conditional", action="store_true", help="learn p(x | label) on labelled data")
    lr.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    lr.add_argument("--seed", type=int, default=0)
    lr.add_argument("--quiet", action="store_true", help="no progress bar")
    lr.set_defaults(parser=lr, run=cmd_learn_run)
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    try:
        args.run(args)
    except UsageError as exc:
        command = getattr(args, "parser", p)
        message = str(exc).replace("\n", " ")
        if exc.usage:
            command.error(message)  # the subcommand's usage lines, then the message; exit code 2
        command.exit(2, f"{command.prog}: error: {message}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
