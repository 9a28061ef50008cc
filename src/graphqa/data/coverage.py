"""Dataset coverage: how many labelled models of each split have a usable graph.

``dataset_coverage.json`` holds, per split: the label file, label count,
graphs found (usable), coverage, missing models (no graph file), skipped
graphs (0 nodes / 0 edges, or invalid in ``graphqa data check``) and the
graphs of the split's targets that no label names. Coverage below
``data.min_coverage`` is an error listing the missing models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphqa.data.dataset import LabelledDataset
from graphqa.data.errors import DataError
from graphqa.data.survey import GraphSummary

MAX_LISTED = 20


def coverage_report(
    dataset: LabelledDataset, summaries: dict[Path, GraphSummary], min_coverage: float
) -> dict[str, Any]:
    """The coverage report (``dataset_coverage.json`` content) of a joined, surveyed dataset."""
    report: dict[str, Any] = {"min_coverage": min_coverage, "ok": True, "splits": {}}
    for split, models in dataset.splits.items():
        found, missing, skipped = [], [], []
        for m in models:
            if m.graph is None:
                missing.append(m.key)
                continue
            summary = summaries.get(m.graph.path)
            if summary is None or summary.usable:
                found.append(m.key)
            else:
                reason = summary.empty_reason or f"invalid: {summary.error}"
                skipped.append({"model": m.key, "file": str(m.graph.path), "reason": reason})
        targets = set(dataset.split_targets(split))
        unlabeled = [str(f.path) for f in dataset.unlabeled if f.target in targets]
        coverage = len(found) / len(models) if models else 0.0
        report["splits"][split] = {
            "labels_file": str(dataset.tables[split].path),
            "labels": len(models),
            "graphs_found": len(found),
            "coverage": round(coverage, 6),
            "targets": len(targets),
            "missing_models": missing,
            "skipped_graphs": skipped,
            "unlabeled_graphs": unlabeled,
        }
        if coverage < min_coverage:
            report["ok"] = False
    report["graphs_total"] = len(dataset.files)
    report["unlabeled_graphs"] = [str(f.path) for f in dataset.unlabeled]
    report["warnings"] = list(dataset.warnings)
    return report


def coverage_problem(report: dict[str, Any]) -> str | None:
    """A message listing the missing models of every split below ``min_coverage``, else None."""
    problems = []
    for split, entry in report["splits"].items():
        if entry["coverage"] >= report["min_coverage"]:
            continue
        lost = entry["missing_models"] + [s["model"] + f" ({s['reason']})" for s in entry["skipped_graphs"]]
        shown = ", ".join(lost[:MAX_LISTED]) + (f", … and {len(lost) - MAX_LISTED} more" if len(lost) > MAX_LISTED else "")
        problems.append(
            f"{split}: {entry['graphs_found']}/{entry['labels']} labelled models have a usable graph "
            f"(coverage {entry['coverage']:.3f} < data.min_coverage {report['min_coverage']}); "
            f"labels in {entry['labels_file']}; without a graph: {shown}"
        )
    return "\n".join(problems) or None


def check_coverage(report: dict[str, Any]) -> None:
    """Raise :class:`DataError` when any split is below ``min_coverage``."""
    problem = coverage_problem(report)
    if problem:
        raise DataError("coverage below data.min_coverage:\n" + problem, kind="coverage")
