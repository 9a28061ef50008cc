"""The labelled dataset: label rows joined to graph files, per split.

Join rule (docs/ARCHITECTURE.md, "Data contract"): a label row names a MODEL; its target is the
``target`` column, else the graph's parent folder, else the model name before
its first ``_``. A model labelled in two splits is an error (leakage); a
target present in two splits is a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from graphqa.data.errors import DataError
from graphqa.data.labels import SPLITS, LabelTable, read_label_splits
from graphqa.data.layout import GraphFile, GraphIndex, find_graphs, target_from_model_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledModel:
    """One label row and the graph file it refers to (``graph`` is None when missing)."""

    split: str
    model: str
    target: str
    dockq: float
    capri: str | None
    graph: GraphFile | None
    where: str  # "labels/train.csv:12"

    @property
    def key(self) -> str:
        return f"{self.target}/{self.model}"


@dataclass(frozen=True)
class LabelledDataset:
    """Graphs and labels of every split, joined."""

    graphs_dir: Path
    labels_dir: Path
    files: list[GraphFile]
    tables: dict[str, LabelTable]
    splits: dict[str, list[LabelledModel]]
    unlabeled: list[GraphFile]
    warnings: list[str] = field(default_factory=list)

    def split_targets(self, split: str) -> list[str]:
        return sorted({m.target for m in self.splits[split]})


def join_labels(tables: dict[str, LabelTable], files: list[GraphFile]) -> tuple[dict[str, list[LabelledModel]], list[GraphFile], list[str]]:
    """Join label rows to graph files; return (per-split models, unlabeled graph files, warnings)."""
    index = GraphIndex(files)
    splits: dict[str, list[LabelledModel]] = {}
    first_seen: dict[str, LabelledModel] = {}
    used: set[Path] = set()
    for split, table in tables.items():
        models = []
        for row in table.rows:
            where = f"{table.path}:{row.line}"
            graph = index.find(row.model, row.target, where)
            target = row.target or (graph.target if graph else target_from_model_name(row.model))
            model = LabelledModel(split, row.model, target, row.dockq, row.capri, graph, where)
            if model.key in first_seen:
                raise DataError(
                    f"{where}: model {model.model!r} (target {target}) is also labelled in "
                    f"{first_seen[model.key].where}; expected each model in one split only",
                    kind="labels",
                )
            first_seen[model.key] = model
            if graph is not None:
                used.add(graph.path)
            models.append(model)
        splits[split] = models
    unlabeled = [f for f in files if f.path not in used]

    warnings = []
    owners: dict[str, set[str]] = {}
    for split, models in splits.items():
        for m in models:
            owners.setdefault(m.target, set()).add(split)
    shared = sorted(t for t, s in owners.items() if len(s) > 1)
    if shared:
        warnings.append(
            f"{len(shared)} target(s) appear in more than one split (e.g. {shared[0]} in "
            f"{', '.join(sorted(owners[shared[0]]))}); splits by target avoid leakage"
        )
    return splits, unlabeled, warnings


def load_labelled_dataset(
    graphs_dir: str | Path, labels_dir: str | Path, splits: tuple[str, ...] = SPLITS
) -> LabelledDataset:
    """Find the graph files, read the label files and join them (no graph is loaded)."""
    graphs_dir, labels_dir = Path(graphs_dir), Path(labels_dir)
    files = find_graphs(graphs_dir)
    tables = read_label_splits(labels_dir, splits)
    joined, unlabeled, warnings = join_labels(tables, files)
    for w in warnings:
        log.warning(w)
    return LabelledDataset(graphs_dir, labels_dir, files, tables, joined, unlabeled, warnings)
