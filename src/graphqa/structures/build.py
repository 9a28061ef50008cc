"""A directory of structures -> a graphqa dataset (``graphs/``, ``labels/``, ``build_report.json``).

Input layout (PDB / mmCIF, ``.gz`` too): ``STRUCTURES/<TARGET>/<MODEL>.pdb`` (nested)
or ``STRUCTURES/<MODEL>.pdb`` (flat: the target is the name before the first ``_``);
a single file works too. Natives: ``NATIVES/<TARGET>.pdb`` (any supported suffix).

Output (``OUT``): ``graphs/<TARGET>/<MODEL>.pt`` and ``graphs/graph_metadata.json``
(what ``graphqa data check`` and the schema stage read); with natives,
``labels/{train,val,test}.csv`` (DockQ v2 + CAPRI class, split by target); always
``build_report.json``: counts, every failure (file, kind, message), the wall seconds
and the CPU seconds (featurizer + mkdssp) each structure took; the timings are the
only part of the output that changes from run to run. A structure that fails (unreadable, no interface, missing
backbone atoms, DSSP failure, no DockQ) is named in the report and skipped; the rest
go on. A missing tool (gemmi, GUDHI, mkdssp) stops the build at once.

Structures are featurized in parallel worker processes. The output does not depend
on the number of workers or their order: each graph depends only on its file, and
the metadata and labels are sorted.
"""

from __future__ import annotations

import io
import os
import shutil
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphqa.structures.errors import StructureError
from graphqa.structures.parse import is_structure_file, structure_stem

REPORT = "build_report.json"


@dataclass(frozen=True)
class Job:
    target: str
    model: str
    path: Path
    native: Path | None

    @property
    def key(self) -> str:
        return f"{self.target}/{self.model}"


def discover(structures: str | Path) -> list[tuple[str, str, Path]]:
    """(target, model, path) of every structure file under ``structures``, sorted."""
    root = Path(structures)
    if root.is_file():
        files = [root]
        base = root.parent
    elif root.is_dir():
        base = root
        files = [p for p in root.rglob("*") if is_structure_file(p)
                 and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    else:
        raise ValueError(f"{root}: no such file or directory; expected structure files (PDB / mmCIF, .gz too)")
    if not files:
        raise ValueError(f"{root}: no structure files found (suffixes .pdb, .ent, .cif, .mmcif, optionally .gz)")
    out = []
    for path in files:
        model = structure_stem(path)
        parent = path.parent.relative_to(base).as_posix() if root.is_dir() else "."
        target = parent.rsplit("/", 1)[-1] if parent != "." else model.split("_", 1)[0]
        out.append((target, model, path))
    out.sort(key=lambda t: (t[0], t[1]))
    keys = {}
    for target, model, path in out:
        if (target, model) in keys:
            raise ValueError(f"{path} and {keys[(target, model)]} are both model {model!r} of target {target!r}; "
                             "rename one")
        keys[(target, model)] = path
    return out


def find_natives(natives: str | Path) -> dict[str, Path]:
    """target -> native file, from ``NATIVES/<TARGET>.<suffix>``."""
    root = Path(natives)
    if not root.is_dir():
        raise ValueError(f"{root}: natives directory not found; expected <TARGET>.pdb / .cif files")
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if is_structure_file(path):
            target = structure_stem(path)
            if target in found:
                raise ValueError(f"{path} and {found[target]} are both natives of target {target!r}")
            found[target] = path
    if not found:
        raise ValueError(f"{root}: no native structure files found")
    return found


def _work(job: Job, graphs_dir: str, chain_pairs: list[tuple[str, str]] | None) -> dict[str, Any]:
    """Featurize (and score) one structure in a worker; never raises except for a missing tool."""
    import torch  # imported before the clock starts: a worker's first structure does not pay for it

    from graphqa.io import atomic_path
    from graphqa.structures.featurize import featurize_structure

    torch.set_num_threads(1)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    result: dict[str, Any] = {"key": job.key, "target": job.target, "model": job.model, "path": str(job.path)}
    try:
        graph = featurize_structure(job.path, chain_pairs)
        out = Path(graphs_dir) / job.target / f"{job.model}.pt"
        out.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()  # torch names the zip records after the file: save to memory, so the bytes are fixed
        torch.save(graph, buffer)
        with atomic_path(out) as tmp:
            tmp.write_bytes(buffer.getvalue())
        result.update(nodes=int(graph["x"].shape[0]), edges=int(graph["edge_index"].shape[1]))
        if job.native is not None:
            from graphqa.structures.dockq import dockq

            score = dockq(job.path, job.native)
            result["label"] = {"model": job.model, "target": job.target, "dockq": score.dockq, "capri": score.capri,
                               "fnat": score.fnat, "irmsd": score.irmsd, "lrmsd": score.lrmsd}
    except StructureError as exc:
        if exc.kind == "missing_tool":
            raise
        result["error"] = {"kind": exc.kind, "message": str(exc)}
    except Exception as exc:  # one bad structure must not stop the others; the report names it
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result["error"] = {"kind": "error", "message": f"{job.path}: {type(exc).__name__}: {exc} "
                                                       f"(at {Path(last.filename).name}:{last.lineno})"}
    result["seconds"] = round(time.perf_counter() - start, 3)
    result["cpu_seconds"] = round(_cpu_seconds() - cpu_start, 3)
    return result


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (mkdssp): per-structure cost on a busy machine."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def build_dataset(structures: str | Path, out: str | Path, natives: str | Path | None = None, *,
                  chain_pairs: list[tuple[str, str]] | None = None, workers: int = 0, overwrite: bool = False,
                  splits_file: str | Path | None = None, seed: int = 222, val_fraction: float = 0.15,
                  test_fraction: float = 0.15, progress=None) -> dict[str, Any]:
    """Build the dataset (see the module docstring); returns the report written to ``OUT/build_report.json``."""
    from graphqa.io import write_json
    from graphqa.structures import labels as labels_mod
    from graphqa.structures.columns import graph_metadata
    from graphqa.structures.dssp import mkdssp_path
    from graphqa.structures.errors import require

    require("gemmi")
    require("gudhi")
    mkdssp_path()
    found = discover(structures)
    native_of = find_natives(natives) if natives is not None else {}
    if natives is not None:
        require("Bio", "biopython")
    out = Path(out)
    graphs_dir, labels_dir = out / "graphs", out / "labels"
    for d in (graphs_dir, labels_dir):
        if d.exists() and any(d.iterdir()):
            if not overwrite:
                raise ValueError(f"{d}: exists and is not empty; choose another --out or pass --overwrite")
            shutil.rmtree(d)
    graphs_dir.mkdir(parents=True, exist_ok=True)

    jobs = [Job(t, m, p, native_of.get(t)) for t, m, p in found]
    no_native = sorted({j.target for j in jobs if natives is not None and j.native is None})
    if natives is not None and splits_file is None:  # fail before the long part, not after it
        labels_mod.assign_splits([j.target for j in jobs if j.native is not None], val_fraction, test_fraction, seed)
    workers = workers or min(os.cpu_count() or 1, 8)
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    hook = progress or (lambda done, total: None)
    hook(0, len(jobs))
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            results.append(_work(job, str(graphs_dir), chain_pairs))
            hook(len(results), len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = [pool.submit(_work, job, str(graphs_dir), chain_pairs) for job in jobs]
            for future in as_completed(futures):
                results.append(future.result())
                hook(len(results), len(jobs))
    results.sort(key=lambda r: r["key"])
    wall = time.perf_counter() - start

    ok = [r for r in results if "nodes" in r]
    failures = [{"structure": r["path"], "kind": r["error"]["kind"], "message": r["error"]["message"]}
                for r in results if "error" in r]
    if ok:
        write_json(graphs_dir / "graph_metadata.json", graph_metadata([r["key"] for r in ok]))
    label_counts: dict[str, int] = {}
    split_of: dict[str, str] = {}
    if natives is not None:
        rows = [r["label"] for r in results if "label" in r and "error" not in r]
        if rows:
            split_of = (labels_mod.read_split_file(splits_file) if splits_file is not None else
                        labels_mod.assign_splits([r["target"] for r in rows], val_fraction, test_fraction, seed))
            label_counts = labels_mod.write_labels(rows, split_of, labels_dir)
    seconds = [r["seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results]
    report = {
        "structures": len(jobs),
        "graphs": len(ok),
        "failed": len(failures),
        "failures": failures,
        "targets_without_native": no_native,
        "labels": label_counts,
        "splits": dict(sorted(split_of.items())),
        "nodes": [min(r["nodes"] for r in ok), max(r["nodes"] for r in ok)] if ok else None,
        "edges": [min(r["edges"] for r in ok), max(r["edges"] for r in ok)] if ok else None,
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "seconds_per_structure": {"mean": round(sum(seconds) / len(seconds), 3), "max": max(seconds)} if seconds else None,
        "cpu_seconds_per_structure": {"mean": round(sum(cpu) / len(cpu), 3), "max": max(cpu)} if cpu else None,
        "per_structure": [{"key": r["key"], "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"],
                           "nodes": r.get("nodes"), "edges": r.get("edges"),
                           "dockq": r.get("label", {}).get("dockq")} for r in results],
    }
    write_json(out / REPORT, report)
    return report
