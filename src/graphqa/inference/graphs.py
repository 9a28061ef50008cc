"""Score a directory of graphs, or one graph file, with an exported model (``graphqa predict``).

The same code path as the evaluate stage: graphs are loaded safely by the data
layer, packed into a (temporary) :class:`~graphqa.data.PackedGraphStore` with
the data layer's packer, and scored by :class:`~graphqa.inference.predictor.Predictor`,
so predict reproduces evaluate's numbers for the same checkpoint.

Before anything is packed, the graphs' schema (dims measured from the
tensors; column names, edge module and variant from ``graph_metadata.json`` or
the graphs' own metadata, where present) is checked against the schema the
model was trained on. Whatever the graphs do not declare cannot be checked and
is taken from the model (logged); whatever they do declare must match.

Every input (model, graphs path, labels file) is read or checked before the
first graph is loaded, so a mistyped path fails in a second, not after
loading thousands of graphs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.evaluation.metrics import DEFAULT_THRESHOLDS, DEFAULT_TOP_K
from graphqa.inference.device import resolve_device

log = logging.getLogger(__name__)


@dataclass
class PredictionResult:
    """Predictions for every usable graph of a directory, ranked within target."""

    graphs_dir: Path
    rows: list[dict[str, Any]]  # TARGET, MODEL, PRED_DOCKQ[, TRUE_DOCKQ], RANK; by target, then rank
    skipped: list[dict[str, str]] = field(default_factory=list)  # empty graphs: model, file, reason
    report: Any = None  # graphqa.evaluation.report.ScoreReport when labels were given
    unmatched_labels: int = 0  # label rows with no graph in the directory

    @property
    def targets(self) -> list[str]:
        return sorted({row["TARGET"] for row in self.rows})


def graphs_schema(graphs_dir: Path, survey: Any, node_dim: int, edge_dim: int) -> Any:
    """The FeatureSchema the graphs declare: measured dims + builder metadata (as the schema stage builds it)."""
    from graphqa.data.discover import builder_hints
    from graphqa.data.schema import build_schema

    return build_schema(node_dim, edge_dim, builder_hints(graphs_dir, survey))


def check_graphs_fit(model_schema: Any, found: Any, graphs_dir: Path, model_path: Path | str) -> None:
    """Raise ``SchemaMismatch`` naming the dims/module/columns where the graphs differ from the model.

    Fields the graphs leave undeclared (generic column names, no edge module or
    variant) are taken from the model and logged: they cannot be checked.
    """
    from graphqa.data import SchemaMismatch
    from graphqa.data.schema import generic_columns

    fill: dict[str, Any] = {}
    if found.node_columns == generic_columns("node", found.node_dim) and found.node_dim == model_schema.node_dim:
        fill["node_columns"] = list(model_schema.node_columns)
    if found.edge_columns == generic_columns("edge", found.edge_dim) and found.edge_dim == model_schema.edge_dim:
        fill["edge_columns"] = list(model_schema.edge_columns)
    if found.edge_module is None:
        fill["edge_module"] = model_schema.edge_module
    if found.edge_feature_variant is None:
        fill["edge_feature_variant"] = model_schema.edge_feature_variant
    try:
        model_schema.check_compatible(dataclasses.replace(found, **fill))
    except SchemaMismatch as exc:
        raise SchemaMismatch(f"{graphs_dir}: graphs do not fit the model {model_path} "
                             f"(expected: the model's schema; found: the graphs'): {exc}") from None
    unchecked = [k for k, v in fill.items() if v != getattr(found, k) and v not in (None, [])]
    if unchecked:
        log.info("%s: the graphs do not declare %s; assuming the model's", graphs_dir, ", ".join(unchecked))


def graph_files(graphs: Path) -> tuple[list[Any], Path]:
    """The graph files to score and the folder whose ``graph_metadata.json`` declares them.

    ``graphs`` is a directory (nested ``<TARGET>/<MODEL>.pt`` or flat ``<MODEL>.pt``)
    or a single ``.pt`` file, whose target is its model name before the first
    ``_`` (the flat layout's rule) unless the labels name it.
    """
    from graphqa.data import DataError
    from graphqa.data.layout import GRAPH_SUFFIX, GraphFile, find_graphs, nfc

    if graphs.is_file():
        if graphs.suffix != GRAPH_SUFFIX:
            raise DataError(f"{graphs}: not a graph file; expected a {GRAPH_SUFFIX} file or a directory of them")
        return [GraphFile(path=graphs, model=nfc(graphs.stem), folder=None)], graphs.parent
    return find_graphs(graphs), graphs


def _label_lookup(table: Any, files: Sequence[Any]) -> tuple[dict[Path, tuple[str, float]], int]:
    """``{graph path: (target, dockq)}`` joined as the data layer joins labels to graphs; and unmatched rows."""
    from graphqa.data.layout import GraphIndex

    index = GraphIndex(list(files))
    found: dict[Path, tuple[str, float]] = {}
    unmatched = 0
    for row in table.rows:
        graph = index.find(row.model, row.target, f"{table.path}:{row.line}")
        if graph is None:
            unmatched += 1
            continue
        found[graph.path] = (row.target or graph.target, row.dockq)
    return found, unmatched


def predict_graphs(
    model_path: Path | str,
    graphs_dir: Path | str,  # a directory of graphs or one .pt file
    *,
    labels: Path | str | None = None,
    batch_size: int = 128,
    device: str = "auto",
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    top_k: int = DEFAULT_TOP_K,
    progress: Any = None,
    work_dir: Path | str | None = None,
) -> PredictionResult:
    """Predict DockQ for every graph under ``graphs_dir`` (nested or flat), or for one graph file,
    with an exported model.

    ``progress`` is a ``(description) -> context manager yielding hook(done, total)``
    factory (the CLI passes a rich bar); ``work_dir`` holds the temporary
    packed store (default: the system temp dir). With ``labels`` (a CSV
    ``MODEL, dockq[, target]``) the rows carry TRUE_DOCKQ and the result a
    :class:`graphqa.evaluation.report.ScoreReport` over the labelled graphs.
    """
    from contextlib import nullcontext

    from graphqa.data import DataError, PackedGraphStore
    from graphqa.data.labels import read_labels
    from graphqa.data.store import PackItem
    from graphqa.data.survey import raise_for_problems, survey_graphs
    from graphqa.evaluation.predictions_file import PredictionTable
    from graphqa.evaluation.report import ranked_rows, score_table
    from graphqa.inference.predictor import Predictor

    graphs_dir = Path(graphs_dir)
    bar = progress or (lambda description: nullcontext(None))
    if batch_size < 1:
        raise ValueError(f"--batch-size {batch_size}: expected an integer >= 1")
    # Every input is checked before any graph is loaded: the model, the graphs path, the labels.
    model = Predictor.load(model_path)
    device = resolve_device(device)
    files, metadata_dir = graph_files(graphs_dir)
    table = read_labels(labels) if labels is not None else None
    lookup, unmatched = _label_lookup(table, files) if table is not None else ({}, 0)
    if labels is not None:
        if not lookup:
            raise DataError(f"{labels}: none of its models has a graph under {graphs_dir}", kind="labels")
        if unmatched:
            log.warning("%s: %d labelled model(s) have no graph under %s", labels, unmatched, graphs_dir)

    with bar(f"loading {len(files)} graphs") as hook:
        survey = survey_graphs(files, hook)
    node_dim, edge_dim = raise_for_problems(survey, graphs_dir)
    check_graphs_fit(model.schema, graphs_schema(metadata_dir, survey, node_dim, edge_dim), graphs_dir, model_path)
    usable = {s.file.path for s in survey.usable}
    items = []
    for f in files:
        if f.path in usable:
            target, dockq = lookup.get(f.path, (f.target, math.nan))
            items.append(PackItem(f.path, f.model, target, dockq))

    with tempfile.TemporaryDirectory(prefix="graphqa-predict-", dir=work_dir) as tmp:
        with bar(f"packing {len(items)} graphs") as hook:
            store, skipped = PackedGraphStore.pack(
                items, Path(tmp) / "store", split="predict", node_dim=model.schema.node_dim,
                edge_dim=model.schema.edge_dim, schema_digest=model.schema.digest(), progress=hook)
        pred = model.predict(store, batch_size=batch_size, device=device)
        targets = [store.target_names[i] for i in store.target_index.tolist()]
        names = list(store.names)
        true = store.y.numpy().astype(np.float64)
        del store  # release the memory maps before the directory goes
    skipped += [{"model": s.file.key, "file": str(s.file.path), "reason": str(s.empty_reason)} for s in survey.empty]

    rows = ranked_rows(targets, names, pred, true if labels is not None else None)
    result = PredictionResult(graphs_dir, rows, skipped, unmatched_labels=unmatched)
    if labels is not None:
        table = PredictionTable(targets, names, pred.astype(np.float64), true, graphs_dir)
        result.report = score_table(table, thresholds, top_k)
    log.info("predicted %d graphs of %d targets%s", len(rows), len(result.targets),
             f"; {len(skipped)} empty graph(s) skipped" if skipped else "")
    return result
