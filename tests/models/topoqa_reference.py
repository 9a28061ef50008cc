"""The published TopoQA forward pass written out step by step in plain torch (no PyG), for the tests.

It reads weights by the released checkpoint's own key names (``embed.0.weight``,
``conv1.0.lin_l.weight`` …, no ``model.`` prefix) and loops over nodes and
edges one at a time, so every step can be checked by hand against the
published code: GATv2 attention ``a·LeakyReLU(W_l x_src + W_r x_dst + W_e e)``
softmaxed over each node's incoming edges, messages ``W_l x_src`` weighted by
it, heads averaged plus bias; the edge update from the conv output before its
ELU; mean pooling (edges by their source node's graph); the readout.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from graphqa.data import GraphBatch

HEADS = 8
NEGATIVE_SLOPE = 0.2  # GATv2's LeakyReLU


def linear(w: dict[str, torch.Tensor], name: str, x: torch.Tensor) -> torch.Tensor:
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def gatv2_edge_layer(w: dict[str, torch.Tensor], conv: str, h: torch.Tensor, edge_index: torch.Tensor,
                     e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``conv{k}.0`` layer: ``(ELU(h′), ELU(e′))``, edge by edge and node by node."""
    heads = HEADS
    channels = w[f"{conv}.bias"].shape[0]
    x_l = linear(w, f"{conv}.lin_l", h).view(-1, heads, channels)  # the source (message) side
    x_r = linear(w, f"{conv}.lin_r", h).view(-1, heads, channels)  # the target side
    x_e = (e @ w[f"{conv}.lin_edge.weight"].T).view(-1, heads, channels)  # no bias
    att = w[f"{conv}.att"][0]  # [heads, channels]
    src, dst = edge_index.tolist()
    logits = torch.stack([
        (F.leaky_relu(x_l[s] + x_r[d] + x_e[k], NEGATIVE_SLOPE) * att).sum(-1)  # [heads]
        for k, (s, d) in enumerate(zip(src, dst, strict=True))
    ]) if src else torch.zeros(0, heads)
    h_new = torch.zeros(h.shape[0], heads, channels)
    for node in range(h.shape[0]):
        incoming = [k for k, d in enumerate(dst) if d == node]
        if not incoming:
            continue  # nothing to aggregate: the node gets the bias only
        alpha = torch.softmax(logits[incoming], dim=0)  # [in, heads]
        for k, a in zip(incoming, alpha, strict=True):
            h_new[node] += a[:, None] * x_l[src[k]]
    h_new = h_new.mean(dim=1) + w[f"{conv}.bias"]
    e_new = torch.stack([
        linear(w, f"{conv}.edge_linear", torch.cat([h_new[s], h_new[d], e[k]])).view(heads, channels).mean(0)
        for k, (s, d) in enumerate(zip(src, dst, strict=True))
    ]) if src else torch.zeros(0, channels)
    return F.elu(h_new), F.elu(e_new)


def topoqa_reference(w: dict[str, torch.Tensor], batch: GraphBatch) -> torch.Tensor:
    """Scores ``[num_graphs]`` of the published network with weights ``w`` (released key names)."""
    h = linear(w, "embed.0", batch.x)
    e = linear(w, "edge_embed.0", batch.edge_attr)
    for conv in ("conv1.0", "conv2.0"):  # conv3.0 is never called
        h, e = gatv2_edge_layer(w, conv, h, batch.edge_index, e)
    scores = []
    edge_graph = batch.batch[batch.edge_index[0]]
    for g in range(batch.num_graphs):
        nodes = h[batch.batch == g].mean(0)
        edges = e[edge_graph == g]
        edge_mean = edges.mean(0) if len(edges) else torch.zeros(e.shape[1])
        x = torch.cat([nodes, linear(w, "fc_edge", edge_mean)])
        x = F.relu(linear(w, "fc1", F.relu(linear(w, "protein_fc_1.0", x))))
        scores.append(torch.sigmoid(linear(w, "out", x))[0])
    return torch.stack(scores)


def random_published_weights(node_dim: int = 172, edge_dim: int = 11, hidden: int = 32, seed: int = 0,
                             with_conv3: bool = True) -> dict[str, torch.Tensor]:
    """Random weights under the released checkpoint's key names and shapes (one sub-network)."""
    g = torch.Generator().manual_seed(seed)
    heads, summary, fc = HEADS, hidden // 2, 64
    shapes: dict[str, tuple[int, ...]] = {
        "embed.0.weight": (hidden, node_dim), "embed.0.bias": (hidden,),
        "edge_embed.0.weight": (hidden, edge_dim), "edge_embed.0.bias": (hidden,),
        "fc_edge.weight": (summary, hidden), "fc_edge.bias": (summary,),
        "protein_fc_1.0.weight": (fc, hidden + summary), "protein_fc_1.0.bias": (fc,),
        "fc1.weight": (64, fc), "fc1.bias": (64,), "out.weight": (1, 64), "out.bias": (1,),
    }
    for conv in ("conv1", "conv2", "conv3") if with_conv3 else ("conv1", "conv2"):
        shapes |= {
            f"{conv}.0.lin_l.weight": (heads * hidden, hidden), f"{conv}.0.lin_l.bias": (heads * hidden,),
            f"{conv}.0.lin_r.weight": (heads * hidden, hidden), f"{conv}.0.lin_r.bias": (heads * hidden,),
            f"{conv}.0.lin_edge.weight": (heads * hidden, hidden), f"{conv}.0.att": (1, heads, hidden),
            f"{conv}.0.bias": (hidden,),
            f"{conv}.0.edge_linear.weight": (heads * hidden, 3 * hidden),
            f"{conv}.0.edge_linear.bias": (heads * hidden,),
        }
    # scale like a trained network's (fan-in), so scores stay away from the sigmoid's flat ends
    return {k: torch.randn(shape, generator=g) / (shape[-1] ** 0.5 if len(shape) > 1 else 4.0)
            for k, shape in shapes.items()}
