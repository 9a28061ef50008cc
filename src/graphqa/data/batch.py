"""A mini-batch of graphs as one disjoint union: a small typed dataclass of tensors."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class GraphBatch:
    """Graphs ``index`` of a store, concatenated as PyG's ``Batch`` would concatenate them.

    ``edge_index`` is offset into the batch's node rows, ``batch`` maps each node to
    its graph (0..num_graphs-1), ``y`` is DockQ, ``target`` the store's target id.
    """

    x: torch.Tensor  # float32 [N, F_node]
    edge_index: torch.Tensor  # int64 [2, E]
    edge_attr: torch.Tensor  # float32 [E, F_edge]
    batch: torch.Tensor  # int64 [N]
    y: torch.Tensor  # float32 [B]
    target: torch.Tensor  # int64 [B]
    index: torch.Tensor  # int64 [B] store indices
    num_graphs: int

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    def _map(self, fn) -> GraphBatch:  # noqa: ANN001 - a tensor -> tensor function
        return GraphBatch(
            x=fn(self.x), edge_index=fn(self.edge_index), edge_attr=fn(self.edge_attr), batch=fn(self.batch),
            y=fn(self.y), target=fn(self.target), index=fn(self.index), num_graphs=self.num_graphs,
        )

    def to(self, device: torch.device | str, non_blocking: bool = False) -> GraphBatch:
        """The same batch on ``device`` (Lightning calls this to move batches)."""
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> GraphBatch:
        """The same batch in page-locked memory (the DataLoader calls this when ``pin_memory=True``)."""
        return self._map(lambda t: t.pin_memory())
