"""graphqa's DockQ labels of the example against the DockQ package (2.1.3, its own venv), model by model.

Reads ``<project>/data/labels/*.csv`` (written by the graphs stage) and runs the
package's ``DockQ`` on every labelled model against its native, chains mapped by ID;
writes ``<project>/dockq_agreement.csv`` and prints the largest absolute difference.
Exit status 1 if any differs by more than 1e-3.

Example: python examples/real_structures/check_dockq.py --project /tmp/graphqa-real-demo
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from graphqa.structures.dockq import read_atom_records
from graphqa.structures.dockq_package import find_dockq_executable, package_dockq

TOLERANCE = 1e-3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    args = parser.parse_args(argv)
    exe = find_dockq_executable()
    if exe is None:
        sys.exit("the DockQ package is not installed (make install puts it in .make/dockq)")
    root = args.project
    out_rows = []
    for split in ("train", "val", "test"):
        with open(root / "data" / "labels" / f"{split}.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                target, model = row["target"], row["MODEL"]
                structure = next((root / "work" / "structures" / target).glob(f"{model}.pdb*"))
                native = next((root / "structures" / "natives").glob(f"{target}.pdb*"))
                ref = package_dockq(structure, native, read_atom_records(native).chains, exe)["dockq"]
                ours = float(row["dockq"])
                out_rows.append({"target": target, "model": model, "graphqa": f"{ours:.6f}", "dockq_package": f"{ref:.6f}",
                                 "abs_diff": f"{abs(ours - ref):.6f}"})
    with open(root / "dockq_agreement.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out_rows[0]))
        writer.writeheader()
        writer.writerows(out_rows)
    worst = max(float(r["abs_diff"]) for r in out_rows)
    print(f"{len(out_rows)} models: max |graphqa - DockQ package| = {worst:.2e} (labels written with 6 decimals)")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()
