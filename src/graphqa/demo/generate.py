"""``graphqa data demo``: a deterministic demo dataset in the TopoQA / QTopoQA builder format.

Per target, a synthetic native two-chain complex (:mod:`graphqa.demo.complexes`)
and ``decoys`` rigid-body docking decoys. Like benchmark decoy sets, targets
differ in difficulty (:data:`DIFFICULTY_SHARES`): an ``easy`` pool holds a
near-native decoy, a ``medium`` one close poses at best, a ``hard`` one a few
acceptable poses among misdocked ones, a ``failed`` one only wrong-site poses
(nothing acceptable). Each split gets the same mix (largest remainder), so
the test set has targets of every kind and hit counts do not saturate.
Labels are the real DockQ formula
against the native (:mod:`graphqa.demo.dockq`); each decoy becomes an interface
graph with the real builder's 172 node and 11 edge features
(:mod:`graphqa.demo.interface_features`).

Output (``out`` = ``data`` by default)::

    graphs/<TARGET>/<TARGET>_decoyNNN.pt   torch_geometric Data(x, edge_index, edge_attr) + metadata dict
    graphs/graph_metadata.json             QTopoQA layout: "TARGET/MODEL" -> edge module, params, columns
    labels/{train,val,test}.csv            MODEL,dockq,capri; split by target
    demo.json                              generator settings and dataset statistics

Re-running with the same arguments writes byte-identical files (seeded per
target, any number of worker processes, fixed float formatting, ``torch.save``
into memory with a fixed archive name), so ``dvc add data`` reproduces the
same hash. Across machines, last-bit differences of BLAS/libm on other CPUs
are absorbed by rounding features to 5 and DockQ to 4 decimals and by summing
the topological statistics in integers: a different hash there is very
unlikely, not impossible.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.data.labels import CAPRI_CLASSES, SPLITS, capri_class
from graphqa.data.progress import ProgressHook
from graphqa.demo.complexes import make_decoy, make_target
from graphqa.demo.defaults import DEFAULT_DECOYS, DEFAULT_SEED, DEFAULT_TARGETS
from graphqa.demo.dockq import DockQReference
from graphqa.demo.interface_features import (
    EDGE_COLUMNS,
    EDGE_MODULE,
    EDGE_PARAMS,
    EDGE_VARIANT,
    NODE_COLUMNS,
    interface_graph,
)
from graphqa.io import write_bytes

log = logging.getLogger(__name__)

# Share of each decoy quality tier in a target's pool, by the target's difficulty.
DIFFICULTY_TIERS: dict[str, dict[str, float]] = {
    "easy": {"near_native": 0.1, "close": 0.15, "nearby": 0.25, "misdocked": 0.2, "wrong_site": 0.3},
    "medium": {"close": 0.1, "nearby": 0.3, "misdocked": 0.25, "wrong_site": 0.35},
    "hard": {"nearby": 0.15, "misdocked": 0.35, "wrong_site": 0.5},
    "failed": {"wrong_site": 1.0},
}
# Share of targets of each difficulty, in every split.
DIFFICULTY_SHARES: dict[str, float] = {"easy": 0.25, "medium": 0.3, "hard": 0.25, "failed": 0.2}
DIGITS = 5  # features are rounded so tiny floating-point noise never changes the bytes


@dataclass(frozen=True)
class DemoDecoy:
    model: str
    tier: str
    dockq: float
    capri: str
    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote."""

    out_dir: Path
    graphs: int
    splits: dict[str, list[str]]  # split -> targets
    stats: dict[str, Any]


def target_names(count: int, seed: int) -> list[str]:
    """``count`` distinct PDB-like target codes (digit + 3 letters/digits), deterministic in ``seed``."""
    rng = np.random.default_rng([seed, 0x7A46])
    alphabet = list("ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789")
    names: list[str] = []
    while len(names) < count:
        name = str(rng.integers(1, 10)) + "".join(rng.choice(alphabet, size=3))
        if name not in names:
            names.append(name)
    return names


def split_targets(names: list[str], seed: int) -> dict[str, list[str]]:
    """Targets shuffled and split about 4 : 1 : 1 into train / val / test (at least one each)."""
    if len(names) < 3:
        raise ValueError(f"the demo needs at least 3 targets (one per split), got {len(names)}")
    order = [names[i] for i in np.random.default_rng([seed, 0x5B17]).permutation(len(names))]
    n_eval = max(1, round(len(names) / 6))
    return {"train": sorted(order[2 * n_eval :]), "val": sorted(order[:n_eval]), "test": sorted(order[n_eval : 2 * n_eval])}


def shuffled_shares(shares: dict[str, float], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` labels in the given shares (largest remainder; ties to the earlier label), shuffled."""
    raw = {k: v * count for k, v in shares.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: count - sum(counts.values())]:
        counts[k] += 1
    labels = [k for k in shares for _ in range(counts[k])]
    return [labels[i] for i in rng.permutation(len(labels))]


def tier_schedule(decoys: int, difficulty: str, rng: np.random.Generator) -> list[str]:
    """Quality tier of each decoy of a target of the given difficulty."""
    return shuffled_shares(DIFFICULTY_TIERS[difficulty], decoys, rng)


def target_difficulties(splits: dict[str, list[str]], seed: int) -> dict[str, str]:
    """Each target's difficulty: every split gets :data:`DIFFICULTY_SHARES` (largest remainder)."""
    out: dict[str, str] = {}
    for i, split in enumerate(SPLITS):
        names = sorted(splits[split])
        out.update(zip(names, shuffled_shares(DIFFICULTY_SHARES, len(names), np.random.default_rng([seed, 0xD1F, i])),
                       strict=True))
    return out


def generate_target(seed: int, index: int, name: str, decoys: int, difficulty: str = "easy") -> list[DemoDecoy]:
    """All decoys of one target (pure: depends only on the arguments)."""
    rng = np.random.default_rng([seed, index])
    target = make_target(name, rng)
    reference = DockQReference.from_native(
        target.receptor.atoms, target.receptor.mask, target.ligand.atoms, target.ligand.mask
    )
    out = []
    for j, tier in enumerate(tier_schedule(decoys, difficulty, rng)):
        receptor, ligand = make_decoy(target, tier, rng)
        quality = reference.score(receptor.atoms, receptor.mask, ligand.atoms, ligand.mask)
        x, edge_index, edge_attr = interface_graph(receptor, ligand)
        dockq = round(quality.dockq, 4)
        out.append(DemoDecoy(
            model=f"{name}_decoy{j:03d}", tier=tier, dockq=dockq, capri=capri_class(dockq),
            x=np.round(x, DIGITS).astype(np.float32), edge_index=edge_index,
            edge_attr=np.round(edge_attr, DIGITS).astype(np.float32),
        ))
    return out


def _generate_job(job: tuple[int, int, str, int, str]) -> list[DemoDecoy]:
    return generate_target(*job)


def _graph_bytes(decoy: DemoDecoy, target: str) -> bytes:
    import torch
    from torch_geometric.data import Data

    data = Data(
        x=torch.from_numpy(decoy.x),
        edge_index=torch.from_numpy(decoy.edge_index),
        edge_attr=torch.from_numpy(decoy.edge_attr),
    )
    data.metadata = {
        "edge_module": EDGE_MODULE,
        "edge_params": dict(EDGE_PARAMS),
        "edge_info": _edge_info(decoy),
        "builder": {"name": "graphqa data demo", "target": target, "model": decoy.model},
    }
    buffer = io.BytesIO()  # in memory: the archive name inside the zip is always "archive"
    torch.save(data, buffer)
    return buffer.getvalue()


def _edge_info(decoy: DemoDecoy) -> dict[str, Any]:
    return {
        "edge_count": int(decoy.edge_index.shape[1]),
        "feature_dim": len(EDGE_COLUMNS),
        "edge_feature_variant": EDGE_VARIANT,
        "distance_window": [EDGE_PARAMS["distance_min"], EDGE_PARAMS["distance_max"]],
    }




def _default_workers(targets: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, targets, 8))


def generate_demo(
    out_dir: str | Path,
    *,
    targets: int = DEFAULT_TARGETS,
    decoys: int = DEFAULT_DECOYS,
    test_decoys: int | None = None,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    progress: ProgressHook | None = None,
) -> DemoSummary:
    """Write the demo dataset under ``out_dir`` (replacing its graphs/, labels/ and demo.json).

    ``decoys`` per train/val target, ``test_decoys`` per test target (default: ``decoys``).
    Example: ``generate_demo("data", targets=8, decoys=16)``
    """
    from graphqa.io import new_hidden_dir, write_json, write_text

    test_decoys = decoys if test_decoys is None else test_decoys
    if targets < 3 or min(decoys, test_decoys) < 4:
        raise ValueError(f"the demo needs >= 3 targets and >= 4 decoys per target, got {targets} targets of "
                         f"{decoys} (test: {test_decoys}) decoys")
    out_dir = Path(out_dir)
    names = target_names(targets, seed)
    splits = split_targets(names, seed)
    split_of = {t: s for s, ts in splits.items() for t in ts}
    difficulty = target_difficulties(splits, seed)
    pool = {name: test_decoys if split_of[name] == "test" else decoys for name in names}
    jobs = [(seed, i, name, pool[name], difficulty[name]) for i, name in enumerate(names)]
    workers = workers or _default_workers(targets)
    total = sum(pool.values())

    out_dir.mkdir(parents=True, exist_ok=True)
    staging = new_hidden_dir(out_dir, ".demo-")
    try:
        metadata: dict[str, Any] = {}
        rows: dict[str, list[tuple[str, float, str]]] = {s: [] for s in SPLITS}
        tiers: dict[str, Counter[str]] = {}
        sizes: list[tuple[int, int]] = []
        if workers > 1 and "fork" in _start_methods():
            executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"))
            results = executor.map(_generate_job, jobs)
        else:
            executor, results = None, map(_generate_job, jobs)
        try:
            done = 0
            for name, decoy_list in zip(names, results, strict=True):
                for decoy in decoy_list:
                    write_bytes(staging / "graphs" / name / f"{decoy.model}.pt", _graph_bytes(decoy, name))
                    metadata[f"{name}/{decoy.model}"] = {
                        "edge_module": EDGE_MODULE,
                        "edge_params": dict(EDGE_PARAMS),
                        "edge_metadata": _edge_info(decoy),
                        "node_feature_columns": NODE_COLUMNS,
                        "node_feature_dim": len(NODE_COLUMNS),
                    }
                    rows[split_of[name]].append((decoy.model, decoy.dockq, decoy.capri))
                    tiers.setdefault(decoy.tier, Counter())[decoy.capri] += 1
                    sizes.append((decoy.x.shape[0], decoy.edge_index.shape[1]))
                done += len(decoy_list)
                if progress is not None:
                    progress(done, total)
        finally:
            if executor is not None:
                executor.shutdown()

        metadata.update({
            "edge_module": EDGE_MODULE,
            "edge_feature_dim": len(EDGE_COLUMNS),
            "node_feature_dim": len(NODE_COLUMNS),
            "_edge_schema": {"dim": len(EDGE_COLUMNS), "module": EDGE_MODULE, "columns": EDGE_COLUMNS},
            "_node_schema": {"dim": len(NODE_COLUMNS), "columns": NODE_COLUMNS},
            "_builder": {"name": "graphqa data demo", "seed": seed, "targets": targets, "decoys": decoys,
                         "test_decoys": test_decoys},
        })
        write_text(staging / "graphs" / "graph_metadata.json", json.dumps(metadata, indent=2, sort_keys=True) + "\n")
        for split, split_rows in rows.items():
            lines = ["MODEL,dockq,capri"] + [f"{m},{q:.4f},{c}" for m, q, c in sorted(split_rows)]
            write_text(staging / "labels" / f"{split}.csv", "\n".join(lines) + "\n")
        stats = _statistics(rows, tiers, sizes)
        write_json(staging / "demo.json", {
            "generator": "graphqa data demo",
            "seed": seed,
            "targets": targets,
            "decoys_per_target": decoys,
            "decoys_per_test_target": test_decoys,
            "splits": splits,
            "difficulty": dict(sorted(difficulty.items())),
            **stats,
        })
        _swap_in(staging, out_dir, ("graphs", "labels", "demo.json"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("demo dataset: %d graphs in %s", total, out_dir)
    return DemoSummary(out_dir=out_dir, graphs=total, splits=splits, stats=stats)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _statistics(rows: dict[str, list[tuple[str, float, str]]], tiers: dict[str, Counter[str]],
                sizes: list[tuple[int, int]]) -> dict[str, Any]:
    every = [q for split_rows in rows.values() for _, q, _ in split_rows]
    by_class: dict[str, list[float]] = {c: [] for c in CAPRI_CLASSES}
    for split_rows in rows.values():
        for _, q, c in split_rows:
            by_class[c].append(q)
    nodes, edges = [n for n, _ in sizes], [e for _, e in sizes]
    best: dict[str, dict[str, float]] = {s: {} for s in rows}
    for split, split_rows in rows.items():
        for model, q, _ in split_rows:
            target = model.split("_", 1)[0]
            best[split][target] = max(best[split].get(target, 0.0), q)
    return {
        "graphs": len(every),
        "graphs_per_split": {s: len(r) for s, r in rows.items()},
        "capri_counts": {s: {c: sum(1 for *_, k in r if k == c) for c in CAPRI_CLASSES} for s, r in rows.items()},
        "dockq": {
            c: ({"count": len(v), "min": min(v), "median": round(float(np.median(v)), 4), "max": max(v)} if v else {"count": 0})
            for c, v in by_class.items()
        },
        "tiers": {t: dict(sorted(c.items())) for t, c in sorted(tiers.items())},
        # Targets by the CAPRI class of their best decoy: how many have anything to find.
        "best_decoy_class": {s: {c: sum(1 for q in b.values() if capri_class(q) == c) for c in CAPRI_CLASSES}
                             for s, b in best.items()},
        "nodes_per_graph": {"min": min(nodes), "median": float(np.median(nodes)), "max": max(nodes)},
        "edges_per_graph": {"min": min(edges), "median": float(np.median(edges)), "max": max(edges)},
    }


def _swap_in(staging: Path, out_dir: Path, names: tuple[str, ...]) -> None:
    """Move ``names`` from ``staging`` into ``out_dir``, replacing what is there."""
    for name in names:
        target = out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(staging / name, target)


