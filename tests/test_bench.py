"""The benchmark harness (minigen/bench/): the hand-written baselines compute minigen's step, the
check that says so catches a wrong one, and the whole pipeline runs end to end on tiny
problems. No assertion here depends on how fast anything ran."""
import json
import os

import numpy as np
import pytest

import minigen as mg
from minigen.bench import memory, ops, report, run, specs, threads, timing, verify
from minigen.bench.minigen_steps import minigen_step
from minigen.bench.numpy_steps import NumpyStep

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
    from minigen.bench.torch_steps import torch_step
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


def test_interleaved_visits_every_contender_in_rotating_order():
    calls = []
    visits = {c: (lambda count, c=c: [calls.append(c) or 1.0 for _ in range(count)]) for c in "abc"}
    out = timing.interleaved(visits, repeats=5, per_visit=2)
    assert "".join(calls) == "aabbcc" + "bbccaa" + "cab"      # 2 + 2 + 1 samples each, order rotating
    assert all(out[c]["n"] == 5 for c in "abc")


def test_a_visit_settles_then_times_consecutive_calls():
    calls = []
    visit = timing.local_visit(lambda: calls.append(1), lambda: None, warmup=2, settle_s=0.0)
    times = visit(3)
    assert len(times) == 3 and visit.inner == 1
    assert len(calls) == 2 + 1 + 3                            # warm-up, one settling call, 3 samples


def test_workers_time_each_contender_in_its_own_process():
    from minigen.bench.workers import Workers
    key = ("step", "mlp", "tiny")
    with Workers(["minigen", "numpy"], "cpu", threads=1) as workers:
        workers.build(key, warmup=1, settle_s=0.0)
        out = timing.interleaved(workers.visits(key), repeats=2, per_visit=1)
        pids = {info["pid"] for info in workers.info.values()}
    assert set(out) == {"minigen", "numpy"} and all(r["n"] == 2 and r["median_s"] > 0 for r in out.values())
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(info["blas_threads"] in (1, None) for info in workers.info.values())



@pytest.mark.skipif(not mg.backend.freed_memory_kept, reason="minigen's allocator setting is for glibc")
def test_minigen_keeps_freed_memory_and_the_other_contenders_run_as_their_users_would():
    from minigen.bench.workers import MALLOC_PINNED, Workers
    with Workers(["minigen", "numpy"], "cpu", threads=1) as workers:
        assert workers.info["minigen"]["freed_memory_kept"] and not workers.info["numpy"]["freed_memory_kept"]
        assert all(info["malloc_env"] == {} for info in workers.info.values())
    with Workers(["minigen", "numpy"], "cpu", threads=1, env=MALLOC_PINNED) as workers:   # the same for all
        assert all(info["malloc_env"] == MALLOC_PINNED for info in workers.info.values())
    assert "MINIGEN_ALLOCATOR" not in os.environ


def test_memory_child_reports_a_positive_loop_peak(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # the child is started by module name: any working directory will do
    rep = memory.measure("numpy", 2, threads.env_with_threads(1), size="tiny")
    assert rep["peak_bytes"] >= rep["baseline_bytes"] > 0


def test_results_go_to_the_working_directory_never_into_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run.default_out() == "bench-results"
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)   # a source checkout's root
    assert run.default_out() == "benchmarks/results"


def test_whole_pipeline_on_tiny_problems(tmp_path):
    """collect -> write: JSON, markdown and plots, with every section filled in."""
    cfg = {"step_repeats": 2, "step_processes": 2, "step_per_visit": 1, "step_warmup": 1, "settle_s": 0.0, "op_repeats": 2,
           "op_per_visit": 1, "op_min_sample_s": 0.0, "chain_length": 8, "chain_repeats": 2,
           "memory_steps": 2, "memory_size": "tiny", "torch": False, "malloc_pinned": True}
    sizes = {op: [4] if op != "conv_transpose2d" else [2] for op in ops.SIZES}
    results = run.collect("cpu", quick=True, threads=1, cfg=cfg, size="tiny", op_sizes=sizes)
    cpu = results["devices"]["cpu"]
    assert set(cpu["steps"]) >= set(STEPS) and set(cpu["steps_malloc_pinned"]["steps"]) == set(cpu["steps"])
    assert all({"minigen", "numpy"} <= set(s["contenders"]) for s in cpu["steps"].values())
    assert all(len(t["process_medians_s"]) == 2 and t["n"] == 2
               for s in cpu["steps"].values() for t in s["contenders"].values())
    assert set(cpu["ops"]) == set(ops.SIZES)
    assert cpu["per_op"]["results"]["minigen"]["fwd_bwd"]["per_op_us"] > 0
    assert set(results["memory"]["results"]) >= {"minigen", "numpy"}
    paths = report.write(results, tmp_path, name="smoke")
    assert sorted(p.name for p in paths) == ["smoke-quick-ops.png", "smoke-quick-ratio.png",
                                             "smoke-quick.json", "smoke-quick.md"]
    assert json.loads((tmp_path / "smoke-quick.json").read_text())["settings"]["threads"] == 1
    text = (tmp_path / "smoke-quick.md").read_text()
    for heading in ("Training steps", "malloc pinned", "Per-op overhead", "Memory", "Single ops", "Verification"):
        assert heading in text
