"""Per-residue constants: residue-type one-hot, DSSP states, RSA reference areas, φ/ψ scaling.

Choices the TopoQA paper leaves open, made here:

* **Residue type**: the 20 standard amino acids by their three-letter names, in the
  alphabetical order of their one-letter codes (A C D E F G H I K L M N P Q R S T V W Y),
  then one "other" column for anything else (MSE, SEP, UNK, ...).
* **Secondary structure**: the 8 DSSP states H B E G I T S and ``-`` (coil). mkdssp 4
  also writes ``P`` (polyproline II); it is counted as coil, so the 8 columns are the
  classic DSSP alphabet and always sum to 1.
* **RSA**: DSSP's accessible surface area divided by the *theoretical* maximum of
  Tien et al. (2013, PLoS ONE 8:e80635), clipped to [0, 1]. Modified residues use their
  parent's maximum when gemmi knows the parent (MSE -> MET), else 200 Å² (about the
  mean of the 20).
* **φ, ψ**: DSSP's angles in degrees divided by 180, so in [-1, 1]; an undefined angle
  (DSSP writes 360: chain termini and breaks) is 0.
"""

from __future__ import annotations

STANDARD = ("ALA", "CYS", "ASP", "GLU", "PHE", "GLY", "HIS", "ILE", "LYS", "LEU",
            "MET", "ASN", "PRO", "GLN", "ARG", "SER", "THR", "VAL", "TRP", "TYR")
ONE_LETTER = "ACDEFGHIKLMNPQRSTVWY"
RESIDUE_COLUMNS = tuple(f"res_{c}" for c in ONE_LETTER) + ("res_other",)

SS_STATES = ("H", "B", "E", "G", "I", "T", "S", "-")
SS_COLUMNS = tuple(f"ss_{'coil' if s == '-' else s}" for s in SS_STATES)

# Tien et al. 2013, theoretical maximum ASA (Å²).
MAX_ASA = {
    "ALA": 129.0, "ARG": 274.0, "ASN": 195.0, "ASP": 193.0, "CYS": 167.0,
    "GLN": 225.0, "GLU": 223.0, "GLY": 104.0, "HIS": 224.0, "ILE": 197.0,
    "LEU": 201.0, "LYS": 236.0, "MET": 224.0, "PHE": 240.0, "PRO": 159.0,
    "SER": 155.0, "THR": 172.0, "TRP": 285.0, "TYR": 263.0, "VAL": 174.0,
}
DEFAULT_MAX_ASA = 200.0
UNDEFINED_ANGLE = 360.0


def residue_type_index(name: str) -> int:
    """Column of the residue-type one-hot (20 for "other")."""
    try:
        return STANDARD.index(name.upper())
    except ValueError:
        return len(STANDARD)


def ss_index(state: str) -> int:
    """Column of the 8-state one-hot; anything outside H B E G I T S is coil."""
    return SS_STATES.index(state) if state in SS_STATES[:-1] else len(SS_STATES) - 1


def max_asa(name: str) -> float:
    """Theoretical maximum ASA of a residue (parent's for modified residues)."""
    name = name.upper()
    if name in MAX_ASA:
        return MAX_ASA[name]
    try:
        import gemmi

        info = gemmi.find_tabulated_residue(name)
        code = info.one_letter_code.upper() if info is not None else ""
    except ImportError:  # pragma: no cover - gemmi is installed wherever structures are parsed
        code = ""
    if code and code in ONE_LETTER:
        return MAX_ASA[STANDARD[ONE_LETTER.index(code)]]
    return DEFAULT_MAX_ASA


def relative_accessibility(name: str, acc: float) -> float:
    return min(max(acc / max_asa(name), 0.0), 1.0)


def scale_angle(degrees: float) -> float:
    """φ or ψ in degrees -> [-1, 1]; DSSP's 360 (undefined) -> 0."""
    if abs(degrees) >= UNDEFINED_ANGLE - 1e-6:
        return 0.0
    return degrees / 180.0
