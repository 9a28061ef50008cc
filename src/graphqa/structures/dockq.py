"""DockQ v2 of a model against its native, following the DockQ package (v2.1.3) step by step.

(graphqa's synthetic demo has its own DockQ in :mod:`graphqa.data.dockq`; this one
reads real structures.) The DockQ package pins ``numpy<2``, so it cannot live in
graphqa's environment; this module re-implements its protein path and the tests
check it against the package, run from its own virtual environment, to 1e-3.

What the package does and this module does the same way:

* structures are read from their ATOM records only (no HETATM), first model, the
  first alternative location of each atom; an atom is a hydrogen, and dropped, only
  when its element field says H. PDB files without element columns (HADDOCK's, for
  one) keep their hydrogens, and their contacts count, exactly as in the package
  (which reads PDB files with its own parser; so does this module: gemmi would infer
  the element from the atom name and give other, heavy-atom-only, values). mmCIF
  files are read with gemmi (their ``type_symbol`` is always there). Chain
  sequences use one-letter codes (MSE -> M, CME -> C, others through Biopython's
  ``seq1``);
* each model chain is aligned to the native chain of the same ID with Biopython's
  global ``PairwiseAligner`` (match 5, mismatch 0, gap open -4, extend -0.5); only
  identical aligned residues are compared;
* for every pair of native chains with at least one native contact (any heavy-atom
  pair < 5 Å): Fnat = native contacts kept in the model / native contacts;
  iRMSD = backbone (CA, C, N, O) RMSD after superposition over the native interface
  residues (any heavy atom < 10 Å of the partner chain); LRMSD = ligand backbone
  RMSD after superposing the receptor backbone (the receptor is the chain with more
  residues in the native; on a tie the second chain);
* DockQ = (Fnat + 1/(1+(iRMSD/1.5)²) + 1/(1+(LRMSD/8.5)²))/3 per interface; the
  model's DockQ is the mean over the native interfaces (the package's GlobalDockQ).

Difference: chains are matched by chain ID (the package's ``--mapping`` with identical
IDs on both sides); the package's search over chain permutations of homomers is not
done. A model that lacks one of the native's chains is an error naming both files.
The CAPRI class comes from DockQ with the thresholds 0.23 / 0.49 / 0.80.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np

from graphqa.structures.errors import StructureError, require
from graphqa.structures.parse import Residue, Structure, read_structure
from graphqa.superposition import kabsch, rmsd

FNAT_THRESHOLD = 5.0
INTERFACE_THRESHOLD = 10.0
BACKBONE_ATOMS = ("CA", "C", "N", "O")
CUSTOM_MAP = {"MSE": "M", "CME": "C"}


def capri_class(dockq: float) -> str:
    """CAPRI class from DockQ (0.23 / 0.49 / 0.80), as graphqa's labels use it."""
    from graphqa.data.labels import capri_class as _capri

    return _capri(dockq)


def dockq_formula(fnat: float, irms: float, lrms: float) -> float:
    return (fnat + 1 / (1 + (irms / 1.5) * (irms / 1.5)) + 1 / (1 + (lrms / 8.5) * (lrms / 8.5))) / 3


@dataclass(frozen=True)
class InterfaceScore:
    chains: tuple[str, str]
    fnat: float
    irmsd: float
    lrmsd: float
    dockq: float
    nat_total: int


@dataclass(frozen=True)
class DockQResult:
    dockq: float  # mean over native interfaces
    interfaces: list[InterfaceScore] = field(default_factory=list)

    @property
    def capri(self) -> str:
        return capri_class(self.dockq)

    @property
    def fnat(self) -> float:
        return float(np.mean([i.fnat for i in self.interfaces]))

    @property
    def irmsd(self) -> float:
        return float(np.mean([i.irmsd for i in self.interfaces]))

    @property
    def lrmsd(self) -> float:
        return float(np.mean([i.lrmsd for i in self.interfaces]))


def _one_letter(name: str) -> str:
    if len(name) == 3:
        seq1 = require("Bio.SeqUtils", "biopython").seq1
        return seq1(name, custom_map=CUSTOM_MAP)
    return name[-1] if len(name) == 2 else name


def chain_sequence(residues: list[Residue]) -> str:
    return "".join(_one_letter(r.name) for r in residues)


def aligned_pairs(model_seq: str, native_seq: str) -> list[tuple[int, int]]:
    """(model index, native index) of the identical residues of the DockQ package's alignment."""
    if model_seq == native_seq:
        return [(i, i) for i in range(len(model_seq))]
    align = require("Bio.Align", "biopython")
    aligner = align.PairwiseAligner()
    aligner.match = 5
    aligner.mismatch = 0
    aligner.open_gap_score = -4
    aligner.extend_gap_score = -0.5
    aln = aligner.align(model_seq, native_seq)[0]
    a, b = aln[0, :], aln[1, :]
    pairs, i, j = [], -1, -1
    for x, y in zip(a, b, strict=True):
        if x != "-":
            i += 1
        if y != "-":
            j += 1
        if x != "-" and y != "-" and x == y:
            pairs.append((i, j))
    return pairs


def residue_min_sq_distances(chain1: list[Residue], chain2: list[Residue]) -> np.ndarray:
    """Minimum squared heavy-atom distance for every residue pair [len1, len2]."""
    a = np.concatenate([r.coords for r in chain1])
    b = np.concatenate([r.coords for r in chain2])
    # |a|² + |b|² - 2 a·b: an [n_a, n_b] matrix instead of an [n_a, n_b, 3] one (large complexes)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    np.maximum(d, 0.0, out=d)
    starts1 = np.cumsum([0] + [len(r.coords) for r in chain1[:-1]])
    starts2 = np.cumsum([0] + [len(r.coords) for r in chain2[:-1]])
    return np.minimum.reduceat(np.minimum.reduceat(d, starts1, axis=0), starts2, axis=1)


def _backbone_pairs(model: list[Residue], native: list[Residue], subset) -> tuple[np.ndarray, np.ndarray]:
    mod, ref = [], []
    for i in subset:
        for name in BACKBONE_ATOMS:
            m, r = model[i].atom(name), native[i].atom(name)
            if m is not None and r is not None:
                mod.append(m)
                ref.append(r)
    return np.asarray(mod, dtype=np.float64).reshape(-1, 3), np.asarray(ref, dtype=np.float64).reshape(-1, 3)


def score_interface(model1: list[Residue], model2: list[Residue], native1: list[Residue],
                    native2: list[Residue]) -> InterfaceScore | None:
    """DockQ of one native chain pair (``None`` when the native chains have no contact)."""
    ref_full = residue_min_sq_distances(native1, native2)
    nat_total = int((ref_full < FNAT_THRESHOLD ** 2).sum())
    if nat_total == 0:
        return None
    p1 = aligned_pairs(chain_sequence(model1), chain_sequence(native1))
    p2 = aligned_pairs(chain_sequence(model2), chain_sequence(native2))
    s1, r1 = [model1[i] for i, _ in p1], [native1[j] for _, j in p1]
    s2, r2 = [model2[i] for i, _ in p2], [native2[j] for _, j in p2]
    if not s1 or not s2:
        raise ValueError("no aligned residues")
    sample = residue_min_sq_distances(s1, s2)
    ref = residue_min_sq_distances(r1, r2)
    native_contacts = ref < FNAT_THRESHOLD ** 2
    model_contacts = sample < FNAT_THRESHOLD ** 2
    fnat = float((native_contacts & model_contacts).sum()) / nat_total

    i1, i2 = np.nonzero(ref < INTERFACE_THRESHOLD ** 2)
    sub1 = sorted(set(i1.tolist())) or range(len(s1))
    sub2 = sorted(set(i2.tolist())) or range(len(s2))
    m1, n1 = _backbone_pairs(s1, r1, sub1)
    m2, n2 = _backbone_pairs(s2, r2, sub2)
    mob, refi = np.concatenate([m1, m2]), np.concatenate([n1, n2])
    rot, t = kabsch(mob, refi)
    irms = rmsd(mob @ rot.T + t, refi)

    if len(native1) > len(native2):
        rec_s, rec_r, lig_s, lig_r = s1, r1, s2, r2
    else:
        rec_s, rec_r, lig_s, lig_r = s2, r2, s1, r1
    rec_m, rec_n = _backbone_pairs(rec_s, rec_r, range(len(rec_s)))
    lig_m, lig_n = _backbone_pairs(lig_s, lig_r, range(len(lig_s)))
    rot, t = kabsch(rec_m, rec_n)
    lrms = rmsd(lig_m @ rot.T + t, lig_n)
    return InterfaceScore(chains=("", ""), fnat=fnat, irmsd=irms, lrmsd=lrms,
                          dockq=dockq_formula(fnat, irms, lrms), nat_total=nat_total)


def _open_text(path: Path):
    import gzip

    return gzip.open(path, "rt", errors="replace") if path.name.lower().endswith(".gz") else open(path, errors="replace")


def read_atom_records(path: str | Path) -> Structure:
    """The structure as the DockQ package reads it (see the module docstring)."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".cif", ".mmcif")):
        return read_structure(path, atom_records_only=True)
    if not path.is_file():
        raise StructureError(f"{path}: structure file not found", kind="unreadable")
    residues: list[Residue] = []
    current: tuple | None = None
    names: list[str] = []
    elements: list[str] = []
    coords: list[tuple[float, float, float]] = []

    def flush() -> None:
        if current is not None and names:
            residues.append(Residue(chain=current[0], number=current[1], icode=current[2], name=current[3],
                                    atom_names=tuple(names), elements=tuple(elements),
                                    coords=np.asarray(coords, dtype=np.float64), het=False))

    try:
        with _open_text(path) as handle:
            for line in handle:
                record = line[:6]
                if record == "ENDMDL":
                    break
                if record != "ATOM  ":
                    continue
                element = line[76:78].strip().upper()
                if element == "H":
                    continue
                key = (line[21], int(line[22:26]), line[26].strip(), line[17:20].strip())
                if key != current:
                    flush()
                    current, names, elements, coords = key, [], [], []
                atom = line[12:16].strip()
                if atom in names:  # another alternative location of the same atom
                    continue
                names.append(atom)
                elements.append(element)
                coords.append((float(line[30:38]), float(line[38:46]), float(line[46:54])))
    except (OSError, ValueError, EOFError) as exc:
        raise StructureError(f"{path}: not a readable PDB file: {exc}", kind="unreadable") from None
    flush()
    if not residues:
        raise StructureError(f"{path}: no ATOM records", kind="no_protein")
    return Structure(path=path, residues=residues)


@lru_cache(maxsize=8)
def _read_native(path: str) -> Structure:
    return read_atom_records(path)


def dockq(model_path: str | Path, native_path: str | Path) -> DockQResult:
    """DockQ of ``model_path`` against ``native_path`` (mean over the native interfaces).

    Example: ``dockq("model.pdb", "native.pdb").dockq`` -> 0.700 for DockQ's own example pair.
    """
    native = _read_native(str(native_path))
    model = read_atom_records(model_path)
    missing = [c for c in native.chains if c not in model.chains]
    if missing:
        raise StructureError(
            f"{model_path}: lacks chain(s) {', '.join(missing)} of its native {native_path} "
            f"(model chains: {', '.join(model.chains)}); chains are matched by ID", kind="dockq")
    scores = []
    for c1, c2 in combinations(native.chains, 2):
        try:
            score = score_interface(model.chain_residues(c1), model.chain_residues(c2),
                                    native.chain_residues(c1), native.chain_residues(c2))
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise StructureError(f"{model_path}: DockQ of chains {c1}:{c2} against {native_path} failed: {exc}",
                                 kind="dockq") from None
        if score is not None:
            scores.append(InterfaceScore(chains=(c1, c2), fnat=score.fnat, irmsd=score.irmsd, lrmsd=score.lrmsd,
                                         dockq=score.dockq, nat_total=score.nat_total))
    if not scores:
        raise StructureError(f"{native_path}: the native has no interface (no heavy-atom contact < 5 Å between "
                             "chains); DockQ is undefined", kind="native")
    return DockQResult(dockq=float(np.mean([s.dockq for s in scores])), interfaces=scores)
