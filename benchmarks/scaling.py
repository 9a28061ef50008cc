"""Scaling: pack time and peak memory for 1k / 10k / 100k graphs; loader memory over epochs.

Data sets larger than the demo are made by replicating the demo's graph files
under new model names (hard links where the file system allows, else copies)
with the same labels, so every size has the demo's graph-size distribution.
Replicas of one file share its page-cache pages, so packing reads warm
files: the figures are the pack stage's CPU and write cost, not a cold disk.

Each pack runs in a fresh process (``python -m benchmarks.scaling pack``) that
reports its own wall time for ``pack_dataset`` and its peak resident memory
(``ru_maxrss``), next to the resident memory it had before packing
(interpreter + torch) and the size of the stores it wrote.

Loader memory: a fresh process opens the largest packed training store
(memory-mapped) and runs the training loader (``GraphDataModule`` settings:
shuffled, default batch size, 0 workers) for several epochs, recording its
resident memory after each: anonymous memory (what the process allocated)
and file-backed memory (mapped store pages, reclaimable page cache).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BIN, Dataset, Settings, dir_bytes, median, peak_rss_mb, proc_status_mb, run_json, summary

log = logging.getLogger("benchmarks.scaling")
SPLITS = ("train", "val", "test")


def replicate(data: Dataset, size: int, dest: Path) -> tuple[Path, Path]:
    """``size`` graphs made of the demo's files under new names; returns (graphs dir, labels dir)."""
    files = {p.stem: p for p in data.graphs.glob("*/*.pt")}
    rows: list[tuple[str, dict[str, str]]] = []
    for split in SPLITS:
        with (data.labels / f"{split}.csv").open(newline="") as handle:
            rows.extend((split, row) for row in csv.DictReader(handle))
    random.Random(0).shuffle(rows)  # every prefix holds every split in about its share
    graphs, labels = dest / "graphs", dest / "labels"
    out: dict[str, list[dict[str, str]]] = {s: [] for s in SPLITS}
    count, replica = 0, 0
    while count < size:
        for split, row in rows:
            if count == size:
                break
            src = files[row["MODEL"]]
            model = f"{row['MODEL']}_r{replica:03d}"
            target = graphs / src.parent.name / f"{model}.pt"
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, target)
            except OSError:
                shutil.copyfile(src, target)
            out[split].append({**row, "MODEL": model})
            count += 1
        replica += 1
    labels.mkdir(parents=True, exist_ok=True)
    for split, split_rows in out.items():
        with (labels / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0][1]))
            writer.writeheader()
            writer.writerows(split_rows)
    return graphs, labels


def pack_once(data: Dataset, graphs: Path, labels: Path, out: Path) -> dict[str, Any]:
    if out.exists():
        shutil.rmtree(out)
    return run_json([str(BIN / "python"), "-m", "benchmarks.scaling", "pack", "--schema", str(data.schema),
                     "--graphs", str(graphs), "--labels", str(labels), "--out", str(out)], timeout=3600)


def loader_memory(packed: Path, epochs: int, fresh_process: bool = True) -> dict[str, Any]:
    """The loader probe in a fresh process (the smoke run calls it in this one: its memory figures then mean little)."""
    args = ["loader", "--packed", str(packed), "--epochs", str(epochs)]
    if not fresh_process:
        return {**_loader(_parser().parse_args(args)), "in_process": True}
    return run_json([str(BIN / "python"), "-m", "benchmarks.scaling", *args], timeout=3600)


def run(data: Dataset, settings: Settings, workdir: Path) -> dict[str, Any]:
    rows = []
    largest: Path | None = None
    for size in settings.scaling_sizes:
        dest = workdir / f"scaled-{size}"
        if dest.exists():
            shutil.rmtree(dest)
        start = time.perf_counter()
        graphs, labels = replicate(data, size, dest)
        made_s = time.perf_counter() - start
        runs = [pack_once(data, graphs, labels, dest / "packed") for _ in range(settings.scaling_reps.get(size, 1))]
        pack_s = [r["pack_s"] for r in runs]
        last = runs[-1]
        rows.append({
            "graphs": size, "replicate_s": round(made_s, 2), "pack_s": summary(pack_s, 3),
            "us_per_graph": round(1e6 * median(pack_s) / size, 1),
            "store_mb": round(last["store_bytes"] / 2**20, 1), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "rss_before_pack_mb": last["rss_before_mb"], "import_s": last["import_s"],
            "peak_rss_over_store": round(max(r["peak_rss_mb"] for r in runs) / (last["store_bytes"] / 2**20), 3),
            "peak_growth_over_store": round(max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs) / (last["store_bytes"] / 2**20), 3),
        })
        log.info("scaling: %d graphs packed in %.1f s (peak RSS %.0f MiB, store %.0f MiB)", size, median(pack_s),
                 rows[-1]["peak_rss_mb"], rows[-1]["store_mb"])
        if largest is not None:
            shutil.rmtree(largest.parent, ignore_errors=True)
        largest = dest / "packed"
        shutil.rmtree(graphs, ignore_errors=True)
    first, last_row = rows[0], rows[-1]
    result: dict[str, Any] = {
        "rows": rows,
        # per-graph pack time at the largest size relative to the smallest: ~1 when linear, > 1 when superlinear
        "per_graph_growth": round(last_row["us_per_graph"] / first["us_per_graph"], 3),
    }
    assert largest is not None
    result["loader_memory"] = loader_memory(largest / "train", settings.rss_epochs, settings.mode == "full")
    shutil.rmtree(largest.parent, ignore_errors=True)
    return result


# ---------------------------------------------------------------- helper processes


def _pack(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    from graphqa.data.pack import pack_dataset

    imported = time.perf_counter()
    before = proc_status_mb().get("VmRSS", 0.0)
    start = time.perf_counter()
    result = pack_dataset(args.schema, args.out, graphs_dir=args.graphs, labels_dir=args.labels)
    pack_s = time.perf_counter() - start
    return {"import_s": round(imported - started, 3), "pack_s": round(pack_s, 4), "rss_before_mb": before,
            "peak_rss_mb": peak_rss_mb(), "store_bytes": dir_bytes(args.out), "counts": result.counts}


def _loader(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.common import default_params
    from graphqa.data import BatchView, GraphBatchSampler, PackedGraphStore

    params = default_params()
    from torch.utils.data import DataLoader

    store = PackedGraphStore.open(args.packed)
    sampler = GraphBatchSampler(len(store), params.data.batch_size, shuffle=True, seed=params.seed)
    loader = DataLoader(BatchView(store), sampler=sampler, batch_size=None, num_workers=0)
    epochs = [{"epoch": -1, "epoch_s": 0.0, **proc_status_mb()}]
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        start = time.perf_counter()
        graphs = 0
        for batch in loader:
            graphs += batch.num_graphs
        epochs.append({"epoch": epoch, "epoch_s": round(time.perf_counter() - start, 4), "graphs": graphs,
                       **proc_status_mb()})
    return {"graphs": len(store), "store_mb": round(dir_bytes(args.packed) / 2**20, 1),
            "batch_size": params.data.batch_size, "epochs": epochs}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="benchmark helper: pack, or run the loader, in one process")
    parser.add_argument("what", choices=["pack", "loader"])
    parser.add_argument("--schema", type=Path)
    parser.add_argument("--graphs", type=Path)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--packed", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(_pack(args) if args.what == "pack" else _loader(args)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
