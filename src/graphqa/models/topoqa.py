"""``topoqa``: the published TopoQA network, layer for layer (docs/ARCHITECTURE.md, "Models").

The forward pass of the released TopoQA checkpoint (one sub-network, mean pooling):

* node encoder ``Linear(F_node → hidden_dim)`` and edge encoder
  ``Linear(F_edge → edge_hidden_dim)``, no activation;
* ``num_layers`` :class:`TopoQALayer`: GATv2 with edge features, ``heads`` heads
  averaged, bias, no self-loops, dropout ``topoqa.attention_dropout`` on the
  attention coefficients; then the edge update
  ``e ← mean over heads of Linear([h′_src ‖ h′_dst ‖ e])`` from the conv's output
  ``h′`` *before* its ELU and the edge state that entered the layer (no residual);
  then ELU on both ``h`` and ``e``;
* mean of the nodes and mean of the edges per graph (an edge belongs to its
  source node's graph; a graph without edges has a zero edge summary);
* readout: edge summary → ``Linear(· → topoqa.edge_summary_dim)``;
  ``[nodes ‖ edges]`` → ``Linear(· → readout_hidden)``, ReLU →
  ``Linear(· → topoqa.readout_hidden2)``, ReLU → ``Linear(· → 1)`` → sigmoid.

Widths come from :class:`graphqa.config.ModelParams` (published values are the
defaults: 32, 32, 2 layers, 8 heads, 64, and ``model.topoqa``: 0.25, 16, 64);
input dims come from the feature schema. ``model.dropout``, ``activation``,
``pooling``, ``edge_encoder`` and ``edge_update`` belong to ``gatv2_edge`` and
are not read here (a warning names any that is set away from its default).
Weight names map one to one onto the released checkpoint's
(:mod:`graphqa.inference.topoqa_import`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import GATv2Conv, global_mean_pool

from graphqa.config import ModelParams

if TYPE_CHECKING:
    from graphqa.data import GraphBatch

log = logging.getLogger(__name__)

# ModelParams fields only gatv2_edge reads.
NOT_READ = ("dropout", "activation", "pooling", "edge_encoder", "edge_update")


class TopoQALayer(nn.Module):
    """One GATv2 layer with TopoQA's edge update; returns ``(ELU(h′), ELU(e′))``."""

    def __init__(self, hidden: int, edge_in: int, heads: int, attention_dropout: float) -> None:
        super().__init__()
        self.heads, self.hidden = heads, hidden
        self.conv = GATv2Conv(hidden, hidden, heads=heads, concat=False, dropout=attention_dropout,
                              add_self_loops=False, edge_dim=edge_in, bias=True)
        self.edge_linear = nn.Linear(2 * hidden + edge_in, heads * hidden)

    def forward(self, h: Tensor, edge_index: Tensor, e: Tensor) -> tuple[Tensor, Tensor]:
        h_new = self.conv(h, edge_index, e)
        src, dst = edge_index
        e_new = self.edge_linear(torch.cat([h_new[src], h_new[dst], e], dim=-1))
        e_new = e_new.view(-1, self.heads, self.hidden).mean(dim=1)
        return F.elu(h_new), F.elu(e_new)


class TopoQANet(nn.Module):
    """The published TopoQA scorer; ``forward(batch)`` returns one score per graph."""

    def __init__(self, node_dim: int, edge_dim: int, params: ModelParams) -> None:
        super().__init__()
        if node_dim < 1 or edge_dim < 1:
            raise ValueError(f"TopoQANet needs node_dim >= 1 and edge_dim >= 1, got {node_dim} and {edge_dim}")
        defaults = ModelParams()
        ignored = [f"model.{name}={getattr(params, name)!r}" for name in NOT_READ
                   if getattr(params, name) != getattr(defaults, name)]
        if ignored:
            log.warning("model.arch=topoqa does not read %s (gatv2_edge's settings)", ", ".join(ignored))
        self.node_dim, self.edge_dim, self.params = node_dim, edge_dim, params
        hidden, edge_hidden, topoqa = params.hidden_dim, params.edge_hidden_dim, params.topoqa
        self.node_embed = nn.Linear(node_dim, hidden)
        self.edge_embed = nn.Linear(edge_dim, edge_hidden)
        self.layers = nn.ModuleList(
            TopoQALayer(hidden, edge_hidden if i == 0 else hidden, params.heads, topoqa.attention_dropout)
            for i in range(params.num_layers)
        )
        edge_width = hidden if params.num_layers else edge_hidden
        self.edge_summary = nn.Linear(edge_width, topoqa.edge_summary_dim)
        self.combine = nn.Linear(hidden + topoqa.edge_summary_dim, params.readout_hidden)
        self.hidden2 = nn.Linear(params.readout_hidden, topoqa.readout_hidden2)
        self.out = nn.Linear(topoqa.readout_hidden2, 1)

    def forward(self, batch: GraphBatch) -> Tensor:
        """Scores ``[num_graphs]``; in [0, 1] when ``params.sigmoid``."""
        dtype = self.node_embed.weight.dtype
        edge_index = batch.edge_index if batch.edge_index.dtype == torch.long else batch.edge_index.long()
        graph_of_node = batch.batch if batch.batch.dtype == torch.long else batch.batch.long()
        h = self.node_embed(batch.x.to(dtype))
        e = self.edge_embed(batch.edge_attr.to(dtype))
        for layer in self.layers:
            h, e = layer(h, edge_index, e)
        num_graphs = int(batch.num_graphs)  # a Python int: pooling needs no device sync
        node_summary = global_mean_pool(h, graph_of_node, size=num_graphs)
        edge_summary = self.edge_summary(global_mean_pool(e, graph_of_node[edge_index[0]], size=num_graphs))
        x = F.relu(self.combine(torch.cat([node_summary, edge_summary], dim=-1)))
        out = self.out(F.relu(self.hidden2(x))).squeeze(-1)
        return torch.sigmoid(out) if self.params.sigmoid else out

