"""Safe loading and validation of one interface graph (``.pt``).

A graph file holds a ``torch_geometric.data.Data`` (as the TopoQA / QTopoQA
builders write it) or a plain dict with the same keys: ``x`` [N, F_node],
``edge_index`` [2, E], ``edge_attr`` [E, F_edge] and an optional ``metadata``
dict. It is read with ``torch.load(weights_only=True)`` inside
``torch.serialization.safe_globals`` holding the PyG ``Data`` class and the
classes its pickle refers to (``DataEdgeAttr``, ``DataTensorAttr``,
``GlobalStorage``) and nothing else: a pickle that needs any other global is
refused before anything in it runs.

When PyG is not imported yet (the ``schema`` and ``pack`` stages), the
allowlist maps those four PyG names to inert stand-in classes that only keep
the pickled state, so loading a graph does not pay PyG's multi-second import.
Either way, only the ``x`` / ``edge_index`` / ``edge_attr`` / ``metadata``
entries are kept.

Before anything is unpickled, the file's size (for a ``torch.save`` zip, the
sum of its members' uncompressed sizes, read from the zip directory) is
checked against ``data.max_graph_bytes``, so a zip bomb is never inflated; a
raw pickle (not a ``torch.save`` file) is refused unread. Before any tensor is
converted, sparse tensors and expanded ones (stride 0: a few bytes on disk
standing for gigabytes) are refused and the node and edge counts are checked
against ``data.max_nodes`` / ``data.max_edges`` (:class:`GraphLimits`). See
docs/ARCHITECTURE.md, "Data contract".

Checks (each failure is a :class:`DataError` naming the file): the three
tensors are present with the right ranks and matching edge counts; features
are finite; ``edge_index`` points at existing nodes. A graph with 0 nodes or
0 edges is *valid to load* (``GraphRecord.is_empty``); the schema and pack
stages skip such graphs with a warning recorded in ``dataset_coverage.json``
(they count as missing for coverage), because a GNN cannot score a graph with
no interface and one degenerate decoy should not stop a whole dataset.
"""

from __future__ import annotations

import pickle
import sys
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from graphqa.data.errors import DataError

EXPECTED = "expected x [N, F_node], edge_index [2, E] and edge_attr [E, F_edge]"
FLOAT32_MAX = float(torch.finfo(torch.float32).max)
# The legacy (pre-zip) torch.save format starts with this pickled magic number; any other pickle is a raw pickle.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."


@dataclass(frozen=True)
class GraphLimits:
    """Largest graph accepted: far above real interface graphs (10-200 nodes, 40-1,300 edges, ~200 KB).

    The ``data.max_nodes`` / ``data.max_edges`` / ``data.max_graph_bytes`` params (defaults equal).
    """

    max_nodes: int = 5_000
    max_edges: int = 100_000
    max_graph_bytes: int = 256 * 2**20

    @classmethod
    def from_params(cls, data: Any) -> GraphLimits:
        """The limits of a ``DataParams`` (or any object with the three attributes)."""
        return cls(int(data.max_nodes), int(data.max_edges), int(data.max_graph_bytes))

    def to_dict(self) -> dict[str, int]:
        return {"max_nodes": self.max_nodes, "max_edges": self.max_edges, "max_graph_bytes": self.max_graph_bytes}


def _too_big(path: Path, what: str, size: int, param: str, limit: int) -> DataError:
    return DataError(
        f"{path}: {what} {size:,}, over the limit data.{param} = {limit:,}; expected an interface graph "
        f"(10-200 nodes, 40-1,300 edges). Raise data.{param} if your graphs really are this large",
        kind="size",
    )


def _check_file_size(path: Path, limits: GraphLimits) -> None:
    """Refuse a file whose content (uncompressed, for a zip) exceeds ``max_graph_bytes``; refuse raw pickles."""
    on_disk = path.stat().st_size
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                inflated = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable PyTorch graph file (corrupt or truncated?): {exc}",
                            kind="unreadable") from None
        if inflated > limits.max_graph_bytes:
            raise _too_big(path, f"holds {on_disk:,} bytes that unpack to", inflated, "max_graph_bytes",
                           limits.max_graph_bytes)
        return
    if on_disk > limits.max_graph_bytes:
        raise _too_big(path, "has a size in bytes of", on_disk, "max_graph_bytes", limits.max_graph_bytes)
    with path.open("rb") as handle:
        head = handle.read(len(_LEGACY_TORCH_MAGIC))
    if head[:1] == b"\x80" and head != _LEGACY_TORCH_MAGIC:
        raise DataError(
            f"{path}: refused to load: a raw pickle, not a torch.save file; raw pickles are never unpickled "
            "(they can run code). Expected a torch_geometric Data or a dict of tensors saved with torch.save. "
            "Nothing in the file was executed.",
            kind="refused",
        )

# The globals a pickled PyG ``Data`` refers to (PyG >= 2.0). Nothing else is allowed.
_PYG_DATA = "torch_geometric.data.data.Data"
_PYG_EDGE_ATTR = "torch_geometric.data.data.DataEdgeAttr"
_PYG_TENSOR_ATTR = "torch_geometric.data.data.DataTensorAttr"
_PYG_GLOBAL_STORAGE = "torch_geometric.data.storage.GlobalStorage"


class _PickledData:
    """Inert receiver for a pickled PyG ``Data``: keeps its state, has no behaviour."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _PickledStorage(_PickledData):
    """Inert receiver for a pickled PyG ``GlobalStorage``."""


class _PickledAttrClass:
    """Stands in for the attribute-helper classes a ``Data`` pickle names (never instantiated)."""


def _allowed_globals() -> list[Any]:
    if "torch_geometric" in sys.modules:
        # PyG is loaded (training, tests): it registers its own classes with
        # torch anyway, so allow exactly those, with no competing stand-ins.
        from torch_geometric.data.data import Data, DataEdgeAttr, DataTensorAttr
        from torch_geometric.data.storage import GlobalStorage

        return [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]
    return [
        (_PickledData, _PYG_DATA),
        (_PickledAttrClass, _PYG_EDGE_ATTR),
        (_PickledAttrClass, _PYG_TENSOR_ATTR),
        (_PickledStorage, _PYG_GLOBAL_STORAGE),
    ]


@dataclass(frozen=True)
class GraphRecord:
    """One validated interface graph."""

    x: torch.Tensor  # float32 [N, F_node]
    edge_index: torch.Tensor  # int64 [2, E]
    edge_attr: torch.Tensor  # float32 [E, F_edge]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    @property
    def node_dim(self) -> int:
        return int(self.x.shape[1])

    @property
    def edge_dim(self) -> int:
        return int(self.edge_attr.shape[1])

    @property
    def is_empty(self) -> bool:
        """True for a graph with no nodes or no edges (skipped by schema/pack)."""
        return self.num_nodes == 0 or self.num_edges == 0

    @property
    def empty_reason(self) -> str | None:
        if self.num_nodes == 0:
            return "0 nodes"
        if self.num_edges == 0:
            return "0 edges"
        return None


def _read(path: Path, limits: GraphLimits) -> Any:
    if not path.is_file():
        raise DataError(f"{path}: graph file not found", kind="unreadable")
    _check_file_size(path, limits)
    try:
        with torch.serialization.safe_globals(_allowed_globals()), warnings.catch_warnings():
            # A raw (non-torch) pickle triggers a protocol warning before it is refused anyway.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        # torch's message advises turning the safe mode off; keep only its diagnosis.
        marker = next((i for i, line in enumerate(lines) if "WeightsUnpickler error:" in line), None)
        detail = lines[marker].split("WeightsUnpickler error:", 1)[1].strip() if marker is not None else ""
        if marker is not None and not detail and marker + 1 < len(lines):
            detail = lines[marker + 1]
        detail = detail or next((line for line in lines if "GLOBAL" in line), "unsupported pickle content")
        # Globals, constructors or calls outside the allowlist: content that would run code.
        if any(key in text for key in ("GLOBAL", "global", "allowlisted", "unrecognized function", "Can only")):
            raise DataError(
                f"{path}: refused to load: the pickle needs something other than the allowed PyG graph classes "
                f"({detail.split('. ')[0]}); expected a torch_geometric Data or a dict of tensors. "
                "Nothing in the file was executed.",
                kind="refused",
            ) from None
        raise DataError(
            f"{path}: not a readable PyTorch graph file (corrupt or truncated?): {detail}", kind="unreadable"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, IndexError, TypeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0].split(". ")[0]
        raise DataError(
            f"{path}: not a readable PyTorch graph file (corrupt or truncated?): {first}", kind="unreadable"
        ) from None


def _as_mapping(obj: Any, path: Path) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    if isinstance(obj, _PickledData):
        state = obj.state if isinstance(obj.state, Mapping) else {}
        store = state.get("_store")
        if isinstance(store, _PickledStorage) and isinstance(store.state, Mapping):
            mapping = store.state.get("_mapping", {})
            return mapping if isinstance(mapping, Mapping) else {}
        return state  # PyG < 2.0 kept attributes directly in __dict__
    to_dict = getattr(obj, "to_dict", None)
    if "torch_geometric" in sys.modules:
        from torch_geometric.data import Data

        if isinstance(obj, Data) and callable(to_dict):
            return to_dict()
    raise DataError(f"{path}: holds a {type(obj).__name__}; {EXPECTED} in a PyG Data or a dict", kind="structure")


def _tensor(mapping: Mapping[str, Any], key: str, path: Path) -> torch.Tensor:
    if key not in mapping or mapping[key] is None:
        present = ", ".join(sorted(str(k) for k in mapping)) or "nothing"
        raise DataError(f"{path}: missing '{key}' (has: {present}); {EXPECTED}", kind="structure")
    value = mapping[key]
    if not isinstance(value, torch.Tensor):
        raise DataError(f"{path}: '{key}' is a {type(value).__name__}, expected a tensor", kind="structure")
    if value.layout != torch.strided:
        raise DataError(
            f"{path}: '{key}' is a {str(value.layout).removeprefix('torch.')} tensor of shape {list(value.shape)}; "
            "refused (densifying it could take any amount of memory); expected a dense tensor",
            kind="refused",
        )
    stored = value.untyped_storage().nbytes() - value.storage_offset() * value.element_size()
    if value.numel() * value.element_size() > stored:
        raise DataError(
            f"{path}: '{key}' is an expanded view (shape {list(value.shape)}, strides {list(value.stride())}) of "
            f"{max(stored, 0):,} stored bytes; refused (copying it would take {value.numel() * value.element_size():,} "
            "bytes); expected a tensor holding its own values (save it with .contiguous())",
            kind="refused",
        )
    return value


def _check_float32_range(tensor: torch.Tensor, key: str, path: Path) -> None:
    """Refuse finite values that float32 cannot hold (they would become inf), naming the first."""
    if tensor.dtype not in (torch.float64, torch.int64, torch.int32) or not tensor.numel():
        return
    big = torch.isfinite(tensor) & (tensor.abs() > FLOAT32_MAX)  # inf and NaN: reported as non-finite
    if bool(big.any()):
        row, col = (int(v) for v in big.nonzero()[0])
        raise DataError(
            f"{path}: '{key}' has {int(big.sum())} value(s) too large for float32 (e.g. {float(tensor[row, col]):.3g} "
            f"at row {row}, column {col}); expected features within ±{FLOAT32_MAX:.3g}",
            kind="nonfinite",
        )


def _check_finite(tensor: torch.Tensor, key: str, path: Path) -> None:
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        count = int(bad.sum())
        row, col = (int(v) for v in bad.nonzero()[0])
        kinds = []
        if bool(torch.isnan(tensor).any()):
            kinds.append("NaN")
        if bool(torch.isinf(tensor).any()):
            kinds.append("inf")
        raise DataError(
            f"{path}: '{key}' has {count} non-finite value(s) ({'/'.join(kinds)}), first at row {row}, "
            f"column {col}; expected finite features",
            kind="nonfinite",
        )


def validate_graph(mapping: Mapping[str, Any], path: Path, limits: GraphLimits | None = None) -> GraphRecord:
    """Check a graph mapping (x / edge_index / edge_attr [/ metadata]) and return a :class:`GraphRecord`."""
    limits = limits or GraphLimits()
    x = _tensor(mapping, "x", path)
    edge_index = _tensor(mapping, "edge_index", path)
    edge_attr = _tensor(mapping, "edge_attr", path)
    if x.dim() >= 1 and x.shape[0] > limits.max_nodes:
        raise _too_big(path, "has a node count of", int(x.shape[0]), "max_nodes", limits.max_nodes)
    if edge_index.dim() == 2 and edge_index.shape[-1] > limits.max_edges:
        raise _too_big(path, "has an edge count of", int(edge_index.shape[-1]), "max_edges", limits.max_edges)

    if x.dim() != 2:
        raise DataError(f"{path}: 'x' has shape {list(x.shape)}; expected [N, F_node] (2-D)", kind="structure")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise DataError(f"{path}: 'edge_index' has shape {list(edge_index.shape)}; expected [2, E]", kind="structure")
    if edge_attr.dim() == 1:
        edge_attr = edge_attr.unsqueeze(1)  # a scalar per edge
    if edge_attr.dim() != 2:
        raise DataError(f"{path}: 'edge_attr' has shape {list(edge_attr.shape)}; expected [E, F_edge] (2-D)", kind="structure")
    if edge_attr.shape[0] != edge_index.shape[1]:
        raise DataError(
            f"{path}: 'edge_attr' has {edge_attr.shape[0]} rows but 'edge_index' has {edge_index.shape[1]} edges; "
            "expected one feature row per edge",
            kind="structure",
        )
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64, torch.uint8, torch.int8, torch.int16)):
        raise DataError(f"{path}: 'x' has dtype {x.dtype}; expected real numbers", kind="structure")
    if not (edge_attr.is_floating_point() or edge_attr.dtype in (torch.int32, torch.int64, torch.uint8)):
        raise DataError(f"{path}: 'edge_attr' has dtype {edge_attr.dtype}; expected real numbers", kind="structure")
    if edge_index.is_floating_point() or edge_index.is_complex() or edge_index.dtype == torch.bool:
        raise DataError(f"{path}: 'edge_index' has dtype {edge_index.dtype}; expected integer node indices", kind="structure")

    _check_float32_range(x, "x", path)
    _check_float32_range(edge_attr, "edge_attr", path)
    x = x.to(torch.float32).contiguous()
    edge_attr = edge_attr.to(torch.float32).contiguous()
    edge_index = edge_index.to(torch.int64).contiguous()
    _check_finite(x, "x", path)
    _check_finite(edge_attr, "edge_attr", path)

    num_nodes = int(x.shape[0])
    if edge_index.numel():
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0 or high >= num_nodes:
            raise DataError(
                f"{path}: 'edge_index' refers to node {low if low < 0 else high} but the graph has {num_nodes} "
                f"nodes; expected indices in [0, {num_nodes - 1}]",
                kind="index",
            )

    metadata = mapping.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
    return GraphRecord(x=x, edge_index=edge_index, edge_attr=edge_attr, metadata=metadata, path=path)


def load_graph(path: str | Path, limits: GraphLimits | None = None) -> GraphRecord:
    """Load and validate one graph file; raise :class:`DataError` naming the file on bad input.

    Example: ``record = load_graph("data/graphs/1ABC/1ABC_decoy001.pt"); record.x.shape``
    """
    path = Path(path)
    limits = limits or GraphLimits()
    return validate_graph(_as_mapping(_read(path, limits), path), path, limits)
