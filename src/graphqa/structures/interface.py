"""Interface residues and the cross-chain edges between them (the TopoQA definition).

* A residue is at the interface when its Cα is within ``CUTOFF`` (10 Å, strictly
  less) of a Cα on another chain, counting only the chain pairs that are selected
  (every pair of chains by default, or the pairs a user names, e.g. ``A:B``).
* An edge joins two interface residues of different chains (a selected pair) whose
  Cα–Cα distance is < 10 Å; it is stored in both directions.

Residues without a Cα are never at the interface. Nodes are in structure order
(chains in file order, residues in file order); edges are sorted by (source, target).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from graphqa.structures.errors import StructureError
from graphqa.structures.parse import Structure

CUTOFF = 10.0


def parse_chain_pairs(specs: list[str] | None) -> list[tuple[str, str]] | None:
    """``["A:B", "A:C"]`` -> ``[("A", "B"), ("A", "C")]``; ``None`` or ``[]`` -> ``None`` (every pair)."""
    if not specs:
        return None
    pairs = []
    for spec in specs:
        parts = [p.strip() for p in spec.replace(",", ":").split(":")]
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise ValueError(f"chain pair {spec!r}: expected two different chain IDs as CHAIN:CHAIN, e.g. A:B")
        pairs.append((parts[0], parts[1]))
    return pairs


@dataclass(frozen=True)
class Interface:
    """The graph skeleton of one structure."""

    nodes: np.ndarray  # int64 [N] residue indices into structure.residues
    edge_index: np.ndarray  # int64 [2, E] positions into ``nodes``
    ca: np.ndarray  # float64 [N, 3] Cα of the nodes


def find_interface(structure: Structure, chain_pairs: list[tuple[str, str]] | None = None,
                   cutoff: float = CUTOFF) -> Interface:
    """Interface residues and edges of ``structure`` (see the module docstring)."""
    chains = structure.chains
    if chain_pairs is None:
        pairs = list(combinations(chains, 2))
    else:
        missing = sorted({c for pair in chain_pairs for c in pair} - set(chains))
        if missing:
            raise StructureError(
                f"{structure.path}: chain(s) {', '.join(missing)} named in the chain pairs are not in the structure "
                f"(chains: {', '.join(chains)})", kind="no_interface")
        pairs = chain_pairs
    if len(chains) < 2:
        raise StructureError(f"{structure.path}: only one protein chain ({', '.join(chains)}); an interface needs two",
                             kind="no_interface")
    with_ca = [(i, r.atom("CA")) for i, r in enumerate(structure.residues)]
    with_ca = [(i, ca) for i, ca in with_ca if ca is not None]
    index = np.asarray([i for i, _ in with_ca], dtype=np.int64)
    ca = np.asarray([c for _, c in with_ca], dtype=np.float64).reshape(-1, 3)
    chain_of = np.asarray([structure.residues[i].chain for i in index])

    at_interface = np.zeros(len(index), dtype=bool)
    contacts: list[tuple[np.ndarray, np.ndarray]] = []
    for a, b in pairs:
        ia, ib = np.nonzero(chain_of == a)[0], np.nonzero(chain_of == b)[0]
        if ia.size == 0 or ib.size == 0:
            continue
        d = np.sqrt(((ca[ia][:, None] - ca[ib][None]) ** 2).sum(-1))
        pa, pb = np.nonzero(d < cutoff)
        at_interface[ia[pa]] = True
        at_interface[ib[pb]] = True
        contacts.append((ia[pa], ib[pb]))
    if not at_interface.any():
        raise StructureError(
            f"{structure.path}: no interface (no Cα within {cutoff:g} Å of a Cα on another chain"
            + (f" for chain pairs {', '.join(a + ':' + b for a, b in pairs)}" if chain_pairs else "") + ")",
            kind="no_interface")
    nodes_ca = np.nonzero(at_interface)[0]
    position = np.full(len(index), -1, dtype=np.int64)
    position[nodes_ca] = np.arange(len(nodes_ca))
    src = np.concatenate([position[pa] for pa, _ in contacts] + [position[pb] for _, pb in contacts])
    dst = np.concatenate([position[pb] for _, pb in contacts] + [position[pa] for pa, _ in contacts])
    edges = np.unique(np.stack([src, dst], axis=1), axis=0).T  # sorted by (source, target), no duplicates
    return Interface(nodes=index[nodes_ca], edge_index=edges.astype(np.int64), ca=ca[nodes_ca])
