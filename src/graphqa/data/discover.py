"""Schema discovery (the ``schema`` stage): measure the dataset, write its schema and coverage.

Reads ``<graphs>/**/*.pt`` (nested or flat), the optional
``<graphs>/graph_metadata.json`` and ``<labels>/{train,val,test}.csv``; writes
``<out>/feature_metadata.json`` and ``<out>/dataset_coverage.json``. Both are
written only when every check passes (bad graphs, inconsistent dims, coverage
below ``data.min_coverage`` raise :class:`DataError` and write nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphqa.data.coverage import check_coverage, coverage_report
from graphqa.data.dataset import LabelledDataset, load_labelled_dataset
from graphqa.data.graph import GraphLimits
from graphqa.data.layout import GRAPH_METADATA
from graphqa.data.progress import ProgressHook
from graphqa.data.schema import (
    DATASET_COVERAGE,
    FEATURE_METADATA,
    BuilderMetadata,
    FeatureSchema,
    build_schema,
    metadata_from_graph,
    read_graph_metadata,
)
from graphqa.data.survey import GraphSurvey, raise_for_problems, size_outliers, survey_graphs

log = logging.getLogger(__name__)


def builder_hints(graphs_dir: Path, survey: GraphSurvey) -> list[BuilderMetadata]:
    """What the graph builder declares (column names, edge module): ``graph_metadata.json``, then the
    first graph's own metadata. The schema stage and ``graphqa predict`` read the same hints."""
    hints: list[BuilderMetadata] = []
    builder = read_graph_metadata(Path(graphs_dir) / GRAPH_METADATA)
    if builder is not None:
        hints.append(builder)
    if survey.first_metadata_source is not None:
        hints.append(metadata_from_graph(survey.first_metadata, f"metadata of {survey.first_metadata_source}"))
    return hints


@dataclass(frozen=True)
class Discovery:
    """Result of schema discovery."""

    schema: FeatureSchema
    coverage: dict[str, Any]
    dataset: LabelledDataset
    survey: GraphSurvey


def discover(
    graphs_dir: str | Path,
    labels_dir: str | Path,
    min_coverage: float,
    progress: ProgressHook | None = None,
    limits: GraphLimits | None = None,
) -> Discovery:
    """Load every graph, check it, join the labels and build schema + coverage (writes nothing).

    ``limits`` (default: :class:`GraphLimits`'s) are recorded in the schema's ``sources`` so the pack stage
    applies the same ones.
    """
    graphs_dir, labels_dir = Path(graphs_dir), Path(labels_dir)
    limits = limits or GraphLimits()
    dataset = load_labelled_dataset(graphs_dir, labels_dir)
    survey = survey_graphs(dataset.files, progress, limits)
    node_dim, edge_dim = raise_for_problems(survey, graphs_dir)
    for warning in size_outliers(survey):
        log.warning(warning)

    coverage = coverage_report(dataset, survey.by_path(), min_coverage)
    check_coverage(coverage)

    metadata_path = graphs_dir / GRAPH_METADATA
    hints = builder_hints(graphs_dir, survey)
    notes = [f"{len(survey.empty)} empty graph(s) skipped (see {DATASET_COVERAGE})"] if survey.empty else []
    notes += coverage["warnings"]
    sizes = [(s.num_nodes, s.num_edges) for s in survey.usable]
    sources = {
        "graphs": str(graphs_dir),
        "labels": {split: str(table.path) for split, table in dataset.tables.items()},
        "graph_metadata": str(metadata_path) if metadata_path.is_file() else None,
        "dims_measured_from": "tensors",
        "graph_files": len(dataset.files),
        "usable_graphs": len(sizes),
        "nodes_per_graph": [min(n for n, _ in sizes), max(n for n, _ in sizes)],
        "edges_per_graph": [min(e for _, e in sizes), max(e for _, e in sizes)],
        "limits": limits.to_dict(),
    }
    sample_counts = {split: entry["graphs_found"] for split, entry in coverage["splits"].items()}
    schema = build_schema(node_dim, edge_dim, hints, sources=sources, sample_counts=sample_counts, notes=notes)
    for note in schema.notes:
        log.info("note: %s", note)
    return Discovery(schema=schema, coverage=coverage, dataset=dataset, survey=survey)


def write_schema_outputs(
    graphs_dir: str | Path,
    labels_dir: str | Path,
    out_dir: str | Path,
    min_coverage: float,
    progress: ProgressHook | None = None,
    limits: GraphLimits | None = None,
) -> Discovery:
    """The ``schema`` stage: discover, then write ``feature_metadata.json`` and ``dataset_coverage.json``."""
    from graphqa.io import write_json

    result = discover(graphs_dir, labels_dir, min_coverage, progress, limits)
    out_dir = Path(out_dir)
    write_json(out_dir / DATASET_COVERAGE, result.coverage)
    result.schema.save(out_dir / FEATURE_METADATA)
    counts = ", ".join(f"{k} {v}" for k, v in result.schema.sample_counts.items())
    log.info(
        "schema: node dim %d, edge dim %d (digest %s); graphs per split: %s",
        result.schema.node_dim, result.schema.edge_dim, result.schema.digest(), counts,
    )
    return result
