"""Fixtures for the structure -> graph tests: real structures, skipped only where an optional tool is absent.

Real inputs: DockQ's MIT example pair in ``../shared/structures`` (relative to the
repository root; CI has it there too) and the vendored natives / HADDOCK decoys of
``examples/real_structures``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "structures"
EXAMPLE = REPO / "examples" / "real_structures"

# Each test module skips itself when the structures extra is absent (a skip raised while a
# conftest is imported would be a collection error, not a skip): see needs_structures_extra().


def needs_structures_extra() -> None:
    """Skip the calling test module when gemmi or GUDHI (the ``structures`` extra) is missing."""
    pytest.importorskip("gemmi", reason="graphqa[structures] extra (gemmi) not installed")
    pytest.importorskip("gudhi", reason="graphqa[structures] extra (gudhi) not installed")


@pytest.fixture(scope="session")
def mkdssp() -> str:
    exe = shutil.which("mkdssp")
    if exe is None:
        pytest.skip("mkdssp not installed (Debian package 'dssp'; make install adds it)")
    return exe


@pytest.fixture(scope="session")
def shared_pair() -> tuple[Path, Path]:
    model, native = SHARED / "model.pdb", SHARED / "native.pdb"
    if not (model.is_file() and native.is_file()):
        pytest.skip(f"{SHARED} (DockQ's example pair) not present")
    return model, native


@pytest.fixture(scope="session")
def shared_graph(mkdssp, shared_pair):
    """The featurized model.pdb of DockQ's example pair, with its parsed structure."""
    from graphqa.structures.featurize import featurize_structure
    from graphqa.structures.parse import read_structure

    return featurize_structure(shared_pair[0]), read_structure(shared_pair[0])


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture(scope="session")
def small_inputs(tmp_path_factory, shared_pair) -> tuple[Path, Path]:
    """STRUCTURES/ and NATIVES/ of 4 real targets, 6 models (PDB, gzipped PDB, with and without HEADER/H atoms)."""
    root = tmp_path_factory.mktemp("real")
    structures, natives = root / "structures", root / "natives"
    model, native = shared_pair
    _copy(model, structures / "DQ" / "DQ_model.pdb")
    _copy(native, structures / "DQ" / "DQ_native.pdb")
    _copy(native, natives / "DQ.pdb")
    for name in ("1AK4_ti5-itw_212w", "1AK4_cm-it0_745"):  # HADDOCK models with hydrogens
        _copy(EXAMPLE / "haddock" / "1AK4" / f"{name}.pdb.gz", structures / "1AK4" / f"{name}.pdb.gz")
    for target in ("1AK4", "5cq2", "7cma"):
        _copy(EXAMPLE / "natives" / f"{target}.pdb.gz", natives / f"{target}.pdb.gz")
    _copy(EXAMPLE / "natives" / "5cq2.pdb.gz", structures / "5cq2" / "5cq2_native.pdb.gz")
    _copy(EXAMPLE / "natives" / "7cma.pdb.gz", structures / "7cma" / "7cma_native.pdb.gz")
    return structures, natives


@pytest.fixture(scope="session")
def built(tmp_path_factory, mkdssp, small_inputs) -> tuple[Path, dict]:
    """``small_inputs`` through ``build_dataset`` (2 workers): the dataset dir and its report."""
    from graphqa.structures.build import build_dataset

    structures, natives = small_inputs
    out = tmp_path_factory.mktemp("built") / "data"
    report = build_dataset(structures, out, natives, workers=2)
    return out, report
