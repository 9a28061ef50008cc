"""Invariants of the TopoQA-spec graphs on real structures."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import torch

from graphqa.structures import columns, edges, interface

from .conftest import needs_structures_extra

needs_structures_extra()


def _ca_table(structure):
    rows = [(i, r.atom("CA"), r.chain) for i, r in enumerate(structure.residues) if r.atom("CA") is not None]
    return [i for i, _, _ in rows], np.array([c for _, c, _ in rows]), np.array([ch for _, _, ch in rows])


def test_dims_and_one_hot_blocks(shared_graph):
    graph, _ = shared_graph
    x, ei, ea = graph["x"], graph["edge_index"], graph["edge_attr"]
    assert x.dtype == torch.float32 and ea.dtype == torch.float32 and ei.dtype == torch.int64
    assert x.shape[1] == 172 == len(columns.node_columns()) and ea.shape[1] == 11 == len(edges.edge_columns())
    assert x.shape[0] > 10 and ei.shape[1] > 10
    assert torch.isfinite(x).all() and torch.isfinite(ea).all()
    assert torch.equal(x[:, :21].sum(1), torch.ones(x.shape[0]))  # residue type
    assert torch.equal(x[:, 21:29].sum(1), torch.ones(x.shape[0]))  # DSSP 8 states: present for every node
    rsa, phi, psi = x[:, 29], x[:, 30], x[:, 31]
    assert (rsa >= 0).all() and (rsa <= 1).all() and (rsa > 0).any()
    assert (phi.abs() <= 1).all() and (psi.abs() <= 1).all() and (phi != 0).sum() > x.shape[0] // 2
    assert (x[:, 32:] >= 0).all() and (x[:, 32:].sum(1) > 0).all()  # every residue has atoms around it


def test_interface_is_exactly_the_cross_chain_ca_contacts(shared_graph):
    graph, structure = shared_graph
    idx, ca, chain = _ca_table(structure)
    d = np.sqrt(((ca[:, None] - ca[None]) ** 2).sum(-1))
    cross = (chain[:, None] != chain[None]) & (d < interface.CUTOFF)
    expected = [idx[k] for k in np.nonzero(cross.any(1))[0]]
    labels = [structure.residues[i].label for i in expected]
    assert graph["metadata"]["residues"] == labels
    # every cross-chain pair of interface residues within 10 Å is an edge, in both directions, and nothing else
    pos = {k: n for n, k in enumerate(np.nonzero(cross.any(1))[0])}
    want = sorted((pos[a], pos[b]) for a, b in zip(*np.nonzero(cross), strict=True))
    got = [tuple(e) for e in graph["edge_index"].T.tolist()]
    assert got == want
    assert set(got) == {(b, a) for a, b in got}
    node_chain = graph["metadata"]["chains"]
    assert all(node_chain[a] != node_chain[b] for a, b in got)
    assert (graph["edge_attr"][:, 0] < interface.CUTOFF).all()


def test_edge_features_use_true_xyz_and_count_every_atom_pair(shared_graph):
    graph, structure = shared_graph
    labels = graph["metadata"]["residues"]
    by_label = {r.label: r for r in structure.residues}
    ea = graph["edge_attr"].double()
    for e, (a, b) in enumerate(graph["edge_index"].T.tolist()):
        ra, rb = by_label[labels[a]], by_label[labels[b]]
        assert ea[e, 1:].sum().item() == len(ra.coords) * len(rb.coords)
        assert ea[e, 0].item() == pytest.approx(float(np.linalg.norm(ra.atom("CA") - rb.atom("CA"))), abs=1e-4)
    # one edge by hand, with x, y, z written out
    ra, rb = by_label[labels[graph["edge_index"][0, 0]]], by_label[labels[graph["edge_index"][1, 0]]]
    counts = np.zeros(10)
    for p in ra.coords:
        for q in rb.coords:
            dist = ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2) ** 0.5
            counts[0 if dist < 2 else min(int(dist) - 1, 9)] += 1
    assert ea[0, 1:].numpy() == pytest.approx(counts)


def test_mmcif_and_gzip_inputs_give_the_same_graph(tmp_path, shared_pair, shared_graph, mkdssp):
    import gemmi

    from graphqa.structures.featurize import featurize_structure

    st = gemmi.read_structure(str(shared_pair[0]))
    for chain, name in zip(st[0], ("AX", "BYZ"), strict=True):  # mmCIF chain IDs longer than PDB allows
        chain.name = name
    st.setup_entities()
    cif = tmp_path / "model.cif"
    st.make_mmcif_document().write_file(str(cif))
    gz = tmp_path / "model.cif.gz"
    with open(cif, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    other = featurize_structure(gz)
    graph, _ = shared_graph
    for key in ("x", "edge_index", "edge_attr"):
        assert torch.allclose(other[key].double(), graph[key].double(), atol=1e-5), key
    assert set(other["metadata"]["chains"]) == {"AX", "BYZ"}


def test_chain_pairs_restrict_the_interface(mkdssp, shared_pair):
    from graphqa.structures.errors import StructureError
    from graphqa.structures.featurize import featurize_structure

    assert interface.parse_chain_pairs(["A:B"]) == [("A", "B")]
    with pytest.raises(ValueError, match="CHAIN:CHAIN"):
        interface.parse_chain_pairs(["A"])
    with pytest.raises(StructureError, match="not in the structure"):
        featurize_structure(shared_pair[0], [("A", "Z")])


def test_three_chains_every_pair_or_the_named_pairs(tmp_path, shared_pair, mkdssp):
    """Chain A of the model split in two (A, C): interfaces A-B, B-C and the new A-C; or only A:B when named."""
    import gemmi

    from graphqa.structures.featurize import featurize_structure
    from graphqa.structures.parse import read_structure

    st = gemmi.read_structure(str(shared_pair[0]))
    model = st[0]
    a = model["A"]
    half = len(a) // 2
    c = gemmi.Chain("C")
    for res in list(a)[half:]:
        c.add_residue(res)
    for i in reversed(range(half, len(a))):
        del a[i]
    model.add_chain(c)
    path = tmp_path / "three.pdb"
    st.write_pdb(str(path))

    structure = read_structure(path)
    assert structure.chains == ["A", "B", "C"]
    idx, ca, chain = _ca_table(structure)
    d = np.sqrt(((ca[:, None] - ca[None]) ** 2).sum(-1))
    for pairs in (None, [("A", "B")]):
        allowed = {("A", "B"), ("B", "A")} if pairs else {(x, y) for x in "ABC" for y in "ABC" if x != y}
        ok = np.array([[(p, q) in allowed for q in chain] for p in chain])
        cross = ok & (d < interface.CUTOFF)
        graph = featurize_structure(path, pairs)
        assert graph["metadata"]["residues"] == [structure.residues[idx[k]].label for k in np.nonzero(cross.any(1))[0]]
        assert graph["edge_index"].shape[1] == int(cross.sum())
        node_chains = set(graph["metadata"]["chains"])
        assert node_chains == ({"A", "B"} if pairs else {"A", "B", "C"})
