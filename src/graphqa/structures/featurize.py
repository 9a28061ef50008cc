"""One structure -> one TopoQA-spec interface graph (172 node features, 11 edge features).

The graph is a plain dict of tensors (``x`` float32 [N, 172], ``edge_index`` int64
[2, E], ``edge_attr`` float32 [E, 11]) plus a ``metadata`` dict (edge module, its
parameters, the node column names and the residue of each node as ``CHAIN:NUMBER``),
the format :func:`graphqa.data.load_graph` reads with ``torch.load(weights_only=True)``.
Features are computed in float64 and stored as float32.

A structure fails (a :class:`~graphqa.structures.errors.StructureError` naming it)
when it is unreadable, has no interface, when an interface residue lacks one of the
backbone atoms N, CA, C, O (DSSP needs all four) or when DSSP gives no record for an
interface residue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphqa.structures import columns, residues, topology
from graphqa.structures.dssp import run_dssp
from graphqa.structures.edges import EDGE_MODULE, edge_features
from graphqa.structures.errors import StructureError
from graphqa.structures.interface import find_interface
from graphqa.structures.parse import Structure, read_structure

BACKBONE = ("N", "CA", "C", "O")


def node_features(structure: Structure, nodes: np.ndarray, dssp: dict) -> np.ndarray:
    """[N, 172] node features of the residues ``nodes`` of ``structure``."""
    all_coords = np.concatenate([r.coords for r in structure.residues])
    all_elements = np.asarray([e for r in structure.residues for e in r.elements])
    out = np.zeros((len(nodes), columns.NODE_DIM), dtype=np.float64)
    n_ss = len(residues.SS_STATES)
    for row, i in enumerate(nodes.tolist()):
        res = structure.residues[i]
        record = dssp[i]
        out[row, residues.residue_type_index(res.name)] = 1.0
        out[row, 21 + residues.ss_index(record.ss)] = 1.0
        out[row, 21 + n_ss] = residues.relative_accessibility(res.name, record.acc)
        out[row, 22 + n_ss] = residues.scale_angle(record.phi)
        out[row, 23 + n_ss] = residues.scale_angle(record.psi)
        out[row, 32:] = topology.residue_topology(res.atom("CA"), all_coords, all_elements)
    return out


def featurize_structure(path: str | Path, chain_pairs: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The graph dict of one structure file (see the module docstring)."""
    import torch

    structure = read_structure(path)
    iface = find_interface(structure, chain_pairs)
    for i in iface.nodes.tolist():
        res = structure.residues[i]
        missing = [a for a in BACKBONE if a not in res.atom_names]
        if missing:
            raise StructureError(
                f"{structure.path}: interface residue {res.name} {res.label} lacks backbone atom(s) "
                f"{', '.join(missing)}", kind="missing_backbone")
    dssp = run_dssp(structure)
    absent = [structure.residues[i].label for i in iface.nodes.tolist() if i not in dssp]
    if absent:
        raise StructureError(f"{structure.path}: DSSP gave no record for interface residue(s) "
                             f"{', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}", kind="dssp")
    x = node_features(structure, iface.nodes, dssp)
    coords = [structure.residues[i].coords for i in iface.nodes.tolist()]
    edge_attr = edge_features(iface.edge_index, iface.ca, coords)
    metadata = {
        "edge_module": EDGE_MODULE,
        "edge_params": columns.edge_params(),
        "edge_info": {"feature_dim": columns.EDGE_DIM, "edge_feature_variant": "topoqa_spec"},
        "node_feature_columns": columns.node_columns(),
        "residues": [structure.residues[i].label for i in iface.nodes.tolist()],
        "chains": [structure.residues[i].chain for i in iface.nodes.tolist()],
    }
    return {
        "x": torch.from_numpy(x.astype(np.float32)),
        "edge_index": torch.from_numpy(iface.edge_index.astype(np.int64)),
        "edge_attr": torch.from_numpy(edge_attr.astype(np.float32)),
        "metadata": metadata,
    }
