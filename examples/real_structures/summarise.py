"""The closing note of the real-structure example: size, featurizing time, labels, test metrics with intervals.

Reads the scratch project's ``data/build_report.json``, ``data/labels/*.csv`` and
``eval/{headline.json,predictions.csv}``; prints Markdown. Intervals are 95% percentile
bootstrap intervals over the test models (2000 resamples, seed 0); with a handful of
test targets they are wide, and they say so.

Example: python examples/real_structures/summarise.py --project examples/real_structures/work/project
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v))
    return ranks


def _metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    def corr(a, b):
        return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")

    return {"pearson": corr(true, pred), "spearman": corr(_ranks(true), _ranks(pred)),
            "mae": float(np.abs(true - pred).mean())}


def bootstrap(true: np.ndarray, pred: np.ndarray, reps: int = 2000, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    rng = np.random.default_rng(seed)
    point = _metrics(true, pred)
    draws = {k: [] for k in point}
    for _ in range(reps):
        idx = rng.integers(0, len(true), len(true))
        for k, v in _metrics(true[idx], pred[idx]).items():
            draws[k].append(v)
    return {k: (point[k], float(np.nanpercentile(draws[k], 2.5)), float(np.nanpercentile(draws[k], 97.5)))
            for k in point}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--total-seconds", type=float, default=None)
    args = parser.parse_args(argv)
    root = args.project
    report = json.loads((root / "data" / "build_report.json").read_text())
    lines = ["# Real-structure example: results", ""]
    lines.append(f"* structures: {report['structures']} ({len(report['splits'])} targets); graphs: {report['graphs']}; "
                 f"skipped: {report['failed']} ({', '.join(sorted({f['kind'] for f in report['failures']})) or 'none'})")
    lines.append(f"* nodes per graph {report['nodes'][0]}-{report['nodes'][1]}, edges {report['edges'][0]}-{report['edges'][1]}")
    sps = report["seconds_per_structure"]
    cpu = report.get("cpu_seconds_per_structure")
    lines.append(f"* featurizing (graph + DSSP + DockQ label): {sps['mean']:.2f} s wall per structure on average "
                 f"(max {sps['max']:.2f} s)" + (f", {cpu['mean']:.2f} s CPU (max {cpu['max']:.2f} s)" if cpu else "")
                 + f"; {report['wall_seconds']:.1f} s wall for all with {report['workers']} workers")
    classes: dict[str, dict[str, int]] = {}
    for split in ("train", "val", "test"):
        with open(root / "data" / "labels" / f"{split}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["capri"]] = counts.get(r["capri"], 0) + 1
        classes[split] = counts
        targets = sorted({r["target"] for r in rows})
        lines.append(f"* {split}: {len(rows)} models of {', '.join(targets)}; CAPRI classes "
                     + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    headline_path = root / "eval" / "headline.json"
    if headline_path.is_file():
        headline = json.loads(headline_path.read_text())
        with open(root / "eval" / "predictions.csv", newline="") as handle:
            preds = list(csv.DictReader(handle))
        true = np.array([float(r["TRUE_DOCKQ"]) for r in preds])
        pred = np.array([float(r["PRED_DOCKQ"]) for r in preds])
        lines.append(f"* final candidate: {headline['final_candidate']}; test ranking loss "
                     f"{headline['test_ranking_loss']:.3f}, per-target Spearman {headline['test_per_target_spearman']:.3f}")
        lines.append("")
        lines.append(f"Test metrics over {len(true)} models (95% bootstrap interval over models):")
        lines.append("")
        lines.append("| metric | value | 95% interval |")
        lines.append("|---|---|---|")
        for k, (v, lo, hi) in bootstrap(true, pred).items():
            lines.append(f"| {k} | {v:.3f} | [{lo:.3f}, {hi:.3f}] |")
    if args.total_seconds is not None:
        lines.append("")
        lines.append(f"Wall time of `make real-demo`: {args.total_seconds:.0f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
