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


def _read(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"{path}: graph file not found", kind="unreadable")
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
        value = value.to_dense()
    return value


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


def validate_graph(mapping: Mapping[str, Any], path: Path) -> GraphRecord:
    """Check a graph mapping (x / edge_index / edge_attr [/ metadata]) and return a :class:`GraphRecord`."""
    x = _tensor(mapping, "x", path)
    edge_index = _tensor(mapping, "edge_index", path)
    edge_attr = _tensor(mapping, "edge_attr", path)

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


def load_graph(path: str | Path) -> GraphRecord:
    """Load and validate one graph file; raise :class:`DataError` naming the file on bad input.

    Example: ``record = load_graph("data/graphs/1ABC/1ABC_decoy001.pt"); record.x.shape``
    """
    path = Path(path)
    return validate_graph(_as_mapping(_read(path), path), path)
