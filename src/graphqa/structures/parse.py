"""Reading one structure file (PDB or mmCIF, optionally gzipped) with gemmi.

What is kept, and why:

* the first model only (NMR ensembles and multi-model files give their first model);
* the first alternative conformation of each atom (gemmi's ``remove_alternative_conformations``);
* no hydrogens (nor deuterium), no waters;
* amino-acid residues only (gemmi's residue table decides, so modified residues such
  as MSE stay, as residue type "other"); ligands, ions and nucleic acids are dropped.
  With ``atom_records_only`` (what the DockQ package reads), HETATM residues are
  dropped too.

Chains are named by their author chain ID (``auth_asym_id`` in mmCIF), in file order;
residues are in file order within their chain. Every problem is a
:class:`~graphqa.structures.errors.StructureError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphqa.structures.errors import StructureError, require

STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif", ".pdb.gz", ".ent.gz", ".cif.gz", ".mmcif.gz")


def is_structure_file(path: Path) -> bool:
    """True for a file whose name ends in one of :data:`STRUCTURE_SUFFIXES` (case-insensitive)."""
    name = path.name.lower()
    return path.is_file() and any(name.endswith(s) for s in STRUCTURE_SUFFIXES)


def structure_stem(path: Path) -> str:
    """The model name a structure file gives: its name without the structure suffix (and ``.gz``)."""
    name = path.name
    lower = name.lower()
    for suffix in sorted(STRUCTURE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@dataclass(frozen=True)
class Residue:
    """One amino-acid residue: its identity and its heavy atoms."""

    chain: str
    number: int
    icode: str  # insertion code, "" if none
    name: str  # three-letter residue name as written in the file
    atom_names: tuple[str, ...]
    elements: tuple[str, ...]  # upper-case element symbols ("C", "N", "O", "S", "SE", ...)
    coords: np.ndarray  # float64 [n_atoms, 3]
    het: bool  # written as HETATM

    @property
    def label(self) -> str:
        """``A:42`` / ``A:42B`` (chain, number, insertion code)."""
        return f"{self.chain}:{self.number}{self.icode}"

    def atom(self, name: str) -> np.ndarray | None:
        """Coordinates of the atom called ``name`` (``None`` if the residue lacks it)."""
        try:
            return self.coords[self.atom_names.index(name)]
        except ValueError:
            return None


@dataclass(frozen=True)
class Structure:
    """The protein part of one structure file."""

    path: Path
    residues: list[Residue]

    @property
    def chains(self) -> list[str]:
        """Chain IDs in file order."""
        seen: dict[str, None] = {}
        for r in self.residues:
            seen.setdefault(r.chain, None)
        return list(seen)

    def chain_residues(self, chain: str) -> list[Residue]:
        return [r for r in self.residues if r.chain == chain]


def read_structure(path: str | Path, atom_records_only: bool = False) -> Structure:
    """Parse ``path`` into a :class:`Structure` (see the module docstring for what is kept).

    Example: ``s = read_structure("model.pdb.gz"); len(s.residues), s.chains``
    """
    gemmi = require("gemmi")
    path = Path(path)
    if not path.is_file():
        raise StructureError(f"{path}: structure file not found", kind="unreadable")
    try:
        st = gemmi.read_structure(str(path), merge_chain_parts=True)
    except (RuntimeError, ValueError, OSError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise StructureError(f"{path}: not a readable PDB or mmCIF file: {first}", kind="unreadable") from None
    if len(st) == 0:
        raise StructureError(f"{path}: no models (no ATOM/HETATM records)", kind="unreadable")
    st.remove_alternative_conformations()
    st.remove_hydrogens()
    model = st[0]
    residues: list[Residue] = []
    for chain in model:
        for res in chain:
            if res.is_water():
                continue
            het = res.het_flag == "H"
            if atom_records_only and het:
                continue
            info = gemmi.find_tabulated_residue(res.name)
            if info is None or not info.is_amino_acid():
                continue
            names, elements, coords = [], [], []
            for atom in res:
                element = atom.element.name.upper()
                if element in ("H", "D"):
                    continue
                names.append(atom.name)
                elements.append(element)
                coords.append((atom.pos.x, atom.pos.y, atom.pos.z))
            if not names:
                continue
            residues.append(Residue(
                chain=chain.name,
                number=int(res.seqid.num),
                icode=res.seqid.icode.strip(),
                name=res.name,
                atom_names=tuple(names),
                elements=tuple(elements),
                coords=np.asarray(coords, dtype=np.float64),
                het=het,
            ))
    if not residues:
        raise StructureError(f"{path}: no amino-acid residues in the first model", kind="no_protein")
    return Structure(path=path, residues=residues)
