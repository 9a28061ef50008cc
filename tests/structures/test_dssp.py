"""DSSP through mkdssp: headerless PDB input, modified residues, a record for every interface residue."""

from __future__ import annotations

import pytest

from graphqa.structures import residues
from graphqa.structures.dssp import dssp_residue_name

from .conftest import EXAMPLE, needs_structures_extra

needs_structures_extra()


def test_modified_residues_reach_dssp_under_their_parents_name():
    assert [dssp_residue_name(n) for n in ("GLY", "LLP", "MSE", "SEP", "ZZZ")] == ["GLY", "LYS", "MET", "SER", "ALA"]


def test_every_interface_residue_has_its_dssp_record(shared_graph, shared_pair):
    from graphqa.structures.dssp import run_dssp

    assert not shared_pair[0].read_text()[:6].startswith("HEADER")  # mkdssp alone would refuse this file
    graph, structure = shared_graph
    records = run_dssp(structure)
    by_label = {r.label: i for i, r in enumerate(structure.residues)}
    x = graph["x"].double()
    for row, label in enumerate(graph["metadata"]["residues"]):
        rec = records[by_label[label]]
        assert x[row, 21 + residues.ss_index(rec.ss)] == 1.0
        assert x[row, 30].item() == pytest.approx(residues.scale_angle(rec.phi), abs=1e-6)
        assert x[row, 31].item() == pytest.approx(residues.scale_angle(rec.psi), abs=1e-6)
        assert x[row, 29].item() == pytest.approx(residues.relative_accessibility(structure.residues[by_label[label]].name,
                                                                                  rec.acc), abs=1e-6)
    assert len({rec.ss for rec in records.values()} & {"H", "E"}) == 2  # helices and strands are found


def test_a_modified_residue_gets_a_record(mkdssp):
    from graphqa.structures.dssp import run_dssp
    from graphqa.structures.parse import read_structure

    structure = read_structure(EXAMPLE / "natives" / "7cm8.pdb.gz")  # LLP (PLP-lysine) at 76 in both chains
    llp = [i for i, r in enumerate(structure.residues) if r.name == "LLP"]
    assert len(llp) == 2
    records = run_dssp(structure)
    assert all(i in records for i in llp) and len(records) == len(structure.residues)
    assert residues.residue_type_index("LLP") == 20 and residues.max_asa("LLP") == residues.MAX_ASA["LYS"]
