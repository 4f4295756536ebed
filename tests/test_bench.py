"""The benchmark harness (benchmarks/): the hand-written baselines compute minigen's step, the
check that says so catches a wrong one, and the whole pipeline runs end to end on tiny
problems. No assertion here depends on how fast anything ran."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # benchmarks/ lives next to minigen/ in a source checkout
    sys.path.insert(0, str(REPO))

from benchmarks import memory, ops, report, run, specs, threads, timing, verify  # noqa: E402
from benchmarks.minigen_steps import minigen_step  # noqa: E402
from benchmarks.numpy_steps import NumpyStep  # noqa: E402

STEPS = specs.available()    # the GAN's step once minigen/models/gan.py exists


def _torch_or_skip():
    return pytest.importorskip("torch", reason="PyTorch is optional")


@pytest.mark.parametrize("name", STEPS)
def test_baseline_matches_minigen_float64(name):
    """In float64 the hand-written step and minigen agree to rounding: loss, every gradient,
    every parameter after one SGD update."""
    spec = specs.tiny(name).astype(np.float64)
    reports = verify.verify(spec, {"minigen": minigen_step(spec), "numpy": NumpyStep(spec)})
    assert reports["numpy"]["passed"]
    assert reports["numpy"]["max_grad_rel_err"] < 1e-10


@pytest.mark.parametrize("name", STEPS)
def test_baseline_matches_minigen_at_benchmark_size(name):
    """The check the harness runs before timing: full size, float32."""
    spec = specs.STEPS[name]()
    reports = verify.verify(spec, {"minigen": minigen_step(spec), "numpy": NumpyStep(spec)})
    assert reports["numpy"]["max_grad_rel_err"] <= verify.TOLERANCE["float32"]


@pytest.mark.parametrize("name", STEPS)
def test_torch_step_matches_minigen(name):
    _torch_or_skip()
    from benchmarks.torch_steps import torch_step
    spec = specs.tiny(name).astype(np.float64)
    reports = verify.verify(spec, {"minigen": minigen_step(spec), "torch": torch_step(spec)})
    assert reports["torch"]["max_grad_rel_err"] < 1e-10


def test_baselines_on_the_gpu_match_minigen(device):
    if device == "cpu":
        pytest.skip("the CPU case is covered above")
    for name in STEPS:
        spec = specs.tiny(name)
        verify.verify(spec, {"minigen": minigen_step(spec, device), "numpy": NumpyStep(spec, device)})


def test_a_wrong_baseline_is_caught():
    """A baseline whose weight gradient is off by 1% must stop the run."""
    spec = specs.tiny("mlp").astype(np.float64)
    wrong = NumpyStep(spec)
    honest = wrong.impl.loss_and_grads

    def off_by_one_percent(*batch):
        loss, grads = honest(*batch)
        grads["fc2.weight"] = grads["fc2.weight"] * 1.01
        return loss, grads
    wrong.impl.loss_and_grads = off_by_one_percent
    with pytest.raises(verify.VerificationError, match="fc2.weight"):
        verify.verify(spec, {"minigen": minigen_step(spec), "numpy": wrong})


def test_summary_statistics():
    s = timing.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median_s"], s["q1_s"], s["q3_s"], s["iqr_s"], s["min_s"], s["max_s"], s["n"]) == \
        (3.0, 2.0, 4.0, 2.0, 1.0, 5.0, 5)


def test_interleaved_runs_every_contender_in_rotating_order():
    calls = []
    contenders = {c: (lambda c=c: calls.append(c), lambda: None) for c in "abc"}
    out = timing.interleaved(contenders, repeats=3, warmup=1)
    assert calls[:3] == list("abc")                      # warm-up
    assert calls[3:] == list("abc") + list("bca") + list("cab")
    assert all(out[c]["n"] == 3 and out[c]["inner"] == 1 for c in "abc")


def test_thread_limit_needs_threadpoolctl_or_the_environment(monkeypatch):
    """Without threadpoolctl the pools can only be sized at start: the variables must match."""
    try:
        import threadpoolctl  # noqa: F401
        pytest.skip("threadpoolctl is installed: it is used instead")
    except ImportError:
        pass
    for var in threads.ENV_VARS:
        monkeypatch.setenv(var, "3")
    assert threads.limit(3)[0] is not None
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert threads.limit(3)[0] is None                    # -> run.main re-runs itself in a child


def test_memory_child_reports_a_positive_loop_peak():
    rep = memory.measure("numpy", 2, threads.env_with_threads(1), size="tiny")
    assert rep["peak_bytes"] >= rep["baseline_bytes"] > 0


def test_whole_pipeline_on_tiny_problems(tmp_path):
    """collect -> write: JSON, markdown and plots, with every section filled in."""
    cfg = {"step_repeats": 2, "step_warmup": 1, "op_repeats": 2, "op_min_sample_s": 0.0,
           "chain_length": 8, "chain_repeats": 2, "memory_steps": 2, "memory_size": "tiny",
           "memory_contenders": ["minigen", "numpy"]}
    sizes = {op: [4] if op != "conv_transpose2d" else [2] for op in ops.SIZES}
    results = run.collect("cpu", quick=True, threads=1, thread_how="test", cfg=cfg,
                          make_spec=specs.tiny, op_sizes=sizes)
    cpu = results["devices"]["cpu"]
    assert set(cpu["steps"]) >= set(STEPS)
    assert all({"minigen", "numpy"} <= set(s["contenders"]) for s in cpu["steps"].values())
    assert set(cpu["ops"]) == set(ops.SIZES)
    assert cpu["per_op"]["results"]["minigen"]["fwd_bwd"]["per_op_us"] > 0
    assert set(results["memory"]["results"]) >= {"minigen", "numpy"}
    paths = report.write(results, tmp_path, name="smoke")
    assert sorted(p.name for p in paths) == ["smoke-quick-ops.png", "smoke-quick-ratio.png",
                                             "smoke-quick.json", "smoke-quick.md"]
    assert json.loads((tmp_path / "smoke-quick.json").read_text())["settings"]["threads"] == 1
    text = (tmp_path / "smoke-quick.md").read_text()
    for heading in ("Training steps", "Per-op overhead", "Memory", "Single ops", "Verification"):
        assert heading in text
