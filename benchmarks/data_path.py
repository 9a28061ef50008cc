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

Cold cache (batch 16, 0 workers): before each epoch the graph files, or the
store's arrays, are dropped from the page cache (``posix_fadvise(DONTNEED)``, only
these files, Linux) and the store is re-opened: every byte comes from the disk,
as on a network file system or under memory pressure.

Also measured: the time to assemble one batch from the store (``store.batch``),
which the report sets against a training step's time.
"""

from __future__ import annotations

import logging
import os
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


def _evict(paths: list[str]) -> bool:
    """Drop ``paths`` from the page cache; False where the OS cannot."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return True


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
    cold = hasattr(os, "posix_fadvise")
    if cold:
        configs += [("baseline-cold", settings.batch_sizes[0], 0), ("packed-cold", settings.batch_sizes[0], 0)]
    store_files = sorted(str(p) for p in store.directory.glob("*.npy"))

    def make(kind: str, bs: int, workers: int, seed: int) -> Any:
        if kind == "baseline-cold":
            _evict(baseline.files)
        if kind.startswith("baseline"):
            return _baseline_loader(baseline, bs, workers, seed)
        if kind == "packed-cold":
            _evict(store_files)  # pages mapped by `store` stay resident: map the files anew
            return _packed_loader(PackedGraphStore.open(store.directory), bs, workers, seed)
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
            if kind.endswith("-cold"):  # warm the cache again for the next warm measurements
                _epoch(make(kind.removesuffix("-cold"), bs, 0, 0))
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
    ours, theirs = rate("packed-cold", settings.batch_sizes[0], 0), rate("baseline-cold", settings.batch_sizes[0], 0)
    if ours and theirs:
        speedups[f"bs{settings.batch_sizes[0]}_cold_cache_packed0_vs_baseline0"] = round(ours / theirs, 1)
    assembly = {str(bs): assembly_ms(store, bs, settings.reps) for bs in sorted({*settings.batch_sizes, 32})}
    return {
        "graphs": len(store), "split": "train", "rows": rows, "speedup": speedups, "assembly_ms": assembly,
    }
