"""The ``pack`` stage: one contiguous store per split, plus a copy of the schema.

``<out>/<split>/`` for train, val and test (see :mod:`graphqa.data.store`) and
``<out>/feature_metadata.json``. Everything is written into a staging
directory beside ``<out>`` and swapped in at the end, so a failure leaves the
previous output (or nothing), never a half-written one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graphqa.data.dataset import load_labelled_dataset
from graphqa.data.errors import DataError
from graphqa.data.graph import GraphLimits
from graphqa.data.labels import SPLITS
from graphqa.data.progress import ProgressHook
from graphqa.data.schema import FEATURE_METADATA, FeatureSchema
from graphqa.data.store import PackedGraphStore, PackItem
from graphqa.io import new_hidden_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackResult:
    out_dir: Path
    schema: FeatureSchema
    counts: dict[str, int]
    skipped: dict[str, list[dict[str, str]]]


def pack_dataset(
    schema_path: str | Path,
    out_dir: str | Path,
    *,
    graphs_dir: str | Path | None = None,
    labels_dir: str | Path | None = None,
    splits: tuple[str, ...] = SPLITS,
    progress: ProgressHook | None = None,
) -> PackResult:
    """Pack every split of the dataset the schema was discovered on (or ``graphs_dir``/``labels_dir``).

    Example: ``pack_dataset("artifacts/schema/feature_metadata.json", "artifacts/packed")``
    """
    schema_path, out_dir = Path(schema_path), Path(out_dir)
    schema = FeatureSchema.load(schema_path)
    graphs_dir = Path(graphs_dir or schema.sources.get("graphs") or "")
    labels = schema.sources.get("labels") or {}
    if labels_dir is None:
        if not labels:
            raise DataError(f"{schema_path}: sources.labels missing; pass the labels directory explicitly")
        labels_dir = Path(next(iter(labels.values()))).parent
    dataset = load_labelled_dataset(graphs_dir, labels_dir, splits)
    recorded = schema.sources.get("limits")  # the limits the schema stage applied
    limits = GraphLimits(**{k: int(v) for k, v in recorded.items() if k in GraphLimits().to_dict()}) \
        if isinstance(recorded, dict) else GraphLimits()

    plans = {
        split: [PackItem(m.graph.path, m.model, m.target, m.dockq) for m in sorted(models, key=lambda m: m.key) if m.graph]
        for split, models in dataset.splits.items()
    }
    total = sum(len(p) for p in plans.values())
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = new_hidden_dir(out_dir.parent, f".{out_dir.name}.")
    counts: dict[str, int] = {}
    skipped: dict[str, list[dict[str, str]]] = {}
    try:
        done = 0
        for split, items in plans.items():
            offset = done

            def hook(completed: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + completed, total)

            store, lost = PackedGraphStore.pack(
                items, staging / split, split=split, node_dim=schema.node_dim, edge_dim=schema.edge_dim,
                schema_digest=schema.digest(), progress=hook, limits=limits,
            )
            done += len(items)
            counts[split], skipped[split] = len(store), lost
            log.info("packed %s: %d graphs, %d nodes, %d edges", split, len(store), store.num_nodes_total,
                     store.num_edges_total)
        schema.save(staging / FEATURE_METADATA)
        _swap_in(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return PackResult(out_dir=out_dir, schema=schema, counts=counts, skipped=skipped)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with renames (the old tree is removed afterwards)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


