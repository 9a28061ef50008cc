"""The ``topoqa`` arch is the published TopoQA forward pass; both archs are deterministic and batch-invariant."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import torch
from torch.nn import functional as F

from graphqa.config import ModelParams, TopoQAParams
from graphqa.data import GraphBatch
from graphqa.models import ARCHS, build_model
from graphqa.models.topoqa import TopoQALayer, TopoQANet
from tests.models.test_gatv2_edge import random_batch, single
from tests.models.topoqa_reference import topoqa_reference

TOPOQA = ModelParams(arch="topoqa")


def graphs_batch(shapes: list[tuple[int, int]], seed: int = 0) -> GraphBatch:
    """Random graphs of ``(nodes, edges)`` each, 7 node and 3 edge features."""
    return random_batch([n for n, _ in shapes], seed=seed, edge_counts=[e for _, e in shapes])


def published_view(model: TopoQANet) -> dict[str, torch.Tensor]:
    """The network's weights under the released checkpoint's names, read attribute by attribute."""
    w = {}
    for name, linear in (("embed.0", model.node_embed), ("edge_embed.0", model.edge_embed),
                         ("fc_edge", model.edge_summary), ("protein_fc_1.0", model.combine),
                         ("fc1", model.hidden2), ("out", model.out)):
        w[f"{name}.weight"], w[f"{name}.bias"] = linear.weight, linear.bias
    for k, layer in enumerate(model.layers, start=1):
        conv = layer.conv
        w |= {f"conv{k}.0.lin_l.weight": conv.lin_l.weight, f"conv{k}.0.lin_l.bias": conv.lin_l.bias,
              f"conv{k}.0.lin_r.weight": conv.lin_r.weight, f"conv{k}.0.lin_r.bias": conv.lin_r.bias,
              f"conv{k}.0.lin_edge.weight": conv.lin_edge.weight, f"conv{k}.0.att": conv.att,
              f"conv{k}.0.bias": conv.bias, f"conv{k}.0.edge_linear.weight": layer.edge_linear.weight,
              f"conv{k}.0.edge_linear.bias": layer.edge_linear.bias}
    return {k: v.detach() for k, v in w.items()}


def randomise_(model: torch.nn.Module, seed: int = 1) -> None:
    """Non-zero biases and attention too (PyG initialises the conv bias to 0, which would hide it)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) / (p.shape[-1] ** 0.5 if p.dim() > 1 else 4.0))


def test_published_widths_are_the_defaults():
    model = TopoQANet(172, 11, TOPOQA)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["node_embed.weight"] == (32, 172) and shapes["edge_embed.weight"] == (32, 11)
    assert shapes["layers.0.conv.att"] == (1, 8, 32) and shapes["layers.0.conv.bias"] == (32,)
    assert shapes["layers.0.edge_linear.weight"] == (256, 96) and shapes["layers.1.edge_linear.weight"] == (256, 96)
    assert shapes["edge_summary.weight"] == (16, 32) and shapes["combine.weight"] == (64, 48)
    assert shapes["hidden2.weight"] == (64, 64) and shapes["out.weight"] == (1, 64)
    assert len(model.layers) == 2
    conv = model.layers[0].conv
    assert conv.add_self_loops is False and conv.concat is False and conv.dropout == 0.25


def test_a_lone_incoming_edge_gets_all_the_attention_by_hand():
    """Node 1's only in-edge comes from node 0: h′1 = mean over heads of W_l x0 + b_l, plus bias; node 0 gets the bias."""
    layer = TopoQALayer(hidden=4, edge_in=3, heads=2, attention_dropout=0.0).eval()
    randomise_(layer)
    h, e = torch.rand(2, 4), torch.rand(1, 3)
    edge_index = torch.tensor([[0], [1]])
    conv = layer.conv
    h_prime = torch.stack([conv.bias, (h[0] @ conv.lin_l.weight.T + conv.lin_l.bias).view(2, 4).mean(0) + conv.bias])
    e_prime = (torch.cat([h_prime[0], h_prime[1], e[0]]) @ layer.edge_linear.weight.T
               + layer.edge_linear.bias).view(2, 4).mean(0)
    h_out, e_out = layer(h, edge_index, e)
    torch.testing.assert_close(h_out, F.elu(h_prime), rtol=0, atol=1e-6)
    torch.testing.assert_close(e_out, F.elu(e_prime)[None], rtol=0, atol=1e-6)


@pytest.mark.parametrize("shapes", [
    [(2, 1)],                                  # one edge
    [(3, 4), (1, 0), (4, 7)],                  # a graph without edges in the middle
    [(5, 9), (3, 6), (2, 0)],                  # … and at the end (a zero edge summary)
])
def test_forward_equals_the_step_by_step_published_computation(shapes):
    model = TopoQANet(7, 3, TOPOQA).eval()
    randomise_(model)
    batch = graphs_batch(shapes, seed=len(shapes))
    with torch.no_grad():
        torch.testing.assert_close(model(batch), topoqa_reference(published_view(model), batch), rtol=0, atol=1e-5)


def test_attention_dropout_acts_in_training_only():
    model = TopoQANet(7, 3, TOPOQA)
    randomise_(model)
    batch = graphs_batch([(6, 20), (5, 15)])
    torch.manual_seed(0)
    with torch.no_grad():
        trained = [model.train()(batch) for _ in range(3)]
        assert not all(torch.equal(trained[0], t) for t in trained[1:])
        no_dropout = TopoQANet(7, 3, dataclasses.replace(TOPOQA, topoqa=TopoQAParams(attention_dropout=0.0)))
        no_dropout.load_state_dict(model.state_dict())
        torch.testing.assert_close(no_dropout.train()(batch), model.eval()(batch), rtol=0, atol=0)


def test_settings_of_the_other_arch_are_named_when_set(caplog):
    with caplog.at_level(logging.WARNING, logger="graphqa.models.topoqa"):
        TopoQANet(7, 3, dataclasses.replace(TOPOQA, activation="relu", dropout=0.1))
    assert "model.dropout=0.1" in caplog.text and "model.activation='relu'" in caplog.text


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_eval_mode_is_deterministic(arch):
    torch.manual_seed(3)
    model = build_model(arch, 7, 3, ModelParams(arch=arch)).eval()
    batch = graphs_batch([(5, 12), (7, 20), (3, 4)], seed=5)
    with torch.no_grad():
        first, second = model(batch), model(batch)
    assert torch.equal(first, second)
    torch.manual_seed(3)
    twin = build_model(arch, 7, 3, ModelParams(arch=arch)).eval()
    with torch.no_grad():
        assert torch.equal(twin(batch), first)  # the same seed builds the same network


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_one_graph_alone_scores_as_in_a_batch_of_20(arch):
    model = build_model(arch, 7, 3, ModelParams(arch=arch)).eval()
    randomise_(model, seed=7)
    g = torch.Generator().manual_seed(11)
    shapes = [(int(n), int(3 * n)) for n in torch.randint(2, 12, (19,), generator=g)] + [(4, 0)]  # no edges last
    batch = graphs_batch(shapes, seed=13)
    with torch.no_grad():
        together = model(batch)
        alone = torch.cat([model(single(batch, i)) for i in range(20)])
    assert together.shape == (20,) and torch.isfinite(together).all()
    torch.testing.assert_close(together, alone, rtol=0, atol=1e-6)
