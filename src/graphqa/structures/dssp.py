"""Secondary structure, accessibility and backbone angles from ``mkdssp``.

The DSSP used is ``mkdssp`` 4.x (Debian's ``dssp`` package; the CMBI/PDB-REDO DSSP,
Kabsch & Sander 1983). It is run on the whole complex, so accessibilities are those
of the residue *in the complex*.

``mkdssp`` refuses a PDB file whose first line is not a HEADER record, and it reads
mmCIF only with a full set of entity categories. So it is always given a PDB file
written here from the parsed residues: a HEADER and CRYST1 line, then ATOM records
of the heavy atoms, chains renamed to single characters and residues renumbered
1..n per chain (so that mmCIF chain names longer than one character and insertion
codes never reach DSSP); the output is mapped back through the same renaming. No TER
records: mkdssp 4.2 drops a bare TER line and, with it, the first residue after it.
Modified residues are written under their parent's name (see
:func:`dssp_residue_name`), with all their atoms. At most 62 chains (A-Z, a-z, 0-9). ``mkdssp`` runs with an argument list (never a
shell) in a private temporary directory; a missing program or a failed run is a
:class:`~graphqa.structures.errors.StructureError` naming the structure.
"""

from __future__ import annotations

import shutil
import string
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graphqa.structures.errors import StructureError
from graphqa.structures.parse import Structure

CHAIN_LETTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits
MKDSSP = "mkdssp"
TIMEOUT_S = 600


@dataclass(frozen=True)
class DsspRecord:
    """DSSP's view of one residue."""

    ss: str  # one of H B E G I T S P or "-"
    acc: float  # accessible surface area, Å²
    phi: float  # degrees; 360 = undefined
    psi: float


def mkdssp_path() -> str:
    """The ``mkdssp`` executable, or a clear error when it is not installed."""
    found = shutil.which(MKDSSP)
    if not found:
        raise StructureError(
            "the 'mkdssp' program is needed to build graphs from structures; install Debian's 'dssp' "
            "package (apt-get install dssp) or put mkdssp 4.x on PATH",
            kind="missing_tool",
        )
    return found


def _atom_name(name: str, element: str) -> str:
    if len(name) >= 4 or len(element) > 1:
        return name[:4].ljust(4)
    return " " + name.ljust(3)


def dssp_residue_name(name: str) -> str:
    """The name DSSP is given: standard names as they are; a modified residue as its parent (LLP -> LYS,
    MSE -> MET), anything else as ALA. mkdssp 4 silently drops residues it has no compound entry
    for (a chain break in its output), and only the backbone matters for its assignment."""
    from graphqa.structures.residues import ONE_LETTER, STANDARD

    if name.upper() in STANDARD:
        return name.upper()
    try:
        import gemmi

        info = gemmi.find_tabulated_residue(name)
        code = info.one_letter_code.upper() if info is not None else ""
    except ImportError:  # pragma: no cover
        code = ""
    return STANDARD[ONE_LETTER.index(code)] if code and code in ONE_LETTER else "ALA"


def dssp_input(structure: Structure) -> tuple[str, dict[tuple[str, int], int]]:
    """The PDB text given to mkdssp, and (DSSP chain, DSSP number) -> residue index."""
    chains = structure.chains
    if len(chains) > len(CHAIN_LETTERS):
        raise StructureError(
            f"{structure.path}: {len(chains)} chains; DSSP input is limited to {len(CHAIN_LETTERS)}", kind="dssp"
        )
    letter = {c: CHAIN_LETTERS[i] for i, c in enumerate(chains)}
    lines = [
        "HEADER    GRAPHQA INPUT                           01-JAN-00   XXXX              ",
        "CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1          ",
    ]
    index: dict[tuple[str, int], int] = {}
    counters = dict.fromkeys(chains, 0)
    serial = 0
    for i, res in enumerate(structure.residues):
        ch = letter[res.chain]
        counters[res.chain] += 1
        number = counters[res.chain]
        if number > 9999:
            raise StructureError(f"{structure.path}: chain {res.chain} has more than 9999 residues", kind="dssp")
        index[(ch, number)] = i
        resname = dssp_residue_name(res.name)
        for name, element, (x, y, z) in zip(res.atom_names, res.elements, res.coords, strict=True):
            serial = serial % 99999 + 1
            lines.append(
                f"ATOM  {serial:5d} {_atom_name(name, element)} {resname:>3s} {ch}{number:4d}    "
                f"{x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00          {element[:2]:>2s}"
            )
    lines += ["END", ""]
    return "\n".join(lines), index


def parse_dssp(text: str, index: dict[tuple[str, int], int], source: str) -> dict[int, DsspRecord]:
    """Parse mkdssp's classic output into residue index -> :class:`DsspRecord`."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("  #  RESIDUE")), None)
    if start is None:
        raise StructureError(f"{source}: mkdssp wrote no residue table", kind="dssp")
    out: dict[int, DsspRecord] = {}
    for line in lines[start + 1:]:
        if len(line) < 115 or line[13] == "!":  # chain break marker
            continue
        try:
            key = (line[11], int(line[5:10]))
            record = DsspRecord(ss=line[16] if line[16] != " " else "-", acc=float(line[34:38]),
                                phi=float(line[103:109]), psi=float(line[109:115]))
        except ValueError:
            raise StructureError(f"{source}: unexpected mkdssp output line: {line[:40]!r}", kind="dssp") from None
        if key in index:
            out[index[key]] = record
    return out


def run_dssp(structure: Structure) -> dict[int, DsspRecord]:
    """DSSP records of the residues of ``structure`` (by residue index; residues DSSP skips are absent)."""
    exe = mkdssp_path()
    text, index = dssp_input(structure)
    with tempfile.TemporaryDirectory(prefix="graphqa-dssp-") as tmp:
        pdb, out = Path(tmp) / "input.pdb", Path(tmp) / "output.dssp"
        pdb.write_text(text, encoding="ascii", errors="replace")
        try:
            proc = subprocess.run([exe, "--output-format", "dssp", str(pdb), str(out)],
                                  capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise StructureError(f"{structure.path}: mkdssp ran longer than {TIMEOUT_S} s", kind="dssp") from None
        except OSError as exc:
            raise StructureError(f"{structure.path}: could not run mkdssp ({exc})", kind="dssp") from None
        if proc.returncode != 0 or not out.is_file():
            detail = " ".join((proc.stderr or proc.stdout or "no output").split())[:300]
            raise StructureError(f"{structure.path}: mkdssp failed (exit {proc.returncode}): {detail}", kind="dssp")
        return parse_dssp(out.read_text(encoding="ascii", errors="replace"), index, str(structure.path))
