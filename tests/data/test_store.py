"""Packed stores: batches equal PyG's own batching, memory mapping, workers, damaged stores."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torch_geometric.data import Batch

from graphqa.data import BatchView, DataError, GraphBatch, GraphBatchSampler, PackedGraphStore, load_graph


@pytest.fixture(scope="module")
def train_store(packed_demo) -> PackedGraphStore:  # noqa: ANN001
    return PackedGraphStore.open(packed_demo.packed_dir / "train")


def test_store_contents_match_graph_files_and_labels(train_store: PackedGraphStore, packed_demo) -> None:  # noqa: ANN001
    store = train_store
    assert len(store) == 96 and (store.node_dim, store.edge_dim) == (172, 11)
    assert store.y.dtype == torch.float32 and store.target_index.dtype == torch.int64
    assert len(store.names) == len(store.keys) == len(store.graph_files) == 96
    assert store.target_names == sorted(store.target_names) and len(store.target_names) == 6
    labels = {}
    for line in (packed_demo.data_dir / "labels" / "train.csv").read_text().splitlines()[1:]:
        model, dockq, _ = line.split(",")
        labels[model] = float(dockq)
    for i in (0, 37, 95):
        record = load_graph(store.graph_files[i])
        graph = store.graph(i)
        assert torch.equal(graph.x, record.x) and torch.equal(graph.edge_attr, record.edge_attr)
        assert torch.equal(graph.edge_index, record.edge_index)
        assert store.y[i].item() == pytest.approx(labels[store.names[i]])
        assert store.target_names[store.target_index[i]] == store.keys[i].split("/")[0] == store.names[i].split("_")[0]
    assert int(store.node_counts.sum()) == store.num_nodes_total and int(store.edge_counts.sum()) == store.num_edges_total


@pytest.mark.parametrize("indices", [[0], [5, 0, 17, 3], list(range(10, 42)), [95, 2, 95]])
def test_batch_equals_pyg_batch_from_data_list(train_store: PackedGraphStore, indices: list[int]) -> None:
    batch = train_store.batch(indices)
    reference = Batch.from_data_list([train_store.graph(i) for i in indices])
    for name in ("x", "edge_index", "edge_attr", "batch"):
        mine, theirs = getattr(batch, name), getattr(reference, name)
        assert mine.dtype == theirs.dtype and torch.equal(mine, theirs), name
    assert torch.equal(batch.y, reference.y) and torch.equal(batch.target, reference.target)
    assert batch.index.tolist() == indices and batch.num_graphs == len(indices) == reference.num_graphs
    assert batch.y.dtype == torch.float32 and batch.index.dtype == torch.int64


def test_batch_index_errors(train_store: PackedGraphStore) -> None:
    with pytest.raises(IndexError, match="out of range for a store of 96 graphs"):
        train_store.batch([3, 96])
    with pytest.raises(IndexError, match="at least one"):
        train_store.batch([])


def test_arrays_are_memory_mapped(train_store: PackedGraphStore) -> None:
    assert isinstance(np.load(train_store.directory / "x.npy", mmap_mode="r"), np.memmap)
    assert not train_store._x.is_shared() and train_store._x.untyped_storage().nbytes() == train_store._x.numel() * 4
    # Batches own their memory: writing to one never touches the store.
    batch = train_store.batch([0, 1])
    before = train_store.graph(0).x.clone()
    batch.x.add_(1.0)
    assert torch.equal(train_store.graph(0).x, before)


def test_pickling_reopens_instead_of_copying(train_store: PackedGraphStore) -> None:
    blob = pickle.dumps(train_store)
    assert len(blob) < 500
    clone = pickle.loads(blob)
    assert torch.equal(clone.batch([4, 7]).x, train_store.batch([4, 7]).x)


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_over_batch_view(train_store: PackedGraphStore, workers: int) -> None:
    sampler = GraphBatchSampler(len(train_store), 32, shuffle=True, seed=7)
    loader = DataLoader(BatchView(train_store), sampler=sampler, batch_size=None, num_workers=workers)
    batches = list(loader)
    assert [b.num_graphs for b in batches] == [32, 32, 32]
    assert all(isinstance(b, GraphBatch) for b in batches)
    assert sorted(i for b in batches for i in b.index.tolist()) == list(range(96))
    expected = [train_store.batch(ix) for ix in GraphBatchSampler(len(train_store), 32, shuffle=True, seed=7)]
    for got, want in zip(batches, expected, strict=True):
        assert torch.equal(got.x, want.x) and torch.equal(got.edge_index, want.edge_index)


def test_graph_batch_to_device(train_store: PackedGraphStore) -> None:
    batch = train_store.batch([1, 2])
    moved = batch.to("cpu", non_blocking=True)
    assert isinstance(moved, GraphBatch) and moved.num_graphs == 2 and torch.equal(moved.x, batch.x)
    assert (batch.num_nodes, batch.num_edges) == (batch.x.shape[0], batch.edge_index.shape[1])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_graph_batch_pin_and_cuda(train_store: PackedGraphStore) -> None:
    batch = train_store.batch([1, 2, 3]).pin_memory()
    assert batch.x.is_pinned() and batch.edge_index.is_pinned()
    on_gpu = batch.to("cuda", non_blocking=True)
    assert on_gpu.x.is_cuda and torch.equal(on_gpu.edge_index.cpu(), batch.edge_index)
    loader = DataLoader(BatchView(train_store), sampler=GraphBatchSampler(len(train_store), 16), batch_size=None,
                        num_workers=2, pin_memory=True)
    assert next(iter(loader)).x.is_pinned()


def _copy_store(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_damaged_store_is_named(train_store: PackedGraphStore, tmp_path: Path) -> None:
    store = _copy_store(train_store.directory, tmp_path / "s1")
    (store / "x.npy").write_bytes((store / "x.npy").read_bytes()[:5000])
    with pytest.raises(DataError, match=r"s1/x\.npy: .*(truncated|expected float32)"):
        PackedGraphStore.open(store)

    store = _copy_store(train_store.directory, tmp_path / "s2")
    (store / "edges.npy").unlink()
    with pytest.raises(DataError, match=r"s2/edges\.npy: missing from the packed store"):
        PackedGraphStore.open(store)

    store = _copy_store(train_store.directory, tmp_path / "s3")
    manifest = json.loads((store / "store.json").read_text())
    manifest["version"] = 99
    (store / "store.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match=r"s3/store\.json: format 'graphqa-packed-store' v99"):
        PackedGraphStore.open(store)

    with pytest.raises(DataError, match=r"nowhere/store\.json: packed store not found"):
        PackedGraphStore.open(tmp_path / "nowhere")
