"""Feature column names and what the builder records about its features.

Node features (172): 21 residue-type one-hot, 8 DSSP states one-hot, RSA, φ, ψ (= 32),
then the 140 persistent-homology statistics. Edge features (11): Cα–Cα distance and
the 10-bin heavy-atom pair histogram. ``graph_metadata.json`` is written in the QTopoQA
layout that :func:`graphqa.data.schema.parse_graph_metadata` reads: top-level
``_node_schema`` / ``_edge_schema`` (dim, columns, module), ``edge_module`` and one
entry per ``TARGET/MODEL`` with the edge module, its parameters and dims.
"""

from __future__ import annotations

from typing import Any

from graphqa.structures import edges, interface, residues, topology

BUILDER = "graphqa.structures"
BUILDER_VERSION = 1


def node_columns() -> list[str]:
    return [*residues.RESIDUE_COLUMNS, *residues.SS_COLUMNS, "rsa", "phi", "psi", *topology.ph_columns()]


NODE_DIM = 32 + 140
EDGE_DIM = 11


def edge_params() -> dict[str, Any]:
    """What defines the graphs and their features (recorded in the metadata; part of the schema digest)."""
    return {
        "builder": BUILDER,
        "builder_version": BUILDER_VERSION,
        "interface_cutoff": interface.CUTOFF,
        "edge_cutoff": interface.CUTOFF,
        "histogram_bins": [b if b != float("inf") else "inf" for b in edges.BIN_EDGES],
        "ph_neighbourhood": topology.NEIGHBOURHOOD,
        "ph_rips_max_edge": topology.RIPS_MAX_EDGE,
        "ph_min_lifetime": topology.MIN_LIFETIME,
        "ph_alpha_units": "radius_angstrom",
        "ph_selections": ["".join(s) for s in topology.SELECTIONS],
        "rsa_max_asa": "tien2013_theoretical",
        "angles": "degrees/180, undefined=0",
        "dssp": "mkdssp 4 (8 states, P counted as coil)",
    }


def graph_metadata(keys: list[str]) -> dict[str, Any]:
    """``graph_metadata.json`` content for the graphs ``TARGET/MODEL`` in ``keys``."""
    params = edge_params()
    entry = {
        "edge_module": edges.EDGE_MODULE,
        "edge_params": params,
        "edge_metadata": {"feature_dim": EDGE_DIM, "edge_feature_variant": "topoqa_spec"},
        "node_feature_dim": NODE_DIM,
    }
    out: dict[str, Any] = {
        "_node_schema": {"dim": NODE_DIM, "columns": node_columns()},
        "_edge_schema": {"dim": EDGE_DIM, "columns": edges.edge_columns(), "module": edges.EDGE_MODULE},
        "edge_module": edges.EDGE_MODULE,
        "node_feature_dim": NODE_DIM,
        "edge_feature_dim": EDGE_DIM,
    }
    for key in sorted(keys):
        out[key] = entry
    return out
