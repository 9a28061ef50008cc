"""GATv2EdgeNet on real random GraphBatches: shapes, ranges, options, pooling per graph, gradients."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from graphqa.config import ModelParams
from graphqa.data import GraphBatch
from graphqa.models.gatv2_edge import GATv2EdgeNet


def random_batch(sizes: list[int], node_dim: int = 7, edge_dim: int = 3, seed: int = 0,
                 edge_counts: list[int] | None = None) -> GraphBatch:
    """A disjoint union of random graphs with ``sizes`` nodes and ``edge_counts`` edges each (default 3 per
    node); edges stay inside their graph."""
    g = torch.Generator().manual_seed(seed)
    xs, edges, attrs, owner = [], [], [], []
    offset = 0
    for i, n in enumerate(sizes):
        xs.append(torch.rand(n, node_dim, generator=g))
        e = 3 * n if edge_counts is None else edge_counts[i]
        edges.append(torch.randint(0, n, (2, e), generator=g) + offset)
        attrs.append(torch.rand(e, edge_dim, generator=g))
        owner.append(torch.full((n,), i, dtype=torch.long))
        offset += n
    b = len(sizes)
    return GraphBatch(x=torch.cat(xs), edge_index=torch.cat(edges, dim=1), edge_attr=torch.cat(attrs),
                      batch=torch.cat(owner), y=torch.rand(b, generator=g), target=torch.arange(b) // 2,
                      index=torch.arange(b), num_graphs=b)


def single(batch: GraphBatch, i: int) -> GraphBatch:
    """Graph ``i`` of ``batch`` alone."""
    nodes = (batch.batch == i).nonzero().flatten()
    first = int(nodes[0])
    keep = batch.batch[batch.edge_index[0]] == i
    return GraphBatch(x=batch.x[nodes], edge_index=batch.edge_index[:, keep] - first, edge_attr=batch.edge_attr[keep],
                      batch=torch.zeros(len(nodes), dtype=torch.long), y=batch.y[i:i + 1],
                      target=batch.target[i:i + 1], index=batch.index[i:i + 1], num_graphs=1)


def test_scores_one_value_per_graph_in_unit_range():
    batch = random_batch([5, 9, 12, 4])
    model = GATv2EdgeNet(7, 3, ModelParams())
    out = model(batch)
    assert out.shape == (4,)
    assert torch.all((out >= 0) & (out <= 1))
    raw = GATv2EdgeNet(7, 3, ModelParams(sigmoid=False))(batch)
    assert raw.shape == (4,)


def test_dims_come_from_the_arguments():
    batch = random_batch([6, 6], node_dim=172, edge_dim=11)
    assert GATv2EdgeNet(172, 11, ModelParams())(batch).shape == (2,)
    with pytest.raises(RuntimeError):
        GATv2EdgeNet(7, 3, ModelParams())(batch)


def test_default_architecture_matches_design():
    model = GATv2EdgeNet(172, 11, ModelParams())
    assert model.node_encoder.in_features == 172 and model.node_encoder.out_features == 32
    linear1, norm, _, linear2 = model.edge_encoder
    assert (linear1.in_features, linear1.out_features, norm.normalized_shape, linear2.out_features) == (11, 32, (32,), 32)
    assert len(model.convs) == 2
    conv = model.convs[0]
    assert conv.heads == 8 and conv.concat is False and conv.edge_dim == 32
    assert model.readout[0].in_features == 64 and model.readout[0].out_features == 64
    assert model.readout[-1].out_features == 1


@pytest.mark.parametrize("pooling", ["mean", "add", "max"])
@pytest.mark.parametrize("edge_encoder", ["linear", "layernorm"])
def test_batched_scores_equal_single_graph_scores(pooling, edge_encoder):
    params = ModelParams(pooling=pooling, edge_encoder=edge_encoder, activation="gelu", num_layers=3, heads=2)
    model = GATv2EdgeNet(7, 3, params).eval()
    batch = random_batch([5, 9, 12, 4], seed=3)
    together = model(batch)
    alone = torch.cat([model(single(batch, i)) for i in range(4)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_edge_features_reach_the_score_and_every_parameter_learns():
    model = GATv2EdgeNet(7, 3, ModelParams(dropout=0.0)).eval()
    batch = random_batch([8, 10], seed=1)
    shifted = dataclasses.replace(batch, edge_attr=batch.edge_attr + 1.0)
    assert not torch.allclose(model(batch), model(shifted))
    model.train()
    model(batch).sum().backward()
    silent = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not silent, f"parameters without gradient: {silent}"


def test_edge_update_switch_changes_the_network():
    with_update = sum(p.numel() for p in GATv2EdgeNet(7, 3, ModelParams(edge_update=True)).parameters())
    without = sum(p.numel() for p in GATv2EdgeNet(7, 3, ModelParams(edge_update=False)).parameters())
    assert with_update > without
    assert GATv2EdgeNet(7, 3, ModelParams(edge_update=False))(random_batch([4, 4])).shape == (2,)
