"""The labelled dataset: label rows joined to graph files, per split.

Join rule (docs/ARCHITECTURE.md, "Data contract"): a label row names a MODEL; its target is the
``target`` column, else the graph's parent folder, else the model name before
its first ``_``. A model labelled in two splits is an error (leakage), and so
is one graph used by models of two splits: the same file (compared by resolved
path, so a flat layout with a ``target`` column or a symlink cannot hide it) or
byte-identical graphs under different names (compared by content, see
:func:`graph_fingerprint`). A target present in two splits is a warning.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from graphqa.data.errors import DataError
from graphqa.data.labels import SPLITS, LabelTable, read_label_splits
from graphqa.data.layout import GraphFile, GraphIndex, find_graphs, target_from_model_name

log = logging.getLogger(__name__)
MAX_LEAKS_LISTED = 5
# torch.save's per-file id: not part of a graph's content
_SERIALIZATION_ID = ".data/serialization_id"


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
    raise_for_shared_graphs(splits)
    shared = sorted(t for t, s in owners.items() if len(s) > 1)
    if shared:
        warnings.append(
            f"{len(shared)} target(s) appear in more than one split (e.g. {shared[0]} in "
            f"{', '.join(sorted(owners[shared[0]]))}); splits by target avoid leakage"
        )
    return splits, unlabeled, warnings


def graph_fingerprint(path: Path) -> str:
    """What a graph file holds, independent of its name.

    A ``torch.save`` zip: each member's name below the archive folder (which is the file's own name), CRC-32 and
    size, read from the zip directory without decompressing anything. Any other file: SHA-256 of its bytes.
    """
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename.split("/", 1)[-1]):
                member = info.filename.split("/", 1)[-1]
                if member != _SERIALIZATION_ID:
                    digest.update(f"{member}\0{info.CRC}\0{info.file_size}\n".encode())
        return "zip:" + digest.hexdigest()
    except (zipfile.BadZipFile, OSError, ValueError):
        pass
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "raw:" + digest.hexdigest()


def raise_for_shared_graphs(splits: dict[str, list[LabelledModel]]) -> None:
    """Refuse a graph used by models of two splits: the same file, or one with the same content.

    The check behind ``data check``, the schema stage and the pack stage. A ``torch.save`` file's content is
    compared through its zip directory (:func:`graph_fingerprint`): one small read per file, nothing inflated.
    """
    users: dict[Path, list[LabelledModel]] = defaultdict(list)
    for models in splits.values():
        for m in models:
            if m.graph is not None:
                users[m.graph.path.resolve()].append(m)
    groups: list[tuple[str, list[LabelledModel]]] = [
        (f"use the same graph file {path}", ms) for path, ms in users.items() if len({m.split for m in ms}) > 1
    ]
    by_content: dict[str, list[Path]] = defaultdict(list)
    for path in users:
        by_content[graph_fingerprint(path)].append(path)
    for paths in by_content.values():
        models = [m for p in paths for m in users[p]]
        if len(paths) > 1 and len({m.split for m in models}) > 1:
            groups.append((f"have byte-identical graphs ({', '.join(str(p) for p in paths)})", models))
    if not groups:
        return
    lines = []
    for how, models in groups[:MAX_LEAKS_LISTED]:
        named = " and ".join(f"{m.split} {m.key} ({m.where})" for m in models)
        lines.append(f"{named} {how}")
    more = f"\n  … and {len(groups) - MAX_LEAKS_LISTED} more" if len(groups) > MAX_LEAKS_LISTED else ""
    raise DataError(
        f"{len(groups)} graph(s) shared between splits (test data would leak into training):\n  "
        + "\n  ".join(lines) + more + "\nexpected each graph in one split only; remove the rows or the copies",
        kind="leakage",
    )


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
