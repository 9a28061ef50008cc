"""Graph data: safe loading, schema discovery, coverage, packed stores, batches, demo data.

Names are imported lazily so ``import graphqa.data`` stays cheap: the
``schema`` and ``pack`` stages never import Lightning or PyG.

Empty graphs (0 nodes or 0 edges) are skipped with a warning recorded in
``dataset_coverage.json`` (they count as missing for coverage); every other
problem with a graph is a :class:`DataError` naming the file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DataError": "graphqa.data.errors",
    "SchemaMismatch": "graphqa.data.errors",
    "GraphRecord": "graphqa.data.graph",
    "load_graph": "graphqa.data.graph",
    "FeatureSchema": "graphqa.data.schema",
    "PackedGraphStore": "graphqa.data.store",
    "GraphBatch": "graphqa.data.batch",
    "GraphBatchSampler": "graphqa.data.sampler",
    "BatchView": "graphqa.data.datamodule",
    "GraphDataModule": "graphqa.data.datamodule",
    "read_labels": "graphqa.data.labels",
    "capri_class": "graphqa.data.labels",
    "SPLITS": "graphqa.data.labels",
    "write_schema_outputs": "graphqa.data.discover",
    "pack_dataset": "graphqa.data.pack",
}

__all__ = [
    "SPLITS",
    "BatchView",
    "DataError",
    "FeatureSchema",
    "GraphBatch",
    "GraphBatchSampler",
    "GraphDataModule",
    "GraphRecord",
    "PackedGraphStore",
    "SchemaMismatch",
    "capri_class",
    "load_graph",
    "pack_dataset",
    "read_labels",
    "write_schema_outputs",
]
assert sorted(__all__) == sorted(_EXPORTS)

if TYPE_CHECKING:
    from graphqa.data.batch import GraphBatch
    from graphqa.data.datamodule import BatchView, GraphDataModule
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.errors import DataError, SchemaMismatch
    from graphqa.data.graph import GraphRecord, load_graph
    from graphqa.data.labels import SPLITS, capri_class, read_labels
    from graphqa.data.pack import pack_dataset
    from graphqa.data.sampler import GraphBatchSampler
    from graphqa.data.schema import FeatureSchema
    from graphqa.data.store import PackedGraphStore


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphqa.data' has no attribute {name!r}")
