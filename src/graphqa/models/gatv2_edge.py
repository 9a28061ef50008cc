"""``gatv2_edge``: GATv2 over an interface graph with residual edge updates (graphqa's own network).

TopoQA-like, not the published network (docs/ARCHITECTURE.md, "Models"):
node Linear(F_node→hidden); edge encoder
Linear(F_edge→edge_hidden)→LayerNorm→ReLU→Linear (or one Linear); ``num_layers``
GATv2 layers whose attention sees the edge embeddings, heads averaged, each
followed by an edge update MLP over ``[h_src, h_dst, e]``; pooling of nodes and
of edges per graph; MLP readout ``(hidden+edge_hidden) → readout_hidden → 1``;
sigmoid so the score lives in DockQ's [0, 1].

Input dims come from the feature schema; every size comes from
:class:`graphqa.config.ModelParams`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATv2Conv, global_add_pool, global_max_pool, global_mean_pool

from graphqa.config import ModelParams

if TYPE_CHECKING:
    from graphqa.data import GraphBatch

_ACTIVATIONS: dict[str, type[nn.Module]] = {"elu": nn.ELU, "relu": nn.ReLU, "gelu": nn.GELU}
_POOLS = {"mean": global_mean_pool, "add": global_add_pool, "max": global_max_pool}


def _edge_encoder(edge_dim: int, hidden: int, kind: str) -> nn.Module:
    if kind == "linear":
        return nn.Linear(edge_dim, hidden)
    return nn.Sequential(nn.Linear(edge_dim, hidden), nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, hidden))


class EdgeUpdate(nn.Module):
    """``e ← e + MLP([h_src, h_dst, e])``: edges see the nodes they join after each layer."""

    def __init__(self, node_hidden: int, edge_hidden: int, activation: type[nn.Module]) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * node_hidden + edge_hidden, edge_hidden), activation(),
                                 nn.Linear(edge_hidden, edge_hidden))

    def forward(self, h: Tensor, edge_index: Tensor, e: Tensor) -> Tensor:
        src, dst = edge_index
        return e + self.mlp(torch.cat([h[src], h[dst], e], dim=-1))


class GATv2EdgeNet(nn.Module):
    """Graph-level DockQ regressor; ``forward(batch)`` returns one score per graph."""

    def __init__(self, node_dim: int, edge_dim: int, params: ModelParams) -> None:
        super().__init__()
        if node_dim < 1 or edge_dim < 1:
            raise ValueError(f"GATv2EdgeNet needs node_dim >= 1 and edge_dim >= 1, got {node_dim} and {edge_dim}")
        self.node_dim, self.edge_dim, self.params = node_dim, edge_dim, params
        act = _ACTIVATIONS[params.activation]
        hidden, edge_hidden = params.hidden_dim, params.edge_hidden_dim

        self.node_encoder = nn.Linear(node_dim, hidden)
        self.edge_encoder = _edge_encoder(edge_dim, edge_hidden, params.edge_encoder)
        self.convs = nn.ModuleList(
            GATv2Conv(hidden, hidden, heads=params.heads, concat=False, edge_dim=edge_hidden)
            for _ in range(params.num_layers)
        )
        self.edge_updates = nn.ModuleList(
            EdgeUpdate(hidden, edge_hidden, act) for _ in range(params.num_layers if params.edge_update else 0)
        )
        self.activation = act()
        self.dropout = nn.Dropout(params.dropout)
        self.pool = _POOLS[params.pooling]
        self.readout = nn.Sequential(
            nn.Linear(hidden + edge_hidden, params.readout_hidden), act(), nn.Dropout(params.dropout),
            nn.Linear(params.readout_hidden, 1),
        )

    def forward(self, batch: GraphBatch) -> Tensor:
        """Scores ``[num_graphs]``; in [0, 1] when ``params.sigmoid``."""
        dtype = self.node_encoder.weight.dtype
        edge_index = batch.edge_index if batch.edge_index.dtype == torch.long else batch.edge_index.long()
        graph_of_node = batch.batch if batch.batch.dtype == torch.long else batch.batch.long()
        h = self.activation(self.node_encoder(batch.x.to(dtype)))
        e = self.edge_encoder(batch.edge_attr.to(dtype))
        for i, conv in enumerate(self.convs):
            h = self.dropout(self.activation(conv(h, edge_index, e)))
            if self.edge_updates:
                e = self.edge_updates[i](h, edge_index, e)
        num_graphs = int(batch.num_graphs)  # a Python int: pooling needs no device sync
        node_summary = self.pool(h, graph_of_node, size=num_graphs)
        edge_summary = self.pool(e, graph_of_node[edge_index[0]], size=num_graphs)
        out = self.readout(torch.cat([node_summary, edge_summary], dim=-1)).squeeze(-1)
        return torch.sigmoid(out) if self.params.sigmoid else out
