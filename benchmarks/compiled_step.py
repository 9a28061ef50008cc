"""Compiled training step: eager vs ``torch.compile(dynamic=True)``, achieved GFLOP/s against a plain matmul's peak.

One process, the CPU threads the training stages use (``runtime.cpu_threads``).
The default network (``params/config.yaml`` ``model``) takes the same batches
(batch 32 from the packed store) through forward + training loss + backward +
clipping + Adam, eager and compiled (``graphqa.models.compile``, what
``trainer.compile=on`` does), the two measured interleaved, rep by rep, after
warm-up. The compile time is the first compiled step's wall time minus an
eager step's (forward and backward graphs are compiled there); divided by the
time one step saves it gives the break-even run length that
``trainer.compile=auto`` uses (``AUTO_MIN_STEPS``).

Floating-point work of a step is counted from the layer sizes and each batch's
nodes and edges (:func:`step_flops`: multiply-adds of every Linear as 2 FLOPs,
GATv2's attention and aggregation element-wise, backward as twice the
forward); achieved GFLOP/s = that count / step time. The machine's peak is the
median GFLOP/s of a plain fp32 matmul (``PEAK_N`` square) in the same process,
same threads, measured between the step measurements. A profile of one
compiled step lists where its time goes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from benchmarks.common import Dataset, Settings, default_params, median, summary

log = logging.getLogger("benchmarks.compiled_step")

BATCH_SIZE = 32
PEAK_N = 512


def step_flops(model: Any, nodes: int, edges: int, graphs: int, node_dim: int, edge_dim: int) -> dict[str, float]:
    """FLOPs of one training step of the ``gatv2_edge`` network (``model``: ``ModelParams``) on one batch.

    Forward: node encoder, edge encoder, per layer GATv2Conv (``lin_l``/``lin_r``
    over nodes, ``lin_edge`` over edges + self-loops, attention
    ``a·leaky_relu(x_i + x_j + e)`` and softmax, weighted aggregation) and the
    edge update, pooling, readout. Backward counted as 2x forward (gradients of
    inputs and of weights). Element-wise activations, dropout and LayerNorm are
    counted as a few FLOPs per element; they are < 10% of the total.
    """
    h, eh, heads, layers = model.hidden_dim, model.edge_hidden_dim, model.heads, model.num_layers
    loops = edges + nodes  # GATv2Conv adds one self-loop per node
    fwd = 2.0 * nodes * node_dim * h + 2 * nodes * h  # node encoder + activation
    fwd += 2.0 * edges * edge_dim * eh
    if model.edge_encoder == "layernorm":
        fwd += 8.0 * edges * eh + 2.0 * edges * eh * eh
    for _ in range(layers):
        fwd += 2 * (2.0 * nodes * h * heads * h)  # lin_l, lin_r
        fwd += 2.0 * loops * eh * heads * h  # lin_edge
        fwd += loops * heads * h * (2 + 1 + 2)  # x_i + x_j + e, leaky_relu, dot with att
        fwd += loops * heads * 5  # softmax over each node's incoming edges
        fwd += loops * heads * h * 2  # alpha * x_j, scatter-add
        fwd += nodes * heads * h + 3.0 * nodes * h  # head mean, bias, activation
        if model.edge_update:
            fwd += 2.0 * edges * (2 * h + eh) * eh + 2.0 * edges * eh * eh + 3.0 * edges * eh
    fwd += nodes * h + edges * eh  # pooling
    fwd += 2.0 * graphs * ((h + eh) * model.readout_hidden + model.readout_hidden)
    return {"forward": fwd, "step": 3.0 * fwd}


def matmul_peak_gflops(reps: int, n: int = PEAK_N) -> float:
    """Median GFLOP/s of an ``n``-square fp32 matmul (``2 n^3`` FLOPs) with the current thread count."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(max(5, reps * 5)):
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        rates.append(4 * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return median(rates)


def _timed_steps(step: Any, batches: list[Any]) -> float:
    """Median ms of one step over ``batches``."""
    times = []
    for batch in batches:
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    return 1000 * median(times)


def _profile(step: Any, batches: list[Any], top: int = 8) -> list[dict[str, Any]]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in batches:
            step(batch)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    return [{"op": e.key[:80], "calls": e.count, "self_ms": round(e.self_cpu_time_total / 1000 / len(batches), 3),
             "share": round(e.self_cpu_time_total / total, 3)} for e in events[:top]]


def run(data: Dataset, settings: Settings) -> dict[str, Any]:
    import torch

    from benchmarks.train_step import _batches, _step_fn, _trainer_parts, project_threads
    from graphqa.data import PackedGraphStore
    from graphqa.models.compile import AUTO_MIN_STEPS, compile_network, is_compiled

    store = PackedGraphStore.open(data.packed / "train")
    params = default_params()
    count = settings.compile_steps
    batches = _batches(store, BATCH_SIZE, count + 2)
    default_threads = torch.get_num_threads()
    threads = project_threads(params)
    torch.set_num_threads(threads)
    try:
        eager_model, eager_opt = _trainer_parts(store, params, "cpu")
        compiled_model, compiled_opt = _trainer_parts(store, params, "cpu")
        compile_network(compiled_model, "on", backend=settings.compile_backend)
        eager = _step_fn(eager_model, eager_opt, params, contextlib.nullcontext)
        compiled = _step_fn(compiled_model, compiled_opt, params, contextlib.nullcontext)
        start = time.perf_counter()
        eager(batches[0])
        eager_first = time.perf_counter() - start
        start = time.perf_counter()
        compiled(batches[0])  # compiles forward and backward
        compiled_first = time.perf_counter() - start
        if not is_compiled(compiled_model):
            raise RuntimeError("compilation fell back to eager; no compiled figure to report")
        compiled(batches[1])  # a second shape: dynamic shapes must not recompile (timed below anyway)
        eager(batches[1])
        eager_ms, compiled_ms, peak = [], [], []
        for rep in range(settings.reps):  # side by side: every rep measures both and the matmul peak
            eager_ms.append(_timed_steps(eager, batches[2:]))
            compiled_ms.append(_timed_steps(compiled, batches[2:]))
            peak.append(matmul_peak_gflops(1))
            log.info("compiled step: rep %d/%d done", rep + 1, settings.reps)
        profile = _profile(compiled, batches[2:2 + min(5, count)])
    finally:
        torch.set_num_threads(default_threads)

    timed = batches[2:]
    flops = median([step_flops(params.model, b.num_nodes, b.num_edges, b.num_graphs, store.node_dim,
                               store.edge_dim)["step"] for b in timed])
    e_ms, c_ms, peak_g = median(eager_ms), median(compiled_ms), median(peak)
    saved_ms = e_ms - c_ms
    compile_s = compiled_first - eager_first
    return {
        "batch_size": BATCH_SIZE, "threads": threads, "backend": settings.compile_backend, "steps_per_rep": len(timed),
        "mean_nodes": round(sum(b.num_nodes for b in timed) / len(timed), 1),
        "mean_edges": round(sum(b.num_edges for b in timed) / len(timed), 1),
        "eager_step_ms": summary(eager_ms, 2), "compiled_step_ms": summary(compiled_ms, 2),
        "speedup": round(e_ms / c_ms, 3) if c_ms else None,
        "compile_s": round(compile_s, 2), "first_step_s": {"eager": round(eager_first, 3), "compiled": round(compiled_first, 2)},
        "break_even_steps": round(compile_s / (saved_ms / 1000)) if saved_ms > 0 else None,
        "auto_min_steps": AUTO_MIN_STEPS,
        "step_gflop": round(flops / 1e9, 4),
        "gflops": {"eager": round(flops / (e_ms / 1000) / 1e9, 3), "compiled": round(flops / (c_ms / 1000) / 1e9, 3)},
        "peak_gflops": summary(peak, 2), "peak_matmul_n": PEAK_N,
        "share_of_peak": {"eager": round(flops / (e_ms / 1000) / 1e9 / peak_g, 4),
                          "compiled": round(flops / (c_ms / 1000) / 1e9 / peak_g, 4)},
        "profile_compiled": profile,
    }
