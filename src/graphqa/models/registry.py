"""The one place networks are built: ``model.arch`` → network class.

Classes are named as ``"module:Class"`` strings and imported on first use, so
importing the registry costs nothing (no torch_geometric until a network is built).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from graphqa.config import ModelParams

# model.arch -> "module:Class". One line per network.
ARCHS: dict[str, str] = {
    "gatv2_edge": "graphqa.models.gatv2_edge:GATv2EdgeNet",
    "topoqa": "graphqa.models.topoqa:TopoQANet",
}


def build_model(arch: str, node_dim: int, edge_dim: int, params: ModelParams) -> nn.Module:
    """A fresh network of ``arch`` for graphs with ``node_dim``/``edge_dim`` features."""
    if arch not in ARCHS:
        raise ValueError(f"model.arch: unknown network {arch!r}; expected one of {', '.join(sorted(ARCHS))}")
    module_name, class_name = ARCHS[arch].split(":")
    return getattr(importlib.import_module(module_name), class_name)(node_dim, edge_dim, params)
