"""Data path: the TopoQA-style per-file loader vs the packed store, same graphs, same batch sizes.

Baseline: ``torch_geometric.loader.DataLoader`` over a dataset whose item ``i``
is ``torch.load`` of graph file ``i`` (PyG ``Data``, weights_only with PyG's
classes allowed), shuffled, with 0 and 2 workers. Ours: ``DataLoader(BatchView(store),
sampler=GraphBatchSampler(...), batch_size=None)`` exactly as ``GraphDataModule``
builds it. One full epoch over the training split per measurement (iterator
start-up, worker start-up included); repetitions of every configuration are
interleaved so that machine load hits all of them alike. The files are read
once before timing, so the baseline runs from a warm page cache (as on the
RAM disk the TopoQA users resorted to).

Also measured: the time to assemble one batch from the store (``store.batch``),
which the report sets against a training step's time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from benchmarks.common import Dataset, Settings, baseline_dataset, median, summary

log = logging.getLogger("benchmarks.data_path")


def _packed_loader(store: Any, batch_size: int, workers: int, seed: int) -> Any:
    from torch.utils.data import DataLoader

    from graphqa.data import BatchView, GraphBatchSampler

    sampler = GraphBatchSampler(len(store), batch_size, shuffle=True, seed=seed)
    return DataLoader(BatchView(store), sampler=sampler, batch_size=None, num_workers=workers,
                      prefetch_factor=2 if workers else None)


def _baseline_loader(dataset: Any, batch_size: int, workers: int, seed: int) -> Any:
    import torch
    from torch_geometric.loader import DataLoader

    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                      generator=torch.Generator().manual_seed(seed))


def _epoch(loader: Any) -> tuple[float, int, int]:
    """Seconds, batches and graphs of one full pass over ``loader``."""
    start = time.perf_counter()
    batches = graphs = 0
    for batch in loader:
        batches += 1
        graphs += int(batch.num_graphs)
    return time.perf_counter() - start, batches, graphs


def assembly_ms(store: Any, batch_size: int, reps: int, seed: int = 0) -> dict[str, Any]:
    """Milliseconds for ``store.batch`` of one shuffled batch (median over an epoch of batches, per rep)."""
    from graphqa.data import GraphBatchSampler

    per_rep = []
    for rep in range(reps):
        sampler = GraphBatchSampler(len(store), batch_size, shuffle=True, seed=seed + rep)
        times = []
        for indices in sampler:
            start = time.perf_counter()
            store.batch(indices)
            times.append(time.perf_counter() - start)
        per_rep.append(median(times) * 1000)
    return summary(per_rep, 4)


def run(data: Dataset, settings: Settings) -> dict[str, Any]:
    from graphqa.data import PackedGraphStore

    store = PackedGraphStore.open(data.packed / "train")
    baseline = baseline_dataset(store)
    configs = []
    for bs in settings.batch_sizes:
        for workers in settings.baseline_workers:
            configs.append(("baseline", bs, workers))
        configs.append(("packed", bs, 0))
        if 2 in settings.baseline_workers:
            configs.append(("packed", bs, 2))

    def make(kind: str, bs: int, workers: int, seed: int) -> Any:
        if kind == "baseline":
            return _baseline_loader(baseline, bs, workers, seed)
        return _packed_loader(store, bs, workers, seed)

    # warm-up: page cache for the files, mapped pages for the store, imports in both paths
    for kind in ("baseline", "packed"):
        _epoch(make(kind, settings.batch_sizes[0], 0, 0))
    seconds: dict[tuple[str, int, int], list[float]] = {c: [] for c in configs}
    shape: dict[tuple[str, int, int], tuple[int, int]] = {}
    for rep in range(settings.reps):
        for config in configs:
            kind, bs, workers = config
            elapsed, batches, graphs = _epoch(make(kind, bs, workers, 1 + rep))
            seconds[config].append(elapsed)
            shape[config] = (batches, graphs)
        log.info("data path: rep %d/%d done", rep + 1, settings.reps)

    rows = []
    for config in configs:
        kind, bs, workers = config
        batches, graphs = shape[config]
        epoch_s = median(seconds[config])
        rows.append({
            "loader": kind, "batch_size": bs, "workers": workers, "batches": batches, "graphs": graphs,
            "epoch_s": summary(seconds[config]),
            "batches_per_s": round(batches / epoch_s, 1), "graphs_per_s": round(graphs / epoch_s, 1),
        })

    def rate(kind: str, bs: int, workers: int) -> float | None:
        return next((r["batches_per_s"] for r in rows if (r["loader"], r["batch_size"], r["workers"]) == (kind, bs, workers)), None)

    speedups = {}
    for bs in settings.batch_sizes:
        for workers in settings.baseline_workers:
            ours, theirs = rate("packed", bs, 0), rate("baseline", bs, workers)
            if ours and theirs:
                speedups[f"bs{bs}_packed0_vs_baseline{workers}"] = round(ours / theirs, 1)
    assembly = {str(bs): assembly_ms(store, bs, settings.reps) for bs in sorted({*settings.batch_sizes, 32})}
    return {
        "graphs": len(store), "split": "train", "rows": rows, "speedup": speedups, "assembly_ms": assembly,
    }
