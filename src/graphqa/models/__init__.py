"""Graph networks that score protein-complex models, chosen by ``model.arch``.

Adding a network: one file here with an ``nn.Module`` whose constructor is
``(node_dim, edge_dim, params: ModelParams)`` and whose ``forward(GraphBatch)``
returns one score per graph, plus one line in :data:`graphqa.models.registry.ARCHS`.
"""

from graphqa.models.registry import ARCHS, build_model

__all__ = ["ARCHS", "build_model"]
