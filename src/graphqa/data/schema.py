"""The feature schema: what the node and edge feature columns of a dataset are.

``feature_metadata.json`` (written by the ``schema`` stage, copied into the
packed stores and the exported model) is :meth:`FeatureSchema.to_dict`. Dims
are measured from the tensors; ``graph_metadata.json`` (QTopoQA builder
format) and the graphs' own ``metadata`` dicts only supply names, the edge
module and its parameters. Where they disagree with the tensors the tensors
win and the disagreement is written to ``notes``.

:meth:`FeatureSchema.digest` hashes only what defines the features (dims,
columns, edge module, parameters, variant), so a checkpoint's schema can be
compared with a dataset's: :meth:`FeatureSchema.check_compatible`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphqa.data.errors import DataError, SchemaMismatch

SCHEMA_VERSION = 1
FEATURE_METADATA = "feature_metadata.json"
DATASET_COVERAGE = "dataset_coverage.json"

# Edge columns of builder modules whose layout is known (used when no names are given).
KNOWN_EDGE_COLUMNS: dict[str, list[str]] = {
    "edge/legacy_band/v11": ["distance"] + [f"hist_{i}_{i + 1}" for i in range(1, 10)] + ["hist_10_inf"],
}


def generic_columns(prefix: str, dim: int) -> list[str]:
    """Placeholder names ``<prefix>_0 .. <prefix>_{dim-1}`` for unnamed feature columns."""
    return [f"{prefix}_{i}" for i in range(dim)]


@dataclass(frozen=True)
class FeatureSchema:
    """Node and edge feature layout of a dataset (and of a model trained on it)."""

    node_dim: int
    edge_dim: int
    node_columns: list[str] = field(default_factory=list)
    edge_columns: list[str] = field(default_factory=list)
    edge_module: str | None = None
    edge_params: dict[str, Any] = field(default_factory=dict)
    edge_feature_variant: str | None = None
    sources: dict[str, Any] = field(default_factory=dict)
    sample_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.node_dim < 1 or self.edge_dim < 1:
            raise DataError(f"feature schema: node_dim={self.node_dim}, edge_dim={self.edge_dim}; expected both >= 1")
        if not self.node_columns:
            object.__setattr__(self, "node_columns", generic_columns("node", self.node_dim))
        if not self.edge_columns:
            object.__setattr__(self, "edge_columns", generic_columns("edge", self.edge_dim))
        if len(self.node_columns) != self.node_dim:
            raise DataError(f"feature schema: {len(self.node_columns)} node columns for node_dim={self.node_dim}")
        if len(self.edge_columns) != self.edge_dim:
            raise DataError(f"feature schema: {len(self.edge_columns)} edge columns for edge_dim={self.edge_dim}")

    # ------------------------------------------------------------------ identity

    def identity(self) -> dict[str, Any]:
        """The part that defines the features (what :meth:`digest` hashes)."""
        return {
            "node_dim": self.node_dim,
            "edge_dim": self.edge_dim,
            "node_columns": list(self.node_columns),
            "edge_columns": list(self.edge_columns),
            "edge_module": self.edge_module,
            "edge_params": self.edge_params,
            "edge_feature_variant": self.edge_feature_variant,
        }

    def digest(self) -> str:
        """Stable short hash (16 hex) of the feature definition, independent of dataset size."""
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def check_compatible(self, other: FeatureSchema) -> None:
        """Raise :class:`SchemaMismatch` naming what differs between ``self`` (expected) and ``other``."""
        problems = []
        if self.node_dim != other.node_dim:
            problems.append(f"node_dim {self.node_dim} != {other.node_dim}")
        if self.edge_dim != other.edge_dim:
            problems.append(f"edge_dim {self.edge_dim} != {other.edge_dim}")
        if self.edge_module != other.edge_module:
            problems.append(f"edge_module {self.edge_module!r} != {other.edge_module!r}")
        if self.edge_feature_variant != other.edge_feature_variant:
            problems.append(f"edge_feature_variant {self.edge_feature_variant!r} != {other.edge_feature_variant!r}")
        for kind, mine, theirs in (("node", self.node_columns, other.node_columns),
                                   ("edge", self.edge_columns, other.edge_columns)):
            if len(mine) == len(theirs) and mine != theirs:
                i = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
                problems.append(f"{kind} column {i} {mine[i]!r} != {theirs[i]!r}")
        if problems:
            raise SchemaMismatch("feature schemas differ (expected != found): " + "; ".join(problems))

    # ------------------------------------------------------------------ (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        """``feature_metadata.json`` content."""
        return {
            "schema_version": self.version,
            "digest": self.digest(),
            "node_schema": {"dim": self.node_dim, "columns": list(self.node_columns)},
            "edge_schema": {
                "dim": self.edge_dim,
                "columns": list(self.edge_columns),
                "module": self.edge_module,
                "params": self.edge_params,
                "feature_variant": self.edge_feature_variant,
            },
            "sources": self.sources,
            "sample_counts": dict(self.sample_counts),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "feature schema") -> FeatureSchema:
        """Inverse of :meth:`to_dict`; :class:`DataError` naming ``where`` and the key on bad input."""
        if not isinstance(data, Mapping):
            raise DataError(f"{where}: expected a JSON object, got {type(data).__name__}")
        node, edge = data.get("node_schema"), data.get("edge_schema")
        for key, value in (("node_schema", node), ("edge_schema", edge)):
            if not isinstance(value, Mapping) or not isinstance(value.get("dim"), int):
                raise DataError(f"{where}: '{key}' missing or without an integer 'dim'")
        assert isinstance(node, Mapping) and isinstance(edge, Mapping)
        schema = cls(
            node_dim=int(node["dim"]),
            edge_dim=int(edge["dim"]),
            node_columns=list(node.get("columns") or []),
            edge_columns=list(edge.get("columns") or []),
            edge_module=edge.get("module"),
            edge_params=dict(edge.get("params") or {}),
            edge_feature_variant=edge.get("feature_variant"),
            sources=dict(data.get("sources") or {}),
            sample_counts={str(k): int(v) for k, v in (data.get("sample_counts") or {}).items()},
            notes=list(data.get("notes") or []),
            version=int(data.get("schema_version", SCHEMA_VERSION)),
        )
        recorded = data.get("digest")
        if recorded is not None and recorded != schema.digest():
            raise DataError(f"{where}: digest {recorded} does not match its content ({schema.digest()}); edited by hand?")
        return schema

    @classmethod
    def load(cls, path: str | Path) -> FeatureSchema:
        """Read ``feature_metadata.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / FEATURE_METADATA
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{path}: feature schema not found; run the schema stage (dvc repro schema)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from None
        except RecursionError:
            raise DataError(f"{path}: JSON nested too deeply to read; expected feature_metadata.json") from None
        return cls.from_dict(data, where=str(path))

    def save(self, path: str | Path) -> Path:
        """Write ``feature_metadata.json`` atomically."""
        from graphqa.io import write_json

        return write_json(path, self.to_dict())


# ---------------------------------------------------------------------- builder metadata


@dataclass(frozen=True)
class BuilderMetadata:
    """What a graph builder says about its features (graph_metadata.json or a graph's metadata dict)."""

    source: str
    node_columns: list[str] | None = None
    node_dim: int | None = None
    edge_columns: list[str] | None = None
    edge_dim: int | None = None
    edge_module: str | None = None
    edge_params: dict[str, Any] | None = None
    edge_feature_variant: str | None = None
    notes: tuple[str, ...] = ()


def _first_entry(data: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    for key in sorted(data):
        value = data[key]
        if not key.startswith("_") and isinstance(value, Mapping):
            return key, value
    return None, {}


def parse_graph_metadata(data: Any, source: str) -> BuilderMetadata:
    """Read the QTopoQA ``graph_metadata.json`` layout.

    Keys ``"TARGET/MODEL"`` map to ``{edge_module, edge_params, edge_metadata{feature_dim,
    edge_feature_variant}, node_feature_columns}``; optional top-level ``_node_schema``,
    ``_edge_schema``, ``node_feature_dim``, ``edge_feature_dim``, ``edge_module``.
    """
    if not isinstance(data, Mapping):
        raise DataError(f"{source}: expected a JSON object keyed by TARGET/MODEL, got {type(data).__name__}")
    notes: list[str] = []
    key, entry = _first_entry(data)
    edge_meta = entry.get("edge_metadata") if isinstance(entry.get("edge_metadata"), Mapping) else {}
    node_schema = data.get("_node_schema") if isinstance(data.get("_node_schema"), Mapping) else {}
    edge_schema = data.get("_edge_schema") if isinstance(data.get("_edge_schema"), Mapping) else {}

    node_columns = node_schema.get("columns") or entry.get("node_feature_columns")
    edge_columns = edge_schema.get("columns")
    node_dim = node_schema.get("dim", data.get("node_feature_dim", entry.get("node_feature_dim")))
    edge_dim = edge_schema.get("dim", data.get("edge_feature_dim", edge_meta.get("feature_dim")))
    edge_module = edge_schema.get("module") or data.get("edge_module") or entry.get("edge_module")

    # Entries that disagree with the first one: a mixed dataset, worth a note.
    differing = []
    for other_key, other in data.items():
        if other_key.startswith("_") or not isinstance(other, Mapping) or other_key == key:
            continue
        if other.get("edge_module", entry.get("edge_module")) != entry.get("edge_module") or (
            other.get("node_feature_columns") not in (None, entry.get("node_feature_columns"))
        ):
            differing.append(other_key)
    if differing:
        notes.append(
            f"{source}: {len(differing)} entries (e.g. {differing[0]}) declare other edge modules or node "
            f"columns than {key}; names taken from {key}"
        )
    return BuilderMetadata(
        source=source,
        node_columns=[str(c) for c in node_columns] if isinstance(node_columns, list) else None,
        node_dim=int(node_dim) if isinstance(node_dim, int) else None,
        edge_columns=[str(c) for c in edge_columns] if isinstance(edge_columns, list) else None,
        edge_dim=int(edge_dim) if isinstance(edge_dim, int) else None,
        edge_module=str(edge_module) if edge_module else None,
        edge_params=dict(entry["edge_params"]) if isinstance(entry.get("edge_params"), Mapping) else None,
        edge_feature_variant=edge_meta.get("edge_feature_variant"),
        notes=tuple(notes),
    )


def read_graph_metadata(path: str | Path) -> BuilderMetadata | None:
    """Parse ``graph_metadata.json`` if it exists (``None`` if absent)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); expected the QTopoQA graph_metadata.json layout") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply to read; expected the QTopoQA graph_metadata.json layout "
                        "(an object of TARGET/MODEL entries, a few levels deep)") from None
    return parse_graph_metadata(data, str(path))


def metadata_from_graph(metadata: Mapping[str, Any], source: str) -> BuilderMetadata:
    """Builder info from a graph's own ``metadata`` dict (``edge_module``, ``edge_params``, ``edge_info``)."""
    info = metadata.get("edge_info") if isinstance(metadata.get("edge_info"), Mapping) else {}
    columns = metadata.get("node_feature_columns")
    return BuilderMetadata(
        source=source,
        node_columns=[str(c) for c in columns] if isinstance(columns, list) else None,
        edge_dim=info.get("feature_dim") if isinstance(info.get("feature_dim"), int) else None,
        edge_module=str(metadata["edge_module"]) if metadata.get("edge_module") else None,
        edge_params=dict(metadata["edge_params"]) if isinstance(metadata.get("edge_params"), Mapping) else None,
        edge_feature_variant=info.get("edge_feature_variant"),
    )


def build_schema(
    node_dim: int,
    edge_dim: int,
    hints: list[BuilderMetadata],
    *,
    sources: dict[str, Any] | None = None,
    sample_counts: dict[str, int] | None = None,
    notes: list[str] | None = None,
) -> FeatureSchema:
    """Combine measured dims with builder hints (first hint wins per field); tensors win on dims.

    Every disagreement between a hint and the tensors becomes a note.
    """
    notes = list(notes or [])
    node_columns: list[str] | None = None
    edge_columns: list[str] | None = None
    edge_module = edge_params = variant = None
    for hint in hints:
        notes.extend(hint.notes)
        if hint.node_dim is not None and hint.node_dim != node_dim:
            notes.append(f"{hint.source}: node feature dim {hint.node_dim} but the tensors have {node_dim}; using {node_dim}")
        if hint.edge_dim is not None and hint.edge_dim != edge_dim:
            notes.append(f"{hint.source}: edge feature dim {hint.edge_dim} but the tensors have {edge_dim}; using {edge_dim}")
        if node_columns is None and hint.node_columns is not None:
            if len(hint.node_columns) == node_dim:
                node_columns = hint.node_columns
            else:
                notes.append(
                    f"{hint.source}: {len(hint.node_columns)} node column names for {node_dim} node features; names ignored"
                )
        if edge_columns is None and hint.edge_columns is not None:
            if len(hint.edge_columns) == edge_dim:
                edge_columns = hint.edge_columns
            else:
                notes.append(
                    f"{hint.source}: {len(hint.edge_columns)} edge column names for {edge_dim} edge features; names ignored"
                )
        edge_module = edge_module or hint.edge_module
        edge_params = edge_params if edge_params is not None else hint.edge_params
        variant = variant or hint.edge_feature_variant
    if edge_columns is None and edge_module in KNOWN_EDGE_COLUMNS and len(KNOWN_EDGE_COLUMNS[edge_module]) == edge_dim:
        edge_columns = KNOWN_EDGE_COLUMNS[edge_module]
    if node_columns is None:
        notes.append(f"no node column names found; using node_0..node_{node_dim - 1}")
    if edge_columns is None:
        notes.append(f"no edge column names found; using edge_0..edge_{edge_dim - 1}")
    return FeatureSchema(
        node_dim=node_dim,
        edge_dim=edge_dim,
        node_columns=node_columns or [],
        edge_columns=edge_columns or [],
        edge_module=edge_module,
        edge_params=edge_params or {},
        edge_feature_variant=variant,
        sources=sources or {},
        sample_counts=sample_counts or {},
        notes=notes,
    )
