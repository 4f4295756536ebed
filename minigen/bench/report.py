"""Turn a results dict into files: <name>.json, <name>.md (the tables) and <name>-*.png (the plots)."""
import json
from pathlib import Path

from minigen.bench import machine
from minigen.bench.ops import SHAPES

# the CPU targets, each ratio measured side by side in one run:
# minigen / PyTorch CPU, each as its users run it (glibc as it comes for PyTorch, minigen's own setting)
TORCH_TARGETS = {"mlp": 1.0, "gan": 1.0, "cnn": 1.5, "gpt_block": 1.5}
# minigen / hand-written NumPy, both under the same allocator setting (the pinned pass)
STEP_TARGETS = {"mlp": 1.10, "cnn": 1.10, "gpt_block": 1.10, "gan": 1.10}
MEMORY_TARGET = 1.1                                           # the MLP loop's peak / hand-written NumPy's
# per-op overhead: at or below PyTorch's in the same run
GPU_TORCH_TARGETS = {"mlp": 2.0, "cnn": 2.0}                  # minigen-CuPy / PyTorch-CUDA
LABELS = {"minigen": "minigen", "numpy": "hand-written NumPy", "torch": "PyTorch"}


def base_name(results, name=None):
    name = name or machine.slug(results["machine"])
    return name + ("-quick" if results["settings"]["quick"] else "")


def write(results, out, name=None):
    """Write the JSON, the markdown and the plots; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = base_name(results, name)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    paths[0].write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    paths[1].write_text(markdown(results, stem) + "\n")
    paths += plots(results, out, stem)
    return paths


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


# ----- markdown -----
def _ms(summary):
    """'6.01 (1.79)': median (IQR) in ms; with several processes, their medians' range after it."""
    text = f"{summary['median_s'] * 1e3:.2f} ({summary['iqr_s'] * 1e3:.2f})"
    per_process = summary.get("process_medians_s") or []
    if len(per_process) > 1:
        text += f" [{min(per_process) * 1e3:.2f}-{max(per_process) * 1e3:.2f}]"
    return text


def _ratio(a, b):
    return a["median_s"] / b["median_s"]


def _mark(ok):
    return "yes" if ok else "**no**"


def _device_title(device):
    return "CPU (NumPy)" if device == "cpu" else f"GPU {device} (CuPy)"


def markdown(results, stem=None):
    m, s = results["machine"], results["settings"]
    v = m["versions"]
    lines = [f"# minigen benchmark: {m['cpu']}, {m['cores']} cores" + (f", {m['gpu']}" if m.get("gpu") else ""),
             "",
             f"{s['date']}{' (quick run)' if s['quick'] else ''}; {s['threads']} thread{'s' if s['threads'] != 1 else ''} "
             f"for every library ({s['thread_control']}; {_threads_seen(results)}); "
             f"float32; load average before {_load(s['load_average_before'])}, "
             f"after {_load(s.get('load_average_after'))}; other processes' share of the CPU time "
             f"during the run: {_share(s.get('others_cpu_share'))}; {s.get('seconds', 0):.0f} s in all.",
             "",
             "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + "." + _source(m.get("source")),
             "",
             f"Times are medians over {s['step_repeats']} steps, the interquartile range in parentheses. "
             f"Each contender ran in its own process, {s.get('step_processes', 1)} fresh processes one after "
             "another per step (a process's heap history alone moves a step's time): the range of their "
             "medians is in square brackets; read a ratio as uncertain by about that much. The contenders' "
             "processes took turns (visits of "
             f"{s['step_per_visit']} consecutive steps, each after {s['settle_s']} s of untimed steps, "
             f"and {s['step_warmup']} warm-up steps before the first). "
             "Every contender's loss, gradients and updated parameters were checked against minigen's "
             "before timing (see Verification).", ""]
    for device, data in results["devices"].items():
        lines += _steps_tables(device, data)
    lines += _per_op_table(results)
    lines += _memory_table(results)
    if "cpu" in results["devices"] and any(d != "cpu" for d in results["devices"]):
        lines += _gpu_table(results)
    lines += _ops_table(results)
    lines += _verification_table(results)
    if results.get("notes"):
        lines += ["## Notes", ""] + [f"- {note}" for note in results["notes"]] + [""]
    if stem:
        lines += ["## Plots", "", f"![time vs size]({stem}-ops.png)", "",
                  f"![minigen / hand-written NumPy per step]({stem}-ratio.png)", ""]
        if any(d != "cpu" for d in results["devices"]):
            lines += [f"![GPU speed-up]({stem}-gpu-speedup.png)", ""]
    return "\n".join(lines)


def _source(source):
    if not source:
        return ""
    dirty = " plus uncommitted changes in minigen/" if source["minigen_has_uncommitted_changes"] else ""
    return f" Source: commit {source['commit'][:10]}{dirty}."


def _threads_seen(results):
    """'threads seen: minigen BLAS 2, numpy BLAS 2, torch 2' from the workers' reports."""
    seen = []
    for device, data in results["devices"].items():
        for label, info in data.get("workers", {}).items():
            n = info.get("torch_threads") if label == "torch" else info.get("blas_threads")
            seen.append(f"{label} {'torch' if label == 'torch' else 'BLAS'} {'?' if n is None else n}")
        break
    return "threads seen: " + ", ".join(seen) if seen else "threads not reported"


def _share(share):
    return "unknown" if share is None else f"{100 * share:.0f}%"


def _load(load):
    return "?" if load is None else "/".join(f"{x:.2f}" for x in load)


def _steps_tables(device, data):
    lines = _steps_table(device, data["steps"], f"## Training steps, {_device_title(device)}",
                         data.get("others_cpu_share", {}).get("steps"), against="torch")
    pinned = data.get("steps_malloc_pinned")
    if pinned:
        env = " ".join(f"{k}={v}" for k, v in pinned["env"].items())
        lines += _steps_table(
            device, pinned["steps"], f"## Training steps, {_device_title(device)}, glibc malloc pinned",
            data.get("others_cpu_share", {}).get("steps_malloc_pinned"),
            "The same steps, each contender's process started with " f"`{env}`: freed memory stays "
            "mapped and is reused, so no step pays for the kernel faulting in pages that the previous "
            "step gave back. What remains is the cost of the computation (and of the engine).",
            against="numpy")
    return lines


def _steps_table(device, steps, heading, share, preamble=None, against="numpy"):
    """One table of step times. On the CPU its target column marks minigen against the
    hand-written step (``against`` "numpy") or against PyTorch ("torch")."""
    cpu = device == "cpu"
    hand = "hand-written NumPy" if cpu else "hand-written CuPy"
    torch_name = "PyTorch CPU" if cpu else "PyTorch CUDA"
    lines = [heading, ""] + ([preamble, ""] if preamble else []) + [
             f"Other processes' share of the CPU time while these were timed: {_share(share)}.", "",
             f"| step | minigen ms | {hand} ms | minigen / hand | target | {torch_name} ms | "
             f"{torch_name} / hand | minigen / {torch_name} |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for name, step in steps.items():
        c = step["contenders"]
        mg, hand_t, th = c["minigen"], c.get("numpy"), c.get("torch")
        ratio = _ratio(mg, hand_t) if hand_t else None
        if cpu and against == "numpy" and name in STEP_TARGETS and ratio is not None:
            target = f"minigen <= {STEP_TARGETS[name]:.2f}x hand: {_mark(ratio <= STEP_TARGETS[name])}"
        elif cpu and against == "torch" and name in TORCH_TARGETS and th:
            r = _ratio(mg, th)
            target = f"minigen <= {TORCH_TARGETS[name]:.2f}x PyTorch: {_mark(r <= TORCH_TARGETS[name])}"
        elif not cpu and name in GPU_TORCH_TARGETS and th:
            r = _ratio(mg, th)
            target = f"minigen <= {GPU_TORCH_TARGETS[name]:.0f}x torch: {_mark(r <= GPU_TORCH_TARGETS[name])}"
        else:
            target = ""
        lines.append(" | ".join([
            f"| {step['title']}", _ms(mg), _ms(hand_t) if hand_t else "-",
            f"{ratio:.2f}x" if ratio is not None else "-", target, _ms(th) if th else "-",
            f"{_ratio(th, hand_t):.2f}x" if th and hand_t else "-",
            f"{_ratio(mg, th):.2f}x |" if th else "- |"]))
    return lines + [""]


def _per_op_table(results):
    lines = ["## Per-op overhead", "",
             "A chain of elementwise ops on 16x16 tensors (y*w, y+b, tanh, y*0.5, repeated), "
             "microseconds per op, median (IQR).", "",
             "| device | minigen fwd+bwd us/op | minigen fwd us/op | PyTorch fwd+bwd us/op | PyTorch fwd us/op | target |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for device, data in results["devices"].items():
        r = data["per_op"]["results"]

        def cell(lib, mode):
            if lib not in r:
                return "-"
            return f"{r[lib][mode]['per_op_us']:.1f} ({r[lib][mode]['per_op_iqr_us']:.1f})"
        mg = r["minigen"]["fwd_bwd"]["per_op_us"]
        torch_us = r["torch"]["fwd_bwd"]["per_op_us"] if "torch" in r else None
        target = (f"<= PyTorch's: {_mark(mg <= torch_us)}" if device == "cpu" and torch_us is not None else "")
        lines.append(f"| {device} | {cell('minigen', 'fwd_bwd')} | {cell('minigen', 'fwd')} | "
                     f"{cell('torch', 'fwd_bwd')} | {cell('torch', 'fwd')} | {target} |")
    lines[2] = lines[2].replace("elementwise ops", f"{results['devices'][next(iter(results['devices']))]['per_op']['chain_length']} elementwise ops")
    return lines + [""]


def _memory_table(results):
    mem = results.get("memory")
    if not mem:
        return []
    r = mem["results"]
    base = r["numpy"]["loop_bytes"]
    lines = ["## Memory: peak resident memory of a 100-step MLP training loop (CPU)", "",
             f"Method: {mem['method']}.", "",
             "| contender | loop peak MiB | / hand-written NumPy | target |", "| --- | ---: | ---: | --- |"]
    for label, rep in r.items():
        ratio = rep["loop_bytes"] / base
        target = f"<= {MEMORY_TARGET}x: {_mark(ratio <= MEMORY_TARGET)}" if label == "minigen" else ""
        lines.append(f"| {LABELS.get(label, label)} | {rep['loop_bytes'] / 2**20:.1f} | {ratio:.2f}x | {target} |")
    return lines + [""]


def _gpu_table(results):
    cpu = results["devices"]["cpu"]["steps"]
    lines = []
    for device, data in results["devices"].items():
        if device == "cpu":
            continue
        lines += [f"## GPU speed-up over the CPU, training steps ({device})", "",
                  "| step | minigen CPU / CuPy | hand NumPy / CuPy | PyTorch CPU / CUDA |", "| --- | ---: | ---: | ---: |"]
        for name, step in data["steps"].items():
            cells = []
            for label in ("minigen", "numpy", "torch"):
                a, b = cpu.get(name, {}).get("contenders", {}).get(label), step["contenders"].get(label)
                cells.append(f"{_ratio(a, b):.1f}x" if a and b else "-")
            lines.append(f"| {step['title']} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _ops_table(results):
    devices = list(results["devices"])
    cols = [(d, lib) for d in devices for lib in ("minigen", "torch")]
    shares = ", ".join(f"{d} {_share(results['devices'][d].get('others_cpu_share', {}).get('ops'))}"
                       for d in devices)
    lines = ["## Single ops, forward + backward, ms (median)", "",
             f"Other processes' share of the CPU time while these (and the per-op chain) were timed: {shares}.", "",
             "| op | shape | " + " | ".join(f"{LABELS[lib]} {d}" for d, lib in cols) +
             (" | minigen GPU speed-up |" if len(devices) > 1 else " |"),
             "| --- | --- | " + " | ".join("---:" for _ in cols) + (" | ---: |" if len(devices) > 1 else " |")]
    first = results["devices"][devices[0]]["ops"]
    for op, rows in first.items():
        for i, row in enumerate(rows):
            cells = []
            for d, lib in cols:
                rr = results["devices"][d]["ops"][op][i]["contenders"].get(lib)
                cells.append(f"{rr['median_s'] * 1e3:.3f}" if rr else "-")
            line = f"| {op} | {row['shape']} | " + " | ".join(cells)
            if len(devices) > 1:
                gpu = results["devices"][devices[1]]["ops"][op][i]["contenders"]["minigen"]
                line += f" | {_ratio(row['contenders']['minigen'], gpu):.1f}x"
            lines.append(line + " |")
    return lines + [""]


def _verification_table(results):
    lines = ["## Verification (before timing)", "",
             "max |a - b| / max |b| against minigen (b), per parameter, worst reported.", "",
             "| device | step | contender | loss | gradients | parameters after one step | tolerance |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for device, data in results["devices"].items():
        for name, reports in data["verification"].items():
            for label, r in reports.items():
                lines.append(f"| {device} | {name} | {LABELS.get(label, label)} | {r['loss_rel_err']:.1e} | "
                             f"{r['max_grad_rel_err']:.1e} | {r['max_param_rel_err']:.1e} | {r['tolerance']:.0e} |")
    return lines + [""]


# ----- plots -----
STYLE = {("minigen", "cpu"): ("tab:blue", "-", "minigen (NumPy)"),
         ("torch", "cpu"): ("tab:orange", "--", "PyTorch CPU"),
         ("minigen", "gpu"): ("tab:green", "-", "minigen (CuPy)"),
         ("torch", "gpu"): ("tab:red", "--", "PyTorch CUDA")}


def plots(results, out, stem):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = [_plot_ops(results, out / f"{stem}-ops.png", plt), _plot_ratios(results, out / f"{stem}-ratio.png", plt)]
    if any(d != "cpu" for d in results["devices"]):
        paths.append(_plot_speedup(results, out / f"{stem}-gpu-speedup.png", plt))
    return paths


def _plot_ops(results, path, plt):
    ops = list(next(iter(results["devices"].values()))["ops"])
    fig, axes = plt.subplots(1, len(ops), figsize=(4 * len(ops), 3.6))
    for ax, op in zip(axes, ops):
        for device, data in results["devices"].items():
            rows = data["ops"][op]
            for lib in ("minigen", "torch"):
                if lib not in rows[0]["contenders"]:
                    continue
                color, ls, label = STYLE[(lib, "cpu" if device == "cpu" else "gpu")]
                x = [r["size"] for r in rows]
                med = [r["contenders"][lib]["median_s"] * 1e3 for r in rows]
                lo = [m - r["contenders"][lib]["q1_s"] * 1e3 for m, r in zip(med, rows)]
                hi = [r["contenders"][lib]["q3_s"] * 1e3 - m for m, r in zip(med, rows)]
                ax.errorbar(x, med, yerr=[lo, hi], color=color, ls=ls, marker="o", ms=3, capsize=2, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(op)
        ax.set_xlabel(f"n: {SHAPES[op].format(n='n')}" if op in SHAPES else "n", fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("forward + backward, ms")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Single ops vs size ({results['machine']['cpu']}, {results['settings']['threads']} threads)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_ratios(results, path, plt):
    bars = []  # (group label, contender, value, target)
    groups_of_steps = []
    for device, data in results["devices"].items():
        tag = "CPU" if device == "cpu" else "GPU"
        groups_of_steps.append((device, tag, data["steps"]))
        if data.get("steps_malloc_pinned"):
            groups_of_steps.append((device, "CPU, malloc\npinned", data["steps_malloc_pinned"]["steps"]))
    for device, tag, steps in groups_of_steps:
        for name, step in steps.items():
            c = step["contenders"]
            if "numpy" not in c:
                continue
            pinned = tag.startswith("CPU, malloc")        # where minigen / hand has its target
            bars.append((f"{name}\n{tag}", "minigen", _ratio(c["minigen"], c["numpy"]), STEP_TARGETS.get(name)
                         if pinned else None))
            if "torch" in c:
                bars.append((f"{name}\n{tag}", "PyTorch", _ratio(c["torch"], c["numpy"]), None))
    groups = list(dict.fromkeys(b[0] for b in bars))
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(groups) + 1), 4))
    width = 0.38
    for i, group in enumerate(groups):
        for b in bars:
            if b[0] != group:
                continue
            offset = -width / 2 if b[1] == "minigen" else width / 2
            color = "tab:blue" if b[1] == "minigen" else "tab:orange"
            ax.bar(i + offset, b[2], width, color=color, label=b[1] if i == 0 else None)
            ax.text(i + offset, b[2], f"{b[2]:.2f}", ha="center", va="bottom", fontsize=7)
            if b[3]:
                ax.hlines(b[3], i - width, i + width, colors="k", linestyles=":",
                          label="target" if i == 0 else None)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xticks(range(len(groups)), groups, fontsize=7)
    ax.set_ylabel("time / hand-written NumPy time")
    ax.set_title("Training step cost relative to hand-written NumPy (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_speedup(results, path, plt):
    cpu = results["devices"]["cpu"] if "cpu" in results["devices"] else None
    gpus = [d for d in results["devices"] if d != "cpu"]
    ops = list(results["devices"][gpus[0]]["ops"])
    fig, axes = plt.subplots(1, len(ops), figsize=(4 * len(ops), 3.6))
    for ax, op in zip(axes, ops):
        for lib in ("minigen", "torch"):
            if cpu is None or lib not in cpu["ops"][op][0]["contenders"]:
                continue
            rows_c, rows_g = cpu["ops"][op], results["devices"][gpus[0]]["ops"][op]
            x = [r["size"] for r in rows_c]
            y = [_ratio(a["contenders"][lib], b["contenders"][lib]) for a, b in zip(rows_c, rows_g)]
            color, ls, _ = STYLE[(lib, "gpu")]
            ax.plot(x, y, color=color, ls=ls, marker="o", ms=3, label=f"{LABELS[lib]}: CPU time / GPU time")
        ax.axhline(1.0, color="gray", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(op)
        ax.set_xlabel("n")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("GPU speed-up")
    axes[0].legend(fontsize=7)
    fig.suptitle("GPU speed-up over the CPU vs size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
