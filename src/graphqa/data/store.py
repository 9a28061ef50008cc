"""One contiguous, memory-mapped store of the graphs of a split.

Layout of a store directory (every array a ``.npy`` file, memory-mapped on open):

======================  ==================  =========================================
``x.npy``               float32 [N, F]      node features of all graphs, concatenated
``edge_attr.npy``       float32 [E, Fe]     edge features, concatenated
``edges.npy``           int32   [E, 2]      (source, destination), local to each graph
``node_ptr.npy``        int64   [G + 1]     graph g's nodes are rows node_ptr[g]:node_ptr[g+1]
``edge_ptr.npy``        int64   [G + 1]     graph g's edges are rows edge_ptr[g]:edge_ptr[g+1]
``y.npy``               float32 [G]         DockQ
``target_index.npy``    int64   [G]         index into ``target_names``
``store.json``          names, keys, target names, dims, graph files, schema digest
======================  ==================  =========================================

A batch is built with a handful of vectorised gathers over these arrays
(:meth:`PackedGraphStore.batch`), never from per-graph Python objects.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphqa.data.batch import GraphBatch
from graphqa.data.errors import DataError, SchemaMismatch
from graphqa.data.graph import GraphLimits, GraphRecord, load_graph
from graphqa.data.progress import ProgressHook

log = logging.getLogger(__name__)

STORE_FORMAT = "graphqa-packed-store"
STORE_VERSION = 1
STORE_MANIFEST = "store.json"
_ARRAYS: dict[str, str] = {  # name -> dtype
    "x": "float32",
    "edge_attr": "float32",
    "edges": "int32",
    "node_ptr": "int64",
    "edge_ptr": "int64",
    "y": "float32",
    "target_index": "int64",
}


@dataclass(frozen=True)
class PackItem:
    """One graph to pack: its file and its label."""

    path: Path
    model: str
    target: str
    dockq: float


class _ArrayWriter:
    """Append rows to a raw file, then wrap it into a ``.npy`` (header + rows) atomically."""

    def __init__(self, directory: Path, name: str, dtype: str, width: int | None) -> None:
        self.target = directory / f"{name}.npy"
        self.raw = directory / f".{name}.raw"
        self.dtype = np.dtype(dtype)
        self.width = width
        self.rows = 0
        self.handle = self.raw.open("wb")

    def append(self, array: np.ndarray) -> None:
        from graphqa.io import naming_full_disk

        array = np.ascontiguousarray(array, dtype=self.dtype)
        with naming_full_disk(self.target):
            self.handle.write(array.tobytes())
        self.rows += int(array.shape[0])

    def finish(self) -> None:
        from graphqa.io import atomic_path, naming_full_disk

        with naming_full_disk(self.target):
            self.handle.close()
        shape = (self.rows,) if self.width is None else (self.rows, self.width)
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        with atomic_path(self.target) as tmp, tmp.open("wb") as out, self.raw.open("rb") as src:
            np.lib.format.write_array_header_1_0(out, header)
            shutil.copyfileobj(src, out, length=16 << 20)
        self.raw.unlink()

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # flushing may fail again on a full disk; the file goes anyway
            self.handle.close()
        self.raw.unlink(missing_ok=True)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)


class PackedGraphStore:
    """The graphs of one split in contiguous memory-mapped arrays.

    Example::

        store = PackedGraphStore.open("artifacts/packed/train")
        batch = store.batch([0, 5, 7])        # GraphBatch
        len(store), store.node_dim, store.y[:3]
    """

    def __init__(self, directory: Path, manifest: dict[str, Any], arrays: dict[str, torch.Tensor]) -> None:
        self.directory = directory
        self.manifest = manifest
        self._x = arrays["x"]
        self._edge_attr = arrays["edge_attr"]
        self._edges = arrays["edges"]
        self._node_ptr = arrays["node_ptr"]
        self._edge_ptr = arrays["edge_ptr"]
        self.y: torch.Tensor = arrays["y"]
        self.target_index: torch.Tensor = arrays["target_index"]
        self.names: list[str] = list(manifest["names"])
        self.keys: list[str] = list(manifest["keys"])
        self.target_names: list[str] = list(manifest["target_names"])
        self.graph_files: list[str] = list(manifest.get("graph_files", []))
        self.split: str = manifest.get("split", directory.name)
        self.node_dim: int = int(manifest["node_dim"])
        self.edge_dim: int = int(manifest["edge_dim"])
        self.schema_digest: str | None = manifest.get("schema_digest")
        # numpy views of the same memory: batches are gathered with numpy, which runs on the
        # calling thread (torch's small gathers go through its OpenMP pool, and on busy cores
        # those threads cost far more than the copy itself)
        self._np = {name: tensor.numpy() for name, tensor in arrays.items()}

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, directory: str | Path) -> PackedGraphStore:
        """Open a store written by :meth:`pack`; arrays are memory-mapped (copy-on-write)."""
        directory = Path(directory)
        manifest_path = directory / STORE_MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{manifest_path}: packed store not found; run the pack stage (dvc repro pack)", kind="store") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{manifest_path}: not valid JSON ({exc})", kind="store") from None
        if manifest.get("format") != STORE_FORMAT or manifest.get("version") != STORE_VERSION:
            raise DataError(
                f"{manifest_path}: format {manifest.get('format')!r} v{manifest.get('version')}; "
                f"expected {STORE_FORMAT!r} v{STORE_VERSION} (re-run the pack stage)",
                kind="store",
            )
        g, n, e = int(manifest["num_graphs"]), int(manifest["num_nodes"]), int(manifest["num_edges"])
        expected = {
            "x": (n, int(manifest["node_dim"])), "edge_attr": (e, int(manifest["edge_dim"])), "edges": (e, 2),
            "node_ptr": (g + 1,), "edge_ptr": (g + 1,), "y": (g,), "target_index": (g,),
        }
        arrays: dict[str, torch.Tensor] = {}
        for name, dtype in _ARRAYS.items():
            path = directory / f"{name}.npy"
            try:
                array = np.load(path, mmap_mode="c", allow_pickle=False)
            except FileNotFoundError:
                raise DataError(f"{path}: missing from the packed store", kind="store") from None
            except ValueError:
                try:  # zero-size arrays cannot be mapped; anything else fails here too
                    array = np.load(path, allow_pickle=False)
                except ValueError as exc:
                    raise DataError(f"{path}: not a readable .npy array ({exc}); truncated?", kind="store") from None
            if array.dtype != np.dtype(dtype) or array.shape != expected[name]:
                raise DataError(
                    f"{path}: {array.dtype} {list(array.shape)}, expected {dtype} {list(expected[name])} "
                    f"(from {STORE_MANIFEST}); re-run the pack stage",
                    kind="store",
                )
            tensor = torch.from_numpy(array)
            # Small per-graph arrays are read into memory; features stay mapped.
            arrays[name] = tensor.clone() if name in ("node_ptr", "edge_ptr", "y", "target_index") else tensor
        if len(manifest["names"]) != g or len(manifest["keys"]) != g:
            raise DataError(f"{manifest_path}: {len(manifest['names'])} names for {g} graphs", kind="store")
        return cls(directory, manifest, arrays)

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes re-open the files instead of receiving copies of the arrays.
        return {"directory": str(self.directory)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        other = type(self).open(state["directory"])
        self.__dict__.update(other.__dict__)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        return (
            f"PackedGraphStore({str(self.directory)!r}, graphs={len(self)}, nodes={self.num_nodes_total}, "
            f"edges={self.num_edges_total}, node_dim={self.node_dim}, edge_dim={self.edge_dim})"
        )

    @property
    def num_nodes_total(self) -> int:
        return int(self._x.shape[0])

    @property
    def num_edges_total(self) -> int:
        return int(self._edges.shape[0])

    @property
    def node_counts(self) -> torch.Tensor:
        """Nodes per graph, int64 [G]."""
        return self._node_ptr[1:] - self._node_ptr[:-1]

    @property
    def edge_counts(self) -> torch.Tensor:
        """Edges per graph, int64 [G]."""
        return self._edge_ptr[1:] - self._edge_ptr[:-1]

    def _indices(self, indices: Sequence[int] | torch.Tensor | np.ndarray) -> np.ndarray:
        idx = np.array(indices, dtype=np.int64).reshape(-1)  # a copy: the batch owns its index
        if idx.size == 0:
            raise IndexError("a batch needs at least one graph index")
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= len(self):
            raise IndexError(f"graph index {low if low < 0 else high} out of range for a store of {len(self)} graphs")
        return idx

    def batch(self, indices: Sequence[int] | torch.Tensor | np.ndarray) -> GraphBatch:
        """Graphs ``indices`` as one :class:`GraphBatch`, in the given order (gathers, no per-graph objects)."""
        idx = self._indices(indices)
        a = self._np
        node_ptr, edge_ptr = a["node_ptr"], a["edge_ptr"]
        node_start, edge_start = node_ptr[idx], edge_ptr[idx]
        node_count = node_ptr[idx + 1] - node_start
        edge_count = edge_ptr[idx + 1] - edge_start
        node_rows = _ranges(node_start, node_count)
        edge_rows = _ranges(edge_start, edge_count)
        node_offset = np.cumsum(node_count) - node_count
        edge_index = np.take(a["edges"], edge_rows, axis=0).astype(np.int64).T
        edge_index += np.repeat(node_offset, edge_count)
        return GraphBatch(
            x=torch.from_numpy(np.take(a["x"], node_rows, axis=0)),
            edge_index=torch.from_numpy(np.ascontiguousarray(edge_index)),
            edge_attr=torch.from_numpy(np.take(a["edge_attr"], edge_rows, axis=0)),
            batch=torch.from_numpy(np.repeat(np.arange(idx.size, dtype=np.int64), node_count)),
            y=torch.from_numpy(a["y"][idx]),
            target=torch.from_numpy(a["target_index"][idx]),
            index=torch.from_numpy(idx),
            num_graphs=int(idx.size),
        )

    def graph(self, i: int):  # noqa: ANN201 - torch_geometric.data.Data, imported lazily
        """Graph ``i`` as a ``torch_geometric.data.Data`` (x, edge_index, edge_attr, y, target, name)."""
        from torch_geometric.data import Data

        (i,) = self._indices([i]).tolist()
        n0, n1 = int(self._node_ptr[i]), int(self._node_ptr[i + 1])
        e0, e1 = int(self._edge_ptr[i]), int(self._edge_ptr[i + 1])
        return Data(
            x=self._x[n0:n1].clone(),
            edge_index=self._edges[e0:e1].to(torch.int64).t().contiguous(),
            edge_attr=self._edge_attr[e0:e1].clone(),
            y=self.y[i : i + 1].clone(),
            target=self.target_index[i : i + 1].clone(),
            name=self.names[i],
        )

    # ------------------------------------------------------------------ writing

    @classmethod
    def pack(
        cls,
        items: Iterable[PackItem],
        directory: str | Path,
        *,
        split: str,
        node_dim: int,
        edge_dim: int,
        schema_digest: str | None = None,
        progress: ProgressHook | None = None,
        limits: GraphLimits | None = None,
    ) -> tuple[PackedGraphStore, list[dict[str, str]]]:
        """Write ``items`` into a new store at ``directory`` (created; must not exist or be empty).

        Every graph is loaded and checked against (node_dim, edge_dim); a mismatch raises
        :class:`SchemaMismatch` naming the file. Graphs with 0 nodes / 0 edges are skipped
        and returned as ``[{"model", "file", "reason"}]``. Items keep their given order.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise DataError(f"{directory}: not empty; a store is packed into a new directory", kind="store")
        items = list(items)
        writers = {
            "x": _ArrayWriter(directory, "x", "float32", node_dim),
            "edge_attr": _ArrayWriter(directory, "edge_attr", "float32", edge_dim),
            "edges": _ArrayWriter(directory, "edges", "int32", 2),
        }
        node_ptr, edge_ptr, ys, target_ids, names, keys, files = [0], [0], [], [], [], [], []
        target_names = sorted({item.target for item in items})
        target_id = {name: i for i, name in enumerate(target_names)}
        skipped: list[dict[str, str]] = []
        try:
            for done, item in enumerate(items, 1):
                record = load_graph(item.path, limits)
                if record.is_empty:
                    log.warning("%s: %s; skipped", item.path, record.empty_reason)
                    skipped.append({"model": f"{item.target}/{item.model}", "file": str(item.path),
                                    "reason": str(record.empty_reason)})
                else:
                    _check_dims(record, node_dim, edge_dim)
                    writers["x"].append(record.x.numpy())
                    writers["edge_attr"].append(record.edge_attr.numpy())
                    writers["edges"].append(record.edge_index.t().numpy())
                    node_ptr.append(node_ptr[-1] + record.num_nodes)
                    edge_ptr.append(edge_ptr[-1] + record.num_edges)
                    ys.append(item.dockq)
                    target_ids.append(target_id[item.target])
                    names.append(item.model)
                    keys.append(f"{item.target}/{item.model}")
                    files.append(str(item.path))
                if progress is not None:
                    progress(done, len(items))
            for w in writers.values():
                w.finish()
        except BaseException:
            for w in writers.values():
                w.abort()
            raise
        _save_npy(directory / "node_ptr.npy", np.asarray(node_ptr, dtype=np.int64))
        _save_npy(directory / "edge_ptr.npy", np.asarray(edge_ptr, dtype=np.int64))
        _save_npy(directory / "y.npy", np.asarray(ys, dtype=np.float32))
        _save_npy(directory / "target_index.npy", np.asarray(target_ids, dtype=np.int64))
        used_targets = sorted({k.split("/", 1)[0] for k in keys})
        if used_targets != target_names:  # a target whose graphs were all skipped: renumber
            remap = {target_id[t]: i for i, t in enumerate(used_targets)}
            _save_npy(directory / "target_index.npy", np.asarray([remap[t] for t in target_ids], dtype=np.int64))
            target_names = used_targets
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "split": split,
            "num_graphs": len(ys),
            "num_nodes": node_ptr[-1],
            "num_edges": edge_ptr[-1],
            "node_dim": node_dim,
            "edge_dim": edge_dim,
            "schema_digest": schema_digest,
            "skipped": skipped,
            "target_names": target_names,
            "names": names,
            "keys": keys,
            "graph_files": files,
        }
        from graphqa.io import write_json

        write_json(directory / STORE_MANIFEST, manifest)
        return cls.open(directory), skipped


def _check_dims(record: GraphRecord, node_dim: int, edge_dim: int) -> None:
    if record.node_dim != node_dim or record.edge_dim != edge_dim:
        raise SchemaMismatch(
            f"{record.path}: node dim {record.node_dim} / edge dim {record.edge_dim}, but the schema says "
            f"node dim {node_dim} / edge dim {edge_dim}; re-run the schema stage"
        )


def _save_npy(path: Path, array: np.ndarray) -> None:
    from graphqa.io import atomic_path

    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
