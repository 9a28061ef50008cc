"""graphqa's DockQ v2 against the DockQ package: its published reference value, and the package itself (1e-3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import EXAMPLE, needs_structures_extra

needs_structures_extra()

pytest.importorskip("Bio", reason="graphqa[structures] extra (biopython) not installed")


def test_reference_value_of_dockqs_example_pair(shared_pair):
    from graphqa.structures.dockq import dockq

    result = dockq(*shared_pair)
    # DockQ 2.1.3 on these files: DockQ 0.700, iRMSD 1.232, LRMSD 1.516, fnat 0.533 (shared/structures/README.md)
    assert result.dockq == pytest.approx(0.700, abs=5e-4)
    assert result.irmsd == pytest.approx(1.232, abs=5e-4)
    assert result.lrmsd == pytest.approx(1.516, abs=5e-4)
    assert result.fnat == pytest.approx(0.533, abs=5e-4)
    assert result.capri == "Medium"


def test_native_against_itself_is_one(shared_pair):
    from graphqa.structures.dockq import dockq

    result = dockq(shared_pair[1], shared_pair[1])
    assert result.dockq == pytest.approx(1.0) and result.irmsd == pytest.approx(0.0, abs=1e-6)


def test_missing_chain_is_an_error_naming_the_files(tmp_path, shared_pair):
    import gemmi

    from graphqa.structures.dockq import dockq
    from graphqa.structures.errors import StructureError

    st = gemmi.read_structure(str(shared_pair[0]))
    st[0].remove_chain("B")
    single = tmp_path / "single.pdb"
    st.write_pdb(str(single))
    with pytest.raises(StructureError, match="single.pdb.*lacks chain"):
        dockq(single, shared_pair[1])


def _perturbed(native: Path, out: Path, degrees: float, shift: float) -> Path:
    import gemmi

    st = gemmi.read_structure(str(native))
    chain = st[0][len(st[0]) - 1]
    xyz = np.array([[a.pos.x, a.pos.y, a.pos.z] for r in chain for a in r])
    c = xyz.mean(0)
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    new = (xyz - c) @ rot.T + c + [shift, 0, 0]
    k = 0
    for r in chain:
        for atom in r:
            atom.pos = gemmi.Position(*new[k])
            k += 1
    st.write_pdb(str(out))
    return out


def test_agrees_with_the_dockq_package(tmp_path, shared_pair):
    """Every pair: the shared example, 1AK4's 5 HADDOCK models, rigid perturbations of two pinder natives."""
    from graphqa.structures.dockq import dockq, read_atom_records
    from graphqa.structures.dockq_package import find_dockq_executable, package_dockq

    exe = find_dockq_executable()
    if exe is None:
        pytest.skip("the DockQ package is not installed (make install puts DockQ==2.1.3 in .make/dockq)")
    pairs = [shared_pair]
    pairs += [(p, EXAMPLE / "natives" / "1AK4.pdb.gz") for p in sorted((EXAMPLE / "haddock" / "1AK4").glob("*.pdb.gz"))]
    for target, degrees, shift in (("7cma", 10, 2.0), ("1ldt", 30, 5.0)):
        native = EXAMPLE / "natives" / f"{target}.pdb.gz"
        pairs.append((_perturbed(native, tmp_path / f"{target}_{degrees}.pdb", degrees, shift), native))
    values = []
    for model, native in pairs:
        ours = dockq(model, native)
        chains = read_atom_records(native).chains
        theirs = package_dockq(model, native, chains, exe)
        values.append(theirs["dockq"])
        assert ours.dockq == pytest.approx(theirs["dockq"], abs=1e-3), model
        (key, ref), = theirs["interfaces"].items()
        assert ours.irmsd == pytest.approx(ref["irmsd"], abs=1e-3) and ours.lrmsd == pytest.approx(ref["lrmsd"], abs=1e-3)
    assert min(values) < 0.23 and max(values) > 0.49  # the pairs span incorrect to medium/high quality
