"""Small real graphs and label files, written the way graph builders write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def graph_tensors(num_nodes: int = 6, node_dim: int = 64, edge_dim: int = 24, seed: int = 0) -> dict[str, torch.Tensor]:
    """x, edge_index (a ring, both directions) and edge_attr of a small random graph."""
    g = torch.Generator().manual_seed(seed)
    src = torch.arange(num_nodes)
    dst = (src + 1) % num_nodes
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
    return {
        "x": torch.rand(num_nodes, node_dim, generator=g),
        "edge_index": edge_index,
        "edge_attr": torch.rand(edge_index.shape[1], edge_dim, generator=g),
    }


def write_graph(path: Path, *, as_data: bool = True, metadata: dict[str, Any] | None = None, **kwargs: Any) -> Path:
    """Save a graph as a PyG ``Data`` (default) or a plain dict, like a builder would."""
    tensors = graph_tensors(**kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if as_data:
        from torch_geometric.data import Data

        data = Data(**tensors)
        if metadata is not None:
            data.metadata = metadata
        torch.save(data, path)
    else:
        torch.save({**tensors, **({"metadata": metadata} if metadata is not None else {})}, path)
    return path


def write_labels(labels_dir: Path, rows: dict[str, list[str]], header: str = "MODEL,dockq") -> Path:
    """Write ``<split>.csv`` files from raw CSV lines."""
    labels_dir.mkdir(parents=True, exist_ok=True)
    for split, lines in rows.items():
        (labels_dir / f"{split}.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return labels_dir
