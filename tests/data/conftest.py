"""Fixtures of the data-layer tests: small real graph directories with labels."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.data.builders import write_graph, write_labels


@dataclass(frozen=True)
class BuiltDataset:
    graphs: Path
    labels: Path
    models: dict[str, list[str]]  # split -> model names
    files: dict[str, Path]  # model -> graph file


@pytest.fixture
def build_dataset(tmp_path: Path) -> Callable[..., BuiltDataset]:
    """Factory: a graph dir (nested or flat) with labels split by target, any dims, optional graph_metadata.json."""

    def build(
        *,
        layout: str = "nested",
        node_dim: int = 64,
        edge_dim: int = 24,
        targets_per_split: int = 2,
        models_per_target: int = 3,
        graph_metadata: dict[str, Any] | None = None,
        as_data: bool = True,
        root: Path | None = None,
    ) -> BuiltDataset:
        base = root or tmp_path / "dataset"
        graphs, labels = base / "graphs", base / "labels"
        models: dict[str, list[str]] = {}
        files: dict[str, Path] = {}
        rows: dict[str, list[str]] = {}
        seed = 0
        for s, split in enumerate(("train", "val", "test")):
            models[split], rows[split] = [], []
            for t in range(targets_per_split):
                target = f"T{s}{t}"
                for m in range(models_per_target):
                    model = f"{target}_m{m}"
                    path = graphs / target / f"{model}.pt" if layout == "nested" else graphs / f"{model}.pt"
                    seed += 1
                    write_graph(path, as_data=as_data, num_nodes=4 + m, node_dim=node_dim, edge_dim=edge_dim, seed=seed)
                    files[model] = path
                    models[split].append(model)
                    rows[split].append(f"{model},{(m + 1) / (models_per_target + 1):.3f}")
        write_labels(labels, rows)
        if graph_metadata is not None:
            (graphs / "graph_metadata.json").write_text(json.dumps(graph_metadata), encoding="utf-8")
        return BuiltDataset(graphs, labels, models, files)

    return build
