"""Decoys for the real-structure example: rigid-body perturbations of real natives + real HADDOCK models.

For each native ``natives/<TARGET>.pdb.gz`` the smaller chain (the ligand) is rotated
about its centroid by an angle and translated by a distance, from the native itself
(DockQ 1) through near-native to far-off placements (incorrect), one decoy per row of
``PERTURBATIONS``; the rotation axis and translation direction are drawn from a
generator seeded with the target name, so the decoys are the same on every machine.
The HADDOCK models of 1AK4 (``haddock/1AK4/*.pdb.gz``, real docking decoys) are copied
as they are. Output: ``OUT/<TARGET>/<MODEL>.pdb`` (the layout ``graphqa graphs build`` reads).

Example: python examples/real_structures/make_decoys.py --out examples/real_structures/work/structures
"""

from __future__ import annotations

import argparse
import shutil
import zlib
from pathlib import Path

import gemmi
import numpy as np

HERE = Path(__file__).resolve().parent
# (rotation in degrees, translation in Å): native, near-native ... incorrect.
PERTURBATIONS = [(0, 0), (2, 0.5), (4, 1.0), (6, 1.5), (8, 2.0), (10, 3.0), (14, 4.0), (18, 5.0),
                 (25, 6.0), (35, 8.0), (50, 10.0), (70, 12.0)]


def rotation_matrix(axis: np.ndarray, degrees: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def perturb(native: Path, out_dir: Path, target: str) -> list[Path]:
    st = gemmi.read_structure(str(native))
    st.remove_hydrogens()
    model = st[0]
    sizes = {ch.name: len(ch) for ch in model}
    ligand = min(sizes, key=lambda name: (sizes[name], name))
    rng = np.random.default_rng(zlib.crc32(target.encode()))
    written = []
    for i, (degrees, shift) in enumerate(PERTURBATIONS):
        axis, direction = rng.normal(size=3), rng.normal(size=3)
        rot = rotation_matrix(axis, degrees)
        move = shift * direction / np.linalg.norm(direction)
        copy = st.clone()
        chain = copy[0][ligand]
        xyz = np.array([[a.pos.x, a.pos.y, a.pos.z] for r in chain for a in r])
        centre = xyz.mean(0)
        new = (xyz - centre) @ rot.T + centre + move
        k = 0
        for r in chain:
            for a in r:
                a.pos = gemmi.Position(*new[k])
                k += 1
        path = out_dir / target / f"{target}_rb{i:02d}.pdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        copy.write_pdb(str(path))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--natives", type=Path, default=HERE / "natives")
    parser.add_argument("--haddock", type=Path, default=HERE / "haddock")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    count = 0
    for native in sorted(args.natives.glob("*.pdb.gz")):
        target = native.name.removesuffix(".pdb.gz")
        count += len(perturb(native, args.out, target))
    for decoy in sorted(args.haddock.glob("*/*.pdb.gz")):
        dest = args.out / decoy.parent.name / decoy.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(decoy, dest)
        count += 1
    print(f"wrote {count} decoys to {args.out}")


if __name__ == "__main__":
    main()
