"""``graphqa data check``: a report of a dataset directory, collecting every problem.

Unlike the ``schema`` stage, which stops at the first kind of problem, the
check loads every graph and reports all of them: counts per split, dims,
node/edge count ranges, non-finite features, coverage. ``ok`` is False when
anything would make the pipeline fail.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphqa.data.coverage import coverage_problem, coverage_report
from graphqa.data.dataset import LabelledDataset, join_labels
from graphqa.data.errors import DataError
from graphqa.data.graph import GraphLimits
from graphqa.data.labels import SPLITS, read_label_splits
from graphqa.data.layout import GRAPH_METADATA, find_graphs
from graphqa.data.progress import ProgressHook
from graphqa.data.schema import read_graph_metadata
from graphqa.data.survey import dims_problem, size_outliers, survey_graphs


@dataclass
class DatasetReport:
    """Everything ``graphqa data check`` found."""

    graphs_dir: Path
    labels_dir: Path
    graph_files: int = 0
    dims: dict[str, int] = field(default_factory=dict)  # "node 172 / edge 11" -> graphs
    nodes: tuple[int, int] | None = None
    edges: tuple[int, int] | None = None
    problems: dict[str, int] = field(default_factory=dict)  # error kind -> graphs
    empty_graphs: list[str] = field(default_factory=list)
    coverage: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "graphs_dir": str(self.graphs_dir),
            "labels_dir": str(self.labels_dir),
            "graph_files": self.graph_files,
            "dims": self.dims,
            "nodes_per_graph": list(self.nodes) if self.nodes else None,
            "edges_per_graph": list(self.edges) if self.edges else None,
            "problems": self.problems,
            "empty_graphs": self.empty_graphs,
            "coverage": self.coverage,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def check_dataset(
    graphs_dir: str | Path,
    labels_dir: str | Path,
    min_coverage: float,
    progress: ProgressHook | None = None,
    splits: tuple[str, ...] = SPLITS,
    limits: GraphLimits | None = None,
) -> DatasetReport:
    """Load every graph and label file under the two directories and report what is wrong."""
    report = DatasetReport(Path(graphs_dir), Path(labels_dir))
    try:
        files = find_graphs(graphs_dir)
    except DataError as exc:
        report.errors.append(str(exc))
        return report
    report.graph_files = len(files)
    try:
        read_graph_metadata(report.graphs_dir / GRAPH_METADATA)
    except DataError as exc:
        report.errors.append(str(exc))

    survey = survey_graphs(files, progress, limits)
    report.problems = dict(Counter(s.error_kind or "invalid" for s in survey.errors))
    report.errors.extend(s.error for s in survey.errors if s.error)
    report.empty_graphs = [f"{s.file.path} ({s.empty_reason})" for s in survey.empty]
    if report.empty_graphs:
        report.warnings.append(f"{len(report.empty_graphs)} empty graph(s) will be skipped by schema/pack")
    report.warnings.extend(size_outliers(survey))
    report.dims = {f"node {n} / edge {e}": c for (n, e), c in survey.dims().most_common()}
    problem = dims_problem(survey)
    if problem:
        report.errors.append(problem)
    usable = survey.usable
    if usable:
        report.nodes = (min(s.num_nodes for s in usable), max(s.num_nodes for s in usable))
        report.edges = (min(s.num_edges for s in usable), max(s.num_edges for s in usable))

    try:
        tables = read_label_splits(labels_dir, splits)
        joined, unlabeled, warnings = join_labels(tables, files)
    except DataError as exc:
        report.errors.append(str(exc))
        return report
    dataset = LabelledDataset(report.graphs_dir, report.labels_dir, files, tables, joined, unlabeled, warnings)
    report.coverage = coverage_report(dataset, survey.by_path(), min_coverage)
    report.warnings.extend(warnings)
    problem = coverage_problem(report.coverage)
    if problem:
        report.errors.append("coverage below data.min_coverage: " + problem)
    return report
