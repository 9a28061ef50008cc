"""DockQ of a two-chain model against its native, from coordinates.

DockQ = (Fnat + 1/(1 + (iRMS/1.5)²) + 1/(1 + (LRMS/8.5)²)) / 3  (Basu & Wallner 2016), with

* Fnat: fraction of native residue contacts (any heavy-atom pair < 5 Å) kept in the model;
* iRMS: backbone RMSD of the native interface residues (any heavy atom < 10 Å of the
  partner chain) after optimal superposition of those residues;
* LRMS: backbone RMSD of the ligand (smaller chain) after superposing the receptor.

Chains are given as padded per-residue atom arrays ``[n_res, K, 3]`` with a mask
``[n_res, K]``; atoms 0..3 are the backbone N, CA, C, O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphqa.data.labels import capri_class
from graphqa.superposition import kabsch, rmsd

FNAT_CONTACT = 5.0
INTERFACE_CUTOFF = 10.0
BACKBONE = slice(0, 4)
_MAX_REACH = 8.0  # no heavy atom is further than this from its residue's CA


def dockq_score(fnat: float, irms: float, lrms: float) -> float:
    """The DockQ formula."""
    return (fnat + 1.0 / (1.0 + (irms / 1.5) ** 2) + 1.0 / (1.0 + (lrms / 8.5) ** 2)) / 3.0


def superposed_rmsd(mobile: np.ndarray, reference: np.ndarray) -> float:
    """RMSD after optimal superposition of ``mobile`` onto ``reference``."""
    rotation, t = kabsch(mobile, reference)
    return rmsd(mobile @ rotation.T + t, reference)


def residue_min_distance(
    atoms_a: np.ndarray, mask_a: np.ndarray, atoms_b: np.ndarray, mask_b: np.ndarray, cutoff: float
) -> np.ndarray:
    """Min heavy-atom distance for every residue pair (a, b) that could be within ``cutoff`` (else inf)."""
    ca_a, ca_b = atoms_a[:, 1], atoms_b[:, 1]
    ca_d = np.sqrt(((ca_a[:, None] - ca_b[None]) ** 2).sum(-1))
    out = np.full(ca_d.shape, np.inf)
    ia, ib = np.nonzero(ca_d < cutoff + 2 * _MAX_REACH)
    if ia.size:
        d = np.sqrt(((atoms_a[ia][:, :, None] - atoms_b[ib][:, None]) ** 2).sum(-1))
        valid = mask_a[ia][:, :, None] & mask_b[ib][:, None]
        out[ia, ib] = np.where(valid, d, np.inf).min(axis=(1, 2))
    return out


@dataclass(frozen=True)
class DockQResult:
    fnat: float
    irms: float
    lrms: float
    dockq: float
    capri: str


@dataclass(frozen=True)
class DockQReference:
    """The native complex, with its contacts and interface precomputed."""

    receptor: np.ndarray  # [nr, K, 3]
    ligand: np.ndarray  # [nl, K, 3]
    contacts: np.ndarray  # bool [nr, nl]
    interface_receptor: np.ndarray  # residue indices
    interface_ligand: np.ndarray

    @classmethod
    def from_native(cls, receptor: np.ndarray, receptor_mask: np.ndarray, ligand: np.ndarray,
                    ligand_mask: np.ndarray) -> DockQReference:
        dmin = residue_min_distance(receptor, receptor_mask, ligand, ligand_mask, INTERFACE_CUTOFF)
        return cls(
            receptor=receptor,
            ligand=ligand,
            contacts=dmin < FNAT_CONTACT,
            interface_receptor=np.nonzero((dmin < INTERFACE_CUTOFF).any(1))[0],
            interface_ligand=np.nonzero((dmin < INTERFACE_CUTOFF).any(0))[0],
        )

    def score(self, receptor: np.ndarray, receptor_mask: np.ndarray, ligand: np.ndarray,
              ligand_mask: np.ndarray) -> DockQResult:
        """DockQ of a model (same residues and atom layout as the native)."""
        # Fnat only needs the native contact pairs: is each still in contact in the model?
        ci, cj = np.nonzero(self.contacts)
        if ci.size:
            d = np.sqrt(((receptor[ci][:, :, None] - ligand[cj][:, None]) ** 2).sum(-1))
            valid = receptor_mask[ci][:, :, None] & ligand_mask[cj][:, None]
            fnat = float((np.where(valid, d, np.inf).min(axis=(1, 2)) < FNAT_CONTACT).mean())
        else:
            fnat = 0.0

        def backbone(rec: np.ndarray, lig: np.ndarray) -> np.ndarray:
            return np.concatenate([rec[self.interface_receptor, BACKBONE].reshape(-1, 3),
                                   lig[self.interface_ligand, BACKBONE].reshape(-1, 3)])

        irms = superposed_rmsd(backbone(receptor, ligand), backbone(self.receptor, self.ligand))
        rotation, t = kabsch(receptor[:, BACKBONE].reshape(-1, 3), self.receptor[:, BACKBONE].reshape(-1, 3))
        moved_ligand = ligand[:, BACKBONE].reshape(-1, 3) @ rotation.T + t
        lrms = rmsd(moved_ligand, self.ligand[:, BACKBONE].reshape(-1, 3))
        score = dockq_score(fnat, irms, lrms)
        return DockQResult(fnat=fnat, irms=irms, lrms=lrms, dockq=score, capri=capri_class(score))
