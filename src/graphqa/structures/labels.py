"""Labels CSVs from DockQ, split by target.

``labels/{train,val,test}.csv`` with columns ``MODEL,dockq,capri,target,fnat,irmsd,lrmsd``
(graphqa reads MODEL, dockq, capri and target; the others are for people), rows
sorted by target then model, numbers with 6 decimals. Every model of a target is in
the same split, so no target leaks between training and testing.

Split: either a user mapping ``target -> split`` (a JSON object), or a deterministic
one: the targets sorted by name, shuffled with ``numpy.random.default_rng(seed)``,
then cut into val and test parts of ``round(fraction × n)`` targets (at least one
each), the rest train. Three targets at least are needed for the automatic split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

SPLITS = ("train", "val", "test")
COLUMNS = ("MODEL", "dockq", "capri", "target", "fnat", "irmsd", "lrmsd")


def assign_splits(targets: list[str], val_fraction: float = 0.15, test_fraction: float = 0.15,
                  seed: int = 222) -> dict[str, str]:
    """Deterministic target -> split (see the module docstring)."""
    names = sorted(set(targets))
    if len(names) < 3:
        raise ValueError(f"{len(names)} target(s) with labels ({', '.join(names) or 'none'}); a train/val/test split "
                         "by target needs at least 3, or give the split with --splits FILE.json")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_val = max(1, round(val_fraction * len(names)))
    n_test = max(1, round(test_fraction * len(names)))
    if n_val + n_test >= len(names):
        n_val = n_test = 1
    split = {t: "val" for t in order[:n_val]}
    split.update({t: "test" for t in order[n_val:n_val + n_test]})
    split.update({t: "train" for t in order[n_val + n_test:]})
    return split


def read_split_file(path: str | Path) -> dict[str, str]:
    """A JSON object ``{"TARGET": "train" | "val" | "test", ...}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the split file ({exc}); expected a JSON object target -> split") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and v in SPLITS for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object mapping each target to one of {', '.join(SPLITS)}")
    return {str(k): v for k, v in data.items()}


def write_labels(rows: list[dict[str, Any]], split_of: dict[str, str], out_dir: str | Path) -> dict[str, int]:
    """Write ``<out_dir>/{train,val,test}.csv``; rows need model, target, dockq, capri, fnat, irmsd, lrmsd."""
    from graphqa.io import write_text

    out_dir = Path(out_dir)
    missing = sorted({r["target"] for r in rows} - set(split_of))
    if missing:
        raise ValueError(f"no split given for target(s) {', '.join(missing[:5])}; add them to the split file")
    counts = {}
    for split in SPLITS:
        chosen = sorted((r for r in rows if split_of[r["target"]] == split), key=lambda r: (r["target"], r["model"]))
        lines = [",".join(COLUMNS)]
        for r in chosen:
            lines.append(f"{r['model']},{r['dockq']:.6f},{r['capri']},{r['target']},"
                         f"{r['fnat']:.6f},{r['irmsd']:.6f},{r['lrmsd']:.6f}")
        write_text(out_dir / f"{split}.csv", "\n".join(lines) + "\n")
        counts[split] = len(chosen)
    return counts
