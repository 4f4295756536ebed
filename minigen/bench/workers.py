"""One process per contender: what is timed runs where it would run for a user, alone.

Timing several libraries inside one process distorts them. Each brings its own thread pools
(a pool's idle threads keep spinning for a while and steal a core from the next library),
and they share one heap: how glibc's malloc reuses, trims and page-faults memory for one
contender then depends on what the others hold (measured here: the hand-written GPT block
took 34 ms alone and 19 ms when minigen shared its process). So each contender gets its own
worker process, started with the thread variables set (threads.py), and the parent only
conducts: it asks the workers in turn for a visit (timing.py: settle, then a few samples in
a row), so the contenders still share the machine's good and bad moments.

The heap's behaviour also depends on glibc's malloc thresholds: by default large freed
blocks are given back to the kernel (trimmed, unmapped) and the next step faults them in
again, page by page, which can cost a step more than its arithmetic. minigen changes those
thresholds when it is imported (backend.keep_freed_memory); NumPy and PyTorch leave glibc's
defaults. run.py therefore times the CPU steps twice: as a user gets each contender (minigen
with its setting, the others with glibc's defaults: allocator_env) and with the allocator
*pinned* for all (MALLOC_PINNED: freed memory is kept and reused), which leaves the cost of
the computation itself, the same for every contender.

Protocol (multiprocessing pipes, "spawn" start): ("build", key, options) makes a case,
("visit", key, count) times it, ("drop", key) forgets it, ("stop",) ends the worker. A key is
("step", name, "full"|"tiny"), ("op", op, n) or ("chain", mode, length).
"""
import multiprocessing
import os
import traceback

from minigen.bench import threads as thread_control


# glibc's malloc told to keep freed memory: blocks up to 32 MiB (the largest threshold glibc
# accepts) come from the heap, and the heap is never trimmed below 1 GiB of free space.
MALLOC_PINNED = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def allocator_env(label):
    """What a contender's process gets of minigen's own allocator setting: minigen makes the
    same setting as MALLOC_PINNED when it is imported (backend.keep_freed_memory); the other
    contenders import minigen only for its device helpers, so they are told to leave glibc
    alone (MINIGEN_ALLOCATOR=system) and run as their users would run them."""
    return {} if label == "minigen" else {"MINIGEN_ALLOCATOR": "system"}


class WorkerError(RuntimeError):
    """A worker failed; the message carries its traceback."""


def contender_step(label, spec, device):
    """The step object of ``label`` ("minigen", "numpy", "torch") for ``spec``."""
    if label == "minigen":
        from minigen.bench.minigen_steps import minigen_step
        return minigen_step(spec, device)
    if label == "numpy":
        from minigen.bench.numpy_steps import NumpyStep
        return NumpyStep(spec, device)
    if label == "torch":
        from minigen.bench.torch_steps import torch_step
        return torch_step(spec, device)
    raise KeyError(f"unknown contender {label!r}")


def make_case(key, label, device):
    """(fn, sync) for ``key`` in contender ``label``."""
    from minigen.bench import ops, specs
    kind = key[0]
    if kind == "step":
        _, name, size = key
        step = contender_step(label, specs.STEPS[name]() if size == "full" else specs.tiny(name), device)
        return step.step, step.sync
    if kind == "op":
        _, op, n = key
        arrays, _ = ops.case_arrays(op, n)
        return (ops.minigen_case if label == "minigen" else ops.torch_case)(op, arrays, device)
    if kind == "chain":
        _, mode, length = key
        return ops.chain_cases(label, device, length)[mode]
    raise KeyError(f"unknown case {key!r}")


def serve(conn, label, device, threads):
    """The worker's loop (runs in the child process)."""
    import gc

    from minigen.bench import timing
    torch_threads = None
    if label == "torch":
        import torch
        torch.set_num_threads(threads)
        torch_threads = torch.get_num_threads()
    import minigen  # every worker imports the engine's backend (devices, sync)
    conn.send(("ready", {"pid": os.getpid(), "blas_threads": thread_control.blas_threads(),
                         "torch_threads": torch_threads, "freed_memory_kept": minigen.backend.freed_memory_kept,
                         "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}}))
    gc.collect()
    gc.freeze()   # the libraries' own objects: never walked by the collections inside a step
    visitors = {}
    while True:
        message = conn.recv()
        if message[0] == "stop":
            break
        try:
            if message[0] == "build":
                _, key, options = message
                fn, sync = make_case(key, label, device)
                visitors[key] = timing.Visitor(fn, sync, **options)
                result = None
            elif message[0] == "visit":
                _, key, count = message
                result = (visitors[key](count), visitors[key].inner)
            elif message[0] == "drop":
                visitors.pop(message[1], None)
                gc.collect()
                result = None
            else:
                raise ValueError(f"unknown request {message[0]!r}")
            conn.send(("ok", result))
        except Exception:  # noqa: BLE001 -- sent to the parent, which raises it
            conn.send(("error", traceback.format_exc()))
    conn.close()


class RemoteVisit:
    """A visit (timing.interleaved's protocol) served by a worker."""

    def __init__(self, workers, label, key):
        self.workers, self.label, self.key = workers, label, key
        self.inner = None

    def __call__(self, count):
        times, self.inner = self.workers.ask(self.label, "visit", self.key, count)
        return times


class Workers:
    """A worker process for each label, on ``device``, each with ``threads`` threads and the
    extra environment variables ``env`` (e.g. glibc malloc settings).

    with Workers(["minigen", "numpy"], "cpu", 2) as w:
        w.build(key, warmup=3, settle_s=0.2)
        timing.interleaved(w.visits(key), repeats=30, per_visit=5)
    """

    def __init__(self, labels, device, threads, env=None):
        self.labels, self.device = list(labels), device
        context = multiprocessing.get_context("spawn")
        extra = {**thread_control.env_with_threads(threads, base={}), **(env or {})}
        saved = {var: os.environ.get(var) for var in [*extra, "MINIGEN_ALLOCATOR"]}
        os.environ.update(extra)                      # read by the children when they start
        self.procs, self.conns, self.info = {}, {}, {}
        try:
            for label in self.labels:
                os.environ.pop("MINIGEN_ALLOCATOR", None)
                os.environ.update(allocator_env(label))   # read by this child when it starts
                parent, child = context.Pipe()
                proc = context.Process(target=serve, args=(child, label, device, threads), daemon=True,
                                       name=f"bench-{label}")
                proc.start()
                child.close()
                self.procs[label], self.conns[label] = proc, parent
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
        for label in self.labels:
            status, info = self._recv(label)
            self.info[label] = info

    def _recv(self, label):
        conn = self.conns[label]
        if not conn.poll(600):
            raise WorkerError(f"{label}: the worker did not answer in 600 s")
        try:
            return conn.recv()
        except EOFError:
            raise WorkerError(f"{label}: the worker died (exit code {self.procs[label].exitcode})") from None

    def ask(self, label, *message):
        self.conns[label].send(message)
        status, result = self._recv(label)
        if status == "error":
            raise WorkerError(f"{label} worker: {result}")
        return result

    def build(self, key, **options):
        for label in self.labels:
            self.ask(label, "build", key, options)

    def visits(self, key):
        return {label: RemoteVisit(self, label, key) for label in self.labels}

    def drop(self, key):
        for label in self.labels:
            self.ask(label, "drop", key)

    def close(self):
        for label, conn in self.conns.items():
            try:
                conn.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs.values():
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
