"""Synthetic two-chain protein complexes and rigid-body docking decoys (for the demo dataset).

A target is a native complex of a receptor and a ligand chain: compact Cα
traces (3.8 Å steps, self-avoiding, in an ellipsoid), heavy atoms built from
each residue's type in a local frame (real heavy-atom counts and elements),
secondary structure and backbone dihedrals per residue. The native pose is
the best-packed of many rigid dockings; residues at the native interface get
interface propensities (hydrophobic, aromatic, Arg), other surface residues
are mostly polar or charged, core residues hydrophobic.

A decoy keeps both chains' internal structure and moves the ligand rigidly:
a rotation and shift of a chosen magnitude (near-native to random), then a
slide along the line between the centroids back into contact, as a docking
program would place it, plus small per-residue coordinate noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Residue order of the real builder's AA_0..AA_20 one-hot (AA_20 = UNK).
AMINO_ACIDS: tuple[str, ...] = (
    "ALA", "CYS", "ASP", "GLU", "PHE", "GLY", "HIS", "ILE", "LYS", "LEU",
    "MET", "ASN", "PRO", "GLN", "ARG", "SER", "THR", "VAL", "TRP", "TYR",
)
# DSSP 8-state order of the real builder's SS8_0..SS8_7 one-hot.
SS8_STATES: tuple[str, ...] = ("H", "B", "E", "G", "I", "T", "S", "-")

# Side-chain heavy atoms (elements, in order from CB) of each residue type.
SIDE_CHAINS: dict[str, str] = {
    "ALA": "C", "CYS": "CS", "ASP": "CCOO", "GLU": "CCCOO", "PHE": "CCCCCCC", "GLY": "",
    "HIS": "CCNCCN", "ILE": "CCCC", "LYS": "CCCCN", "LEU": "CCCC", "MET": "CCSC", "ASN": "CCON",
    "PRO": "CCC", "GLN": "CCCON", "ARG": "CCCNCNN", "SER": "CO", "THR": "COC", "VAL": "CCC",
    "TRP": "CCCCNCCCCC", "TYR": "CCCCCCCO",
}
ELEMENTS: tuple[str, ...] = ("C", "N", "O", "S")
MAX_ATOMS = 4 + max(len(s) for s in SIDE_CHAINS.values())  # 14 (TRP)
NO_ATOM = 255

# Residue-type preferences by environment (weights over AMINO_ACIDS).
_INTERFACE = dict(LEU=9, ILE=7, VAL=5, PHE=8, TRP=7, TYR=9, MET=5, ARG=6, HIS=3, ALA=3, GLY=2, PRO=2,
                  THR=2, SER=1, ASN=1, GLN=1, CYS=2, ASP=1, GLU=1, LYS=1)
_SURFACE = dict(LYS=9, GLU=9, ASP=8, GLN=6, ASN=6, SER=6, THR=5, ARG=4, GLY=4, PRO=4, ALA=3, HIS=2,
                LEU=1, ILE=1, VAL=1, PHE=0.5, TRP=0.3, TYR=0.8, MET=0.5, CYS=0.3)
_CORE = dict(LEU=9, ILE=8, VAL=8, PHE=6, ALA=6, MET=3, TRP=2, TYR=2, CYS=3, GLY=3, THR=2, SER=1,
             PRO=1, HIS=1, ASN=0.5, GLN=0.5, ASP=0.3, GLU=0.3, LYS=0.3, ARG=0.5)

# Backbone dihedral centres (phi, psi) per SS8 state, degrees.
_DIHEDRALS = {"H": (-63, -43), "G": (-57, -30), "I": (-57, -70), "E": (-120, 130), "B": (-120, 130),
              "T": (-60, -20), "S": (-85, 75), "-": (-80, 150)}

CA_STEP = 3.8
CONTACT_CA = 8.0


def _probabilities(weights: dict[str, float]) -> np.ndarray:
    p = np.array([weights[a] for a in AMINO_ACIDS], dtype=float)
    return p / p.sum()


def random_rotation(rng: np.random.Generator, max_angle_deg: float | None = None) -> np.ndarray:
    """A rotation matrix: uniform over SO(3) if ``max_angle_deg`` is None, else about a random axis by an angle up to it."""
    if max_angle_deg is None:
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        w, x, y, z = q
        return np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(max_angle_deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def ca_trace(n: int, rng: np.random.Generator) -> np.ndarray:
    """A compact, self-avoiding Cα trace of ``n`` residues centred at the origin."""
    radius = 2.2 * n ** 0.38 * np.sqrt(5.0 / 3.0) + 1.5
    axes = radius * rng.uniform(0.8, 1.25, size=3)
    axes *= radius / np.cbrt(axes.prod())  # same volume, ellipsoidal shape
    pos = np.zeros((n, 3))
    pos[0] = rng.normal(size=3) * 2.0
    prev = rng.normal(size=3)
    prev /= np.linalg.norm(prev)
    for i in range(1, n):
        best, best_score = None, -np.inf
        for trial in range(40):
            d = rng.normal(size=3)
            d /= np.linalg.norm(d)
            cos = float(d @ prev)
            if i >= 2 and not -0.1 <= cos <= 0.65:  # virtual bond angle ~ 85-125 degrees
                continue
            cand = pos[i - 1] + CA_STEP * d
            inside = float(((cand / axes) ** 2).sum())
            clash = np.sqrt(((pos[: max(i - 2, 0)] - cand) ** 2).sum(-1)).min() if i > 2 else 99.0
            score = -max(0.0, inside - 1.0) * 10 - max(0.0, 4.2 - clash) * 5
            if score > best_score:
                best, best_score = d, score
            if score == 0.0 and trial >= 3:
                break
        if best is None:
            best = -prev
        pos[i] = pos[i - 1] + CA_STEP * best
        prev = best
    return pos - pos.mean(0)


def _frames(ca: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-residue orthonormal frame: chain tangent, outward bisector, normal."""
    padded = np.concatenate([2 * ca[:1] - ca[1:2], ca, 2 * ca[-1:] - ca[-2:-1]])
    prev, nxt = padded[:-2], padded[2:]
    t = nxt - prev
    t /= np.linalg.norm(t, axis=1, keepdims=True) + 1e-9
    b = ca - 0.5 * (prev + nxt)
    outward = ca - ca.mean(0)
    b = np.where(np.linalg.norm(b, axis=1, keepdims=True) < 0.3, outward, b)
    b -= (b * t).sum(1, keepdims=True) * t
    b /= np.linalg.norm(b, axis=1, keepdims=True) + 1e-9
    n = np.cross(t, b)
    return t, b, n


def build_atoms(ca: np.ndarray, residue_types: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heavy atoms per residue: (atoms [n, MAX_ATOMS, 3], mask [n, MAX_ATOMS], element codes [n, MAX_ATOMS])."""
    n = len(ca)
    t, b, nrm = _frames(ca)
    atoms = np.zeros((n, MAX_ATOMS, 3))
    mask = np.zeros((n, MAX_ATOMS), dtype=bool)
    elements = np.full((n, MAX_ATOMS), NO_ATOM, dtype=np.uint8)

    def local(coeffs: tuple[float, float, float]) -> np.ndarray:
        return coeffs[0] * t + coeffs[1] * b + coeffs[2] * nrm

    atoms[:, 0] = ca + local((-1.20, -0.30, 0.75))  # N
    atoms[:, 1] = ca  # CA
    atoms[:, 2] = ca + local((1.25, -0.25, -0.70))  # C
    atoms[:, 3] = ca + local((1.75, -0.90, -1.60))  # O
    mask[:, :4] = True
    elements[:, :4] = [1, 0, 0, 2]
    # Side chains grow outwards from CA along the bisector, zig-zagging.
    tilt = rng.normal(scale=0.35, size=(n, 2))
    direction = b + tilt[:, :1] * t + tilt[:, 1:] * nrm
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    side = np.cross(direction, t)
    side /= np.linalg.norm(side, axis=1, keepdims=True) + 1e-9
    lengths = np.array([len(SIDE_CHAINS[AMINO_ACIDS[r]]) for r in residue_types])
    for k in range(MAX_ATOMS - 4):
        has = lengths > k
        if not has.any():
            break
        if k == 0:
            pos = ca + 1.53 * direction
        else:
            zig = (1 if k % 2 else -1) * 0.75
            pos = atoms[:, 3 + k] + 1.25 * direction + zig * side
        atoms[has, 4 + k] = pos[has]
        mask[has, 4 + k] = True
        for i in np.nonzero(has)[0]:
            elements[i, 4 + k] = ELEMENTS.index(SIDE_CHAINS[AMINO_ACIDS[residue_types[i]]][k])
    atoms[~mask] = 0.0
    return atoms, mask, elements


def secondary_structure(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SS8 state ids and (phi, psi) in degrees, as segments of helix, strand and loop."""
    states = []
    while len(states) < n:
        kind = rng.choice(["H", "E", "loop"], p=[0.45, 0.25, 0.30])
        if kind == "H":
            seg = ["H"] * int(rng.integers(6, 17))
            if rng.random() < 0.2:
                seg = ["G"] * 3 + seg
        elif kind == "E":
            seg = ["E"] * int(rng.integers(3, 9))
            if rng.random() < 0.15:
                seg.append("B")
        else:
            seg = list(rng.choice(["T", "S", "-", "-", "T", "I"], size=int(rng.integers(2, 7))))
        states.extend(seg)
    states = states[:n]
    ids = np.array([SS8_STATES.index(s) for s in states])
    centres = np.array([_DIHEDRALS[s] for s in states], dtype=float)
    noise = rng.normal(scale=[[12.0, 15.0]], size=(n, 2))
    angles = (centres + noise + 180.0) % 360.0 - 180.0
    return ids, angles[:, 0], angles[:, 1]


@dataclass
class Chain:
    """One chain: Cα trace, heavy atoms and per-residue annotations."""

    atoms: np.ndarray  # [n, MAX_ATOMS, 3]
    mask: np.ndarray  # [n, MAX_ATOMS]
    elements: np.ndarray  # [n, MAX_ATOMS] codes into ELEMENTS, NO_ATOM where absent
    residue_types: np.ndarray  # [n] index into AMINO_ACIDS
    ss8: np.ndarray  # [n] index into SS8_STATES
    phi: np.ndarray  # [n] degrees
    psi: np.ndarray  # [n] degrees

    @property
    def ca(self) -> np.ndarray:
        return self.atoms[:, 1]

    def moved(self, atoms: np.ndarray) -> Chain:
        return Chain(atoms, self.mask, self.elements, self.residue_types, self.ss8, self.phi, self.psi)


def slide_into_contact(receptor_ca: np.ndarray, ligand_ca: np.ndarray, contact: float) -> np.ndarray:
    """Translation along the centroid line that brings the ligand to ``contact`` Å (min Cα–Cα) from the receptor.

    The ligand is first centred on the receptor, then moved out along the axis to the
    furthest position at which some residue pair is exactly ``contact`` apart: the
    first touch of a ligand coming in from far away, solved in closed form per pair.
    """
    centre = receptor_ca.mean(0)
    axis = ligand_ca.mean(0) - centre
    norm = np.linalg.norm(axis)
    axis = axis / norm if norm > 1e-6 else np.array([1.0, 0.0, 0.0])
    start = ligand_ca - ligand_ca.mean(0) + centre
    v = receptor_ca[:, None] - start[None]  # [nr, nl, 3]; distance(s) = |v - s * axis|
    along = v @ axis
    disc = contact**2 - ((v * v).sum(-1) - along**2)  # contact² - perpendicular distance²
    touching = disc >= 0
    s = float((along + np.sqrt(np.where(touching, disc, 0.0)))[touching].max()) if touching.any() else float(along.max())
    return start + s * axis - ligand_ca


@dataclass
class Target:
    """A native complex."""

    name: str
    receptor: Chain
    ligand: Chain  # in its native pose
    contact: float  # native min Cα–Cα distance


def _pose(receptor_ca: np.ndarray, ligand_ca: np.ndarray, rotation: np.ndarray, direction: np.ndarray,
          contact: float) -> np.ndarray:
    centred = (ligand_ca - ligand_ca.mean(0)) @ rotation.T + receptor_ca.mean(0) + direction
    return centred + slide_into_contact(receptor_ca, centred, contact)


def make_target(name: str, rng: np.random.Generator) -> Target:
    """A native two-chain complex with an interface of realistic composition."""
    n_rec, n_lig = int(rng.integers(90, 161)), int(rng.integers(55, 111))
    rec_ca, lig_ca = ca_trace(n_rec, rng), ca_trace(n_lig, rng)
    contact = float(rng.uniform(4.6, 5.4))
    # The native pose: the best-packed of many rigid dockings.
    best, best_contacts = None, -1
    for _ in range(48):
        placed = _pose(rec_ca, lig_ca, random_rotation(rng), rng.normal(size=3), contact)
        d = np.sqrt(((rec_ca[:, None] - placed[None]) ** 2).sum(-1))
        contacts = int((d < CONTACT_CA).sum())
        if contacts > best_contacts:
            best, best_contacts = placed, contacts
    lig_ca = best
    chains = []
    for own, other in ((rec_ca, lig_ca), (lig_ca, rec_ca)):
        n = len(own)
        burial = (np.sqrt(((own[:, None] - own[None]) ** 2).sum(-1)) < 10.0).sum(1)
        at_interface = np.sqrt(((own[:, None] - other[None]) ** 2).sum(-1)).min(1) < 10.0
        core = burial >= np.quantile(burial, 0.6)
        types = np.where(
            at_interface,
            rng.choice(20, size=n, p=_probabilities(_INTERFACE)),
            np.where(core, rng.choice(20, size=n, p=_probabilities(_CORE)), rng.choice(20, size=n, p=_probabilities(_SURFACE))),
        )
        ss8, phi, psi = secondary_structure(n, rng)
        atoms, mask, elements = build_atoms(own, types, rng)
        chains.append(Chain(atoms, mask, elements, types, ss8, phi, psi))
    return Target(name=name, receptor=chains[0], ligand=chains[1], contact=contact)


# Decoy quality tiers: (max rotation in degrees or None = random, max shift in Å).
# Best to worst: near_native mostly High, close mostly Medium, nearby Acceptable or Incorrect,
# misdocked (near the site, badly turned) mostly Incorrect, wrong_site always Incorrect.
TIERS: dict[str, tuple[float | None, float]] = {
    "near_native": (6.0, 1.2),
    "close": (16.0, 4.0),
    "nearby": (45.0, 10.0),
    "misdocked": (120.0, 18.0),
    "wrong_site": (None, 0.0),
}


def make_decoy(target: Target, tier: str, rng: np.random.Generator) -> tuple[Chain, Chain]:
    """A rigid-body docking decoy of ``target`` of the given quality tier: (receptor, ligand)."""
    max_angle, max_shift = TIERS[tier]
    rec = target.receptor
    lig_ca = target.ligand.ca
    centre = lig_ca.mean(0)
    if max_angle is None:
        rotation = random_rotation(rng)
        direction = rng.normal(size=3)
        new_centre = rec.ca.mean(0) + direction / np.linalg.norm(direction) * 30.0
    else:
        rotation = random_rotation(rng, float(rng.uniform(0.0, max_angle)))
        shift = rng.normal(size=3)
        new_centre = centre + shift / np.linalg.norm(shift) * rng.uniform(0.0, max_shift)
    lig_atoms = (target.ligand.atoms - centre) @ rotation.T + new_centre
    contact = target.contact + float(rng.normal(scale=0.25))
    lig_atoms = lig_atoms + slide_into_contact(rec.ca, lig_atoms[:, 1], contact)[:, None, :]

    def flex(chain: Chain, atoms: np.ndarray) -> Chain:
        n = len(atoms)
        jitter = rng.normal(scale=0.35, size=(n, 1, 3)) + rng.normal(scale=0.12, size=(n, MAX_ATOMS, 3))
        return chain.moved(np.where(chain.mask[..., None], atoms + jitter, 0.0))

    return flex(rec, rec.atoms), flex(target.ligand, lig_atoms)
