"""graphqa: a dependency-tracked DVC + Lightning pipeline for GNNs that score protein-complex models.

The layout and contracts are described in docs/ARCHITECTURE.md.
"""
