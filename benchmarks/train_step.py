"""Training step: graphs/s of forward + loss + backward + clipping + optimizer step of the default network.

The default TopoQA network (``params/config.yaml`` ``model``), the real
training loss (``graphqa.training.losses.training_loss`` with the default
priors), Adam at the default learning rate, gradient-norm clipping at the
default 1.0: what ``GraphQAModule`` does per step, without Lightning around
it. Batches come from the packed store, assembled before timing (assembly is
measured by the data-path group). fp32 on CPU with torch's default thread
count, with one thread and with ``runtime.cpu_threads`` (what the training
stages set); and again at batch 16 while one other
process keeps one core busy (as a second sweep member of ``dvc queue start -j 2``,
or a DataLoader worker, would): torch's OpenMP threads wait on each other at
every parallel operation, and a thread that shares its core waits for the
scheduler. On a
CUDA device: fp32 vs bf16-mixed (autocast) at each batch size, and the GPU's
busy share of an epoch; without one the GPU entries say so.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.common import Dataset, Settings, default_params, median, summary

log = logging.getLogger("benchmarks.train_step")


def _batches(store: Any, batch_size: int, count: int) -> list[Any]:
    from graphqa.data import GraphBatchSampler

    sampler = GraphBatchSampler(len(store), batch_size, shuffle=True, seed=7)
    out: list[Any] = []
    while len(out) < count:
        for indices in sampler:
            out.append(store.batch(indices))
            if len(out) == count:
                break
        sampler.set_epoch(sampler.epoch + 1)
    return out


def _trainer_parts(store: Any, params: Any, device: str) -> tuple[Any, Any]:
    import torch

    from graphqa.models import build_model

    torch.manual_seed(params.seed)
    model = build_model(params.model.arch, store.node_dim, store.edge_dim, params.model).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=params.optimizer.lr)
    return model, optimizer


def _step_fn(model: Any, optimizer: Any, params: Any, autocast: Any) -> Any:
    import torch

    from graphqa.training.losses import training_loss

    clip = params.trainer.gradient_clip_val

    def step(batch: Any) -> Any:
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            pred = model(batch)
        loss = training_loss(pred, batch.y, batch.target, params.loss).total
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return loss

    return step


# A measurement stops after this many seconds once it has 3 timed steps: on a loaded machine a
# step with contended threads can take seconds, and `make bench` must stay within its budget.
MAX_SECONDS = 8.0


def _graphs_per_s(step: Any, batches: list[Any], steps: int, warmup: int, sync: Any) -> float:
    for batch in batches[:warmup]:
        step(batch)
    sync()
    start = time.perf_counter()
    graphs = 0
    for i in range(steps):
        batch = batches[(warmup + i) % len(batches)]
        step(batch)
        graphs += batch.num_graphs
        if i >= 2 and time.perf_counter() - start > MAX_SECONDS:
            break
    sync()
    return graphs / (time.perf_counter() - start)


def project_threads(params: Any) -> int:
    """Intra-op threads the training stages use on the CPU (``runtime.cpu_threads``; 0 or absent: torch's default)."""
    import torch

    threads = int(getattr(params.runtime, "cpu_threads", 0) or getattr(params.trainer, "cpu_threads", 0) or 0)
    return threads or torch.get_num_threads()


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """One other process spinning on a core for the duration (a stand-in for a concurrent job)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        yield
    finally:
        proc.kill()
        proc.wait()


def cpu_throughput(store: Any, params: Any, settings: Settings) -> list[dict[str, Any]]:
    import torch

    default_threads = torch.get_num_threads()
    ours = project_threads(params)
    thread_counts = sorted({default_threads, ours, 1}, reverse=True)
    contended_bs = settings.batch_sizes[0]
    batches = {bs: _batches(store, bs, settings.step_counts[bs] + 2) for bs in settings.batch_sizes}
    keys = [(t, bs, False) for t in thread_counts for bs in settings.batch_sizes]
    contended = settings.mode == "full"  # the smoke run skips it: on a loaded machine it can take long
    keys += [(t, contended_bs, True) for t in thread_counts] if contended else []
    results: dict[tuple[int, int, bool], list[float]] = {k: [] for k in keys}

    def measure(threads: int, bs: int) -> float:
        torch.set_num_threads(threads)
        model, optimizer = _trainer_parts(store, params, "cpu")
        step = _step_fn(model, optimizer, params, contextlib.nullcontext)
        return _graphs_per_s(step, batches[bs], settings.step_counts[bs], 1 if settings.mode == "quick" else 2,
                             lambda: None)

    try:
        for rep in range(settings.reps):
            for threads in thread_counts:  # side by side: each rep runs every setting
                for bs in settings.batch_sizes:
                    results[(threads, bs, False)].append(measure(threads, bs))
            if contended:
                with busy_core():
                    for threads in thread_counts:
                        results[(threads, contended_bs, True)].append(measure(threads, contended_bs))
            log.info("train step: rep %d/%d done", rep + 1, settings.reps)
    finally:
        torch.set_num_threads(default_threads)
    rows = []
    for (threads, bs, busy), rates in results.items():
        gps = median(rates)
        rows.append({"device": "cpu", "precision": "32-true", "threads": threads, "default_threads": threads == default_threads,
                     "project_threads": threads == ours, "contended": busy, "batch_size": bs, "graphs_per_s": summary(rates, 1),
                     "step_ms": round(1000 * bs / gps, 2)})
    return rows


def gpu_throughput(store: Any, params: Any, settings: Settings) -> dict[str, Any]:
    """fp32 vs bf16-mixed graphs/s per batch size, and the GPU busy share of one epoch (bf16-mixed, batch 128)."""
    import torch

    if not torch.cuda.is_available():
        return {"status": "no GPU", "rows": [], "busy_share": None}
    bf16 = torch.cuda.is_bf16_supported()
    precisions = ["32-true"] + (["bf16-mixed"] if bf16 else [])
    rows = []
    for bs in settings.batch_sizes:
        batches = [b.to("cuda") for b in _batches(store, bs, max(20, settings.step_counts[bs] * 4))]
        rates: dict[str, list[float]] = {p: [] for p in precisions}
        for _ in range(settings.reps):
            for precision in precisions:
                model, optimizer = _trainer_parts(store, params, "cuda")
                autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if precision == "bf16-mixed" \
                    else contextlib.nullcontext
                step = _step_fn(model, optimizer, params, autocast)
                rates[precision].append(_graphs_per_s(step, batches, len(batches), 3, torch.cuda.synchronize))
        for precision in precisions:
            rows.append({"device": "cuda", "precision": precision, "batch_size": bs, "graphs_per_s": summary(rates[precision], 1)})
    return {"status": "ok", "device": torch.cuda.get_device_name(0), "rows": rows,
            "busy_share": gpu_busy_share(store, params, "bf16-mixed" if bf16 else "32-true")}


def gpu_busy_share(store: Any, params: Any, precision: str, batch_size: int = 128) -> dict[str, Any]:
    """Share of one epoch's wall time with a CUDA kernel running (torch profiler), data path included.

    The epoch runs the packed-store loader (pinned memory, non-blocking copies) into the training step.
    """
    import torch
    from torch.profiler import ProfilerActivity, profile
    from torch.utils.data import DataLoader

    from graphqa.data import BatchView, GraphBatchSampler

    model, optimizer = _trainer_parts(store, params, "cuda")
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if precision == "bf16-mixed" else contextlib.nullcontext
    step = _step_fn(model, optimizer, params, autocast)
    loader = DataLoader(BatchView(store), sampler=GraphBatchSampler(len(store), batch_size, shuffle=True, seed=1),
                        batch_size=None, pin_memory=True)
    for batch in loader:  # warm-up epoch
        step(batch.to("cuda", non_blocking=True))
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        for batch in loader:
            step(batch.to("cuda", non_blocking=True))
        torch.cuda.synchronize()
        wall = time.perf_counter() - start
    intervals = sorted(
        (e.time_range.start, e.time_range.end) for e in prof.events()
        if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA
    )
    busy_us, current = 0.0, None
    for begin, end in intervals:  # union of kernel intervals (µs)
        if current is None or begin > current[1]:
            if current is not None:
                busy_us += current[1] - current[0]
            current = [begin, end]
        else:
            current[1] = max(current[1], end)
    if current is not None:
        busy_us += current[1] - current[0]
    return {"precision": precision, "batch_size": batch_size, "epoch_s": round(wall, 4),
            "busy_share": round(busy_us / 1e6 / wall, 3) if wall > 0 else None}


def run(data: Dataset, settings: Settings) -> dict[str, Any]:
    from graphqa.data import PackedGraphStore

    store = PackedGraphStore.open(data.packed / "train")
    params = default_params()
    result: dict[str, Any] = {"model": params.to_dict()["model"], "cpu": cpu_throughput(store, params, settings)}
    try:
        result["gpu"] = gpu_throughput(store, params, settings)
    except Exception as exc:  # a GPU problem must not cost the CPU figures
        log.exception("GPU measurement failed")
        result["gpu"] = {"status": f"failed: {type(exc).__name__}: {exc}", "rows": [], "busy_share": None}
    return result
