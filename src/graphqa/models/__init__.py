"""Graph networks that score protein-complex models."""

from graphqa.models.topoqa import TopoQANet

__all__ = ["TopoQANet"]
