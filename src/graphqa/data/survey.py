"""Loading every graph of a dataset once: sizes, dims, problems.

Used by the ``schema`` stage (any problem is an error) and by ``graphqa data
check`` (problems are collected into a report).
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphqa.data.errors import DataError
from graphqa.data.graph import GraphLimits, load_graph
from graphqa.data.layout import GraphFile
from graphqa.data.progress import ProgressHook

log = logging.getLogger(__name__)
MAX_LISTED = 10
OUTLIER_FACTOR = 10  # a graph this many times the median node or edge count is worth a look
OUTLIER_MIN_GRAPHS = 10  # fewer graphs: no meaningful median


@dataclass(frozen=True)
class GraphSummary:
    """What loading one graph file found."""

    file: GraphFile
    num_nodes: int = 0
    num_edges: int = 0
    node_dim: int | None = None
    edge_dim: int | None = None
    error: str | None = None
    error_kind: str | None = None
    empty_reason: str | None = None  # "0 nodes" / "0 edges": skipped, not an error

    @property
    def usable(self) -> bool:
        return self.error is None and self.empty_reason is None


@dataclass
class GraphSurvey:
    """Summaries of all graphs plus the first graph's own metadata dict."""

    summaries: list[GraphSummary]
    first_metadata: dict[str, Any] = field(default_factory=dict)
    first_metadata_source: str | None = None

    def by_path(self) -> dict[Path, GraphSummary]:
        return {s.file.path: s for s in self.summaries}

    @property
    def errors(self) -> list[GraphSummary]:
        return [s for s in self.summaries if s.error is not None]

    @property
    def empty(self) -> list[GraphSummary]:
        return [s for s in self.summaries if s.error is None and s.empty_reason is not None]

    @property
    def usable(self) -> list[GraphSummary]:
        return [s for s in self.summaries if s.usable]

    def dims(self) -> Counter[tuple[int, int]]:
        """How many usable graphs have each (node_dim, edge_dim)."""
        return Counter((s.node_dim, s.edge_dim) for s in self.usable)  # type: ignore[misc]


def survey_graphs(
    files: list[GraphFile], progress: ProgressHook | None = None, limits: GraphLimits | None = None
) -> GraphSurvey:
    """Load and validate every file; never raises for a bad graph (the summary holds the error)."""
    survey = GraphSurvey(summaries=[])
    total = len(files)
    for i, f in enumerate(files, 1):
        try:
            record = load_graph(f.path, limits)
        except DataError as exc:
            survey.summaries.append(GraphSummary(file=f, error=str(exc), error_kind=exc.kind))
        else:
            survey.summaries.append(
                GraphSummary(
                    file=f,
                    num_nodes=record.num_nodes,
                    num_edges=record.num_edges,
                    node_dim=record.node_dim,
                    edge_dim=record.edge_dim,
                    empty_reason=record.empty_reason,
                )
            )
            if record.metadata and survey.first_metadata_source is None and not record.is_empty:
                survey.first_metadata, survey.first_metadata_source = record.metadata, str(f.path)
        if progress is not None:
            progress(i, total)
    for s in survey.empty:
        log.warning("%s: %s; skipped (recorded in dataset_coverage.json)", s.file.path, s.empty_reason)
    return survey


def size_outliers(survey: GraphSurvey) -> list[str]:
    """Warnings naming usable graphs with over ``OUTLIER_FACTOR`` times the median node or edge count."""
    usable = survey.usable
    if len(usable) < OUTLIER_MIN_GRAPHS:
        return []
    warnings = []
    for what, count in (("nodes", lambda s: s.num_nodes), ("edges", lambda s: s.num_edges)):
        median = statistics.median(count(s) for s in usable)
        big = sorted((s for s in usable if count(s) > OUTLIER_FACTOR * median), key=count, reverse=True)
        if big:
            shown = ", ".join(f"{s.file.path} ({count(s):,})" for s in big[:3])
            warnings.append(f"{len(big)} graph(s) with over {OUTLIER_FACTOR}x the median {median:g} {what}: {shown}; "
                            "check they are interface graphs (they dominate a batch's memory)")
    return warnings


def dims_problem(survey: GraphSurvey) -> str | None:
    """A message naming files when usable graphs disagree on feature dims, else None."""
    dims = survey.dims()
    if len(dims) <= 1:
        return None
    examples: dict[tuple[int, int], list[str]] = {}
    for s in survey.usable:
        examples.setdefault((s.node_dim, s.edge_dim), []).append(str(s.file.path))  # type: ignore[arg-type]
    parts = []
    for (node_dim, edge_dim), count in dims.most_common():
        shown = ", ".join(examples[(node_dim, edge_dim)][:3])
        parts.append(f"{count} graph(s) with node dim {node_dim} / edge dim {edge_dim} (e.g. {shown})")
    return "graphs disagree on feature dims: " + "; ".join(parts) + "; expected one node and one edge dim for all"


def raise_for_problems(survey: GraphSurvey, graphs_dir: Path) -> tuple[int, int]:
    """Raise one :class:`DataError` listing every bad graph (or dims disagreement); return (node_dim, edge_dim)."""
    errors = survey.errors
    if errors:
        lines = [s.error for s in errors[:MAX_LISTED]]
        more = f"\n  … and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
        kinds = {s.error_kind for s in errors}
        kind = kinds.pop() if len(kinds) == 1 else "invalid"
        raise DataError(
            f"{len(errors)} bad graph file(s) under {graphs_dir}:\n  " + "\n  ".join(str(x) for x in lines) + more,
            kind=kind or "invalid",
        )
    problem = dims_problem(survey)
    if problem:
        raise DataError(problem, kind="dims")
    dims = survey.dims()
    if not dims:
        raise DataError(f"{graphs_dir}: no usable graph (all {len(survey.summaries)} are empty)", kind="structure")
    (node_dim, edge_dim), _ = dims.most_common(1)[0]
    return node_dim, edge_dim
