"""Every family end to end on cuda: train a few steps, evaluate, sample with every option the family
takes, save on cuda, open on cpu and back; and the CLI with --device cuda.

Marked gpu: these run under `pytest --cupy-stand-in -m gpu` (tests/cupy_stand_in: NumPy underneath,
CuPy's refusals on top) and on a real GPU, and skip without either. Small settings keep the whole
file to about half a minute on the stand-in; the numbers are not judged, only that every path runs
on the device and hands back host arrays.
"""
import json

import numpy as np
import pytest

import minigen as mg
from minigen import cli
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import open_run, write_run

pytestmark = pytest.mark.gpu

PIXELCNN = {"width": 8, "blocks": 2, "eval_samples": 0}
DIGITS_DIFFUSION = {"T": 10, "resample": 1, "lr_warmup": 2}
# (id, family, data, make() settings, the sampling options to try, one dict per sample call)
RUNS = [
    ("classifier-digits-mlp", "classifier", "digits", {"steps": 3}, []),
    ("classifier-digits-cnn", "classifier", "digits", {"model": "cnn", "steps": 3}, []),
    ("gan-8gaussians", "gan", "8gaussians", {"steps": 3}, [{}]),
    ("gan-8gaussians-wgan-gp", "gan", "8gaussians", {"loss": "wgan-gp", "steps": 5, "ema": 0.9}, [{}]),
    ("gan-digits-dcgan-conditional", "gan", "digits", {"model": "dcgan", "steps": 2, "conditional": True},
     [{}, {"label": 3}]),
    ("vae-digits-binary", "vae", "digits-binary", {"steps": 3}, [{}]),
    ("vae-digits-binary-conditional-iwae", "vae", "digits-binary",
     {"loss": "iwae", "steps": 2, "conditional": True}, [{}, {"label": 7}]),
    ("autoregressive-names", "autoregressive", "names", {"steps": 3},
     [{}, {"temperature": 0.7}, {"top_k": 3}, {"prompt": "ma"}, {"temperature": 1.5, "top_k": 5, "prompt": "k"}]),
    ("autoregressive-names-mlp", "autoregressive", "names", {"model": "mlp", "steps": 3},
     [{"temperature": 0.7, "top_k": 3, "prompt": "ma"}]),
    ("autoregressive-names-bigram", "autoregressive", "names", {"model": "bigram", "steps": 3},
     [{"temperature": 0.7, "top_k": 3, "prompt": "ma"}]),
    ("autoregressive-digits-binary", "autoregressive", "digits-binary", {"steps": 2, **PIXELCNN},
     [{}, {"temperature": 0.8}, {"given": "bottom"}]),
    ("autoregressive-digits-binary-conditional", "autoregressive", "digits-binary",
     {"steps": 2, "conditional": True, **PIXELCNN},
     [{"label": 2}, {"given": "bottom"}, {"given": "bottom", "label": 4}]),
    ("autoregressive-digits-grey", "autoregressive", "digits", {"steps": 2, **PIXELCNN},
     [{"temperature": 0.8}, {"given": "bottom"}]),
    ("diffusion-8gaussians", "diffusion", "8gaussians", {"steps": 3, "T": 10, "lr_warmup": 2},
     [{}, {"sampler": "ddim"}, {"sampler": "ddim", "sample_steps": 4}, {"sampler": "ddpm", "sample_steps": 5}]),
    ("diffusion-digits", "diffusion", "digits", {"steps": 2, **DIGITS_DIFFUSION},
     [{"sampler": "ddim", "sample_steps": 3}, {"given": "top"}, {"given": "left", "sampler": "ddim"}]),
    ("diffusion-digits-conditional", "diffusion", "digits", {"steps": 2, "conditional": True, **DIGITS_DIFFUSION},
     [{"label": 1}, {"label": 2, "guidance": 2.0, "sampler": "ddim", "sample_steps": 3},
      {"given": "right", "label": 5, "guidance": 1.0}, {"given": "bottom"}]),
    ("diffusion-digits-unet", "diffusion", "digits", {"model": "unet", "width": 8, "steps": 2, **DIGITS_DIFFUSION,
                                                      "T": 3}, [{"sampler": "ddim", "sample_steps": 2}]),
]


@pytest.fixture(scope="module", autouse=True)
def _cuda_and_a_quick_judge():
    if not mg.cuda_available():
        pytest.skip("no CUDA device (CuPy missing or no GPU; or run with --cupy-stand-in)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(judge, "JUDGE_STEPS", 60)        # the judge trains on the CPU: keys, not values
        yield


def _options(family, options, n):
    """options with "given": MASK made into n test images in [0, 1] and their mask."""
    options = dict(options)
    if "given" in options:
        mask = options.pop("given")
        test = family.test_data
        options.update(given=test.to_unit(test.images[:n]).astype(np.float32), mask=mask)
    return options


def _check_samples(samples, n):
    if isinstance(samples, list):                                  # text
        assert len(samples) == n and all(isinstance(s, str) for s in samples)
    else:
        assert type(samples) is np.ndarray and len(samples) == n and np.isfinite(samples).all()


def _parameters(family):
    return {f"{name}.{k}": p for name, m in family.modules.items() for k, p in m.state_dict().items()}


@pytest.mark.parametrize("name, family_name, data, settings, samples", RUNS, ids=[r[0] for r in RUNS])
def test_a_family_trains_evaluates_samples_and_moves_between_devices_on_cuda(
        tmp_path, name, family_name, data, settings, samples):
    family = make(family_name, data, device="cuda", seed=0, **settings)
    assert all(p.device == "cuda:0" for p in _parameters(family).values())
    history, seconds = train(family, quiet=True)
    assert family.step_count == settings["steps"]
    for values in history.values():          # host floats (a GAN's G: NaN on the steps it skips), the last set
        assert all(isinstance(v, float) for v in values) and np.isfinite(values[-1])
    metrics = write_run(family, history, seconds, tmp_path)        # evaluate, figure, checkpoint: on cuda
    json.dumps(metrics)
    assert (tmp_path / "samples.png").exists()
    n = 3
    for options in samples:
        _check_samples(family.sample(n, 0, **_options(family, options, n)), n)

    on_cuda = {k: p.numpy() for k, p in _parameters(family).items()}
    cpu = open_run(tmp_path, device="cpu")
    assert cpu.config.device == "cpu"
    for k, p in _parameters(cpu).items():
        assert p.device == "cpu"
        np.testing.assert_array_equal(p.numpy(), on_cuda[k])
    for options in samples[:1]:
        _check_samples(cpu.sample(n, 0, **_options(cpu, options, n)), n)
    if cpu.average is not None:                                    # the average moved too
        with cpu.averaged():
            assert all(p.device == "cpu" for p in _parameters(cpu).values())

    back = open_run(tmp_path, device="cuda")
    for k, p in _parameters(back).items():
        assert p.device == "cuda:0"
        np.testing.assert_array_equal(p.numpy(), on_cuda[k])
    train(back, quiet=True)                                        # steps done: trains none, runs on
    for options in samples[-1:]:
        _check_samples(back.sample(n, 0, **_options(back, options, n)), n)


def _cli(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def test_the_command_line_trains_evaluates_and_samples_on_cuda(tmp_path, capsys):
    text = tmp_path / "text"
    _cli("train", "autoregressive", "--data", "names", "--model", "bigram", "--steps", 3, "--device", "cuda",
         "--out", text, "--quiet")
    assert json.loads((text / "config.json").read_text())["device"] == "cuda:0"
    _cli("eval", text, "--device", "cuda")
    out = tmp_path / "names.txt"
    _cli("sample", text, "--n", 4, "--device", "cuda", "--out", out, "--prompt", "jo", "--temperature", "0.8",
         "--top-k", 5)
    assert [line[:2] for line in out.read_text().splitlines()] == ["jo"] * 4
    partial = make("autoregressive", "names", model="bigram", device="cuda", steps=4)
    batches = partial.batches()
    for _ in range(2):
        partial.train_step(next(batches))
    write_run(partial, {}, 0.0, tmp_path / "partial")           # step 2 of 4: a partial run, as Ctrl-C leaves it
    _cli("train", "--resume", tmp_path / "partial", "--quiet")
    resumed = open_run(tmp_path / "partial", device="cuda")
    assert resumed.step_count == 4 and not resumed.partial and resumed.config.device == "cuda:0"

    # `minigen train` takes no recipe settings (T): a conditional diffusion run with few levels, made here
    run = tmp_path / "diffusion"
    family = make("diffusion", "digits", device="cuda", conditional=True, steps=2, **DIGITS_DIFFUSION)
    write_run(family, *train(family, quiet=True), run)
    _cli("eval", run, "--device", "cuda")
    given = tmp_path / "given.npy"
    np.save(given, np.full((2, 1, 8, 8), 0.5, dtype=np.float32))
    for device, options in (("cuda", ["--label", 4, "--guidance", 2]),
                            ("cuda", ["--sampler", "ddim", "--sample-steps", 3, "--given", given, "--mask", "left"]),
                            ("cpu", ["--sampler", "ddim", "--label", 1])):
        out = tmp_path / "samples.npy"
        _cli("sample", run, "--n", 2, "--device", device, "--out", out, *options)
        assert np.load(out).shape == (2, 1, 8, 8)
    capsys.readouterr()
