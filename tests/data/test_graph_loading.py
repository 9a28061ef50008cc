"""Safe loading of one graph file: accepted formats and every kind of bad file."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from graphqa.data import DataError, load_graph
from tests.data.builders import graph_tensors, write_graph


def test_loads_pyg_data_with_metadata(tmp_path: Path) -> None:
    path = write_graph(tmp_path / "a.pt", metadata={"edge_module": "edge/x/v1", "edge_params": {"k": 1}})
    record = load_graph(path)
    expected = graph_tensors()
    assert torch.equal(record.x, expected["x"]) and record.x.dtype == torch.float32
    assert torch.equal(record.edge_index, expected["edge_index"]) and record.edge_index.dtype == torch.int64
    assert torch.equal(record.edge_attr, expected["edge_attr"])
    assert record.metadata == {"edge_module": "edge/x/v1", "edge_params": {"k": 1}}
    assert (record.num_nodes, record.num_edges, record.node_dim, record.edge_dim) == (6, 12, 64, 24)
    assert not record.is_empty


def test_loads_plain_dict_and_casts_dtypes(tmp_path: Path) -> None:
    tensors = graph_tensors(node_dim=3, edge_dim=2)
    torch.save({"x": tensors["x"].double(), "edge_index": tensors["edge_index"].int(),
                "edge_attr": tensors["edge_attr"][:, 0]}, tmp_path / "d.pt")
    record = load_graph(tmp_path / "d.pt")
    assert record.x.dtype == torch.float32 and record.edge_index.dtype == torch.int64
    assert record.edge_attr.shape == (12, 1)  # a 1-D edge_attr is one feature per edge
    assert record.metadata == {}


def test_pyg_graph_loads_without_importing_pyg(tmp_path: Path) -> None:
    """The schema/pack stages read PyG graphs without paying PyG's import (inert stand-ins)."""
    path = write_graph(tmp_path / "a.pt", metadata={"edge_module": "m"})
    code = (
        "import sys, torch\n"
        "from graphqa.data.graph import load_graph\n"
        f"r = load_graph({str(path)!r})\n"
        "assert 'torch_geometric' not in sys.modules, 'PyG was imported'\n"
        "print(r.num_nodes, r.num_edges, r.metadata['edge_module'], float(r.x.sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:3] == ["6", "12", "m"]
    assert float(out[3]) == pytest.approx(float(graph_tensors()["x"].sum()), rel=1e-6)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.pt: graph file not found"):
        load_graph(tmp_path / "nope.pt")


@pytest.mark.parametrize("keep", [0, 100, 0.5])
def test_corrupt_or_truncated_file(tmp_path: Path, keep: float) -> None:
    good = write_graph(tmp_path / "good.pt").read_bytes()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(good[: int(len(good) * keep)] if isinstance(keep, float) else good[:keep])
    with pytest.raises(DataError, match=r"bad\.pt: not a readable PyTorch graph file \(corrupt or truncated\?\)") as info:
        load_graph(bad)
    assert info.value.kind == "unreadable"


def test_garbage_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "noise.pt"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(DataError, match=r"noise\.pt"):
        load_graph(bad)


class _Payload:
    """Unpickling this creates a marker file: proof that code in a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def test_torch_file_with_code_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    evil = tmp_path / "evil.pt"
    tensors = graph_tensors()
    torch.save({"metadata": _Payload(marker), **tensors}, evil)  # payload first in the pickle

    with pytest.raises(DataError, match=r"evil\.pt: refused to load") as info:
        load_graph(evil)
    assert info.value.kind == "refused"
    assert not marker.exists()

    # The payload is live: an ordinary unpickler of the same bytes runs it.
    archive = zipfile.ZipFile(evil)
    data_pkl = next(n for n in archive.namelist() if n.endswith("data.pkl"))

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid):  # noqa: ANN001, ANN202 - tensor storages are irrelevant here
            return torch.UntypedStorage(0)

    with contextlib.suppress(Exception):  # rebuilding the tensors may fail after the payload ran
        Unpickler(io.BytesIO(archive.read(data_pkl))).load()
    assert marker.exists()


def test_raw_pickle_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"x": _Payload(marker)}))
    with pytest.raises(DataError, match=r"evil\.pt"):
        load_graph(evil)
    assert not marker.exists()
    pickle.loads(evil.read_bytes())  # the same bytes, unpickled normally, do run the code
    assert marker.exists()


@pytest.mark.parametrize(
    ("mutate", "message", "kind"),
    [
        (lambda t: t.pop("edge_attr"), r"missing 'edge_attr'", "structure"),
        (lambda t: t.pop("x"), r"missing 'x'", "structure"),
        (lambda t: t.update(x=t["x"][0]), r"'x' has shape \[64\]; expected \[N, F_node\]", "structure"),
        (lambda t: t.update(edge_index=t["edge_index"].t()), r"'edge_index' has shape \[12, 2\]; expected \[2, E\]", "structure"),
        (lambda t: t.update(edge_attr=t["edge_attr"][:5]), r"'edge_attr' has 5 rows but 'edge_index' has 12 edges", "structure"),
        (lambda t: t.update(edge_index=t["edge_index"].float()), r"'edge_index' has dtype torch.float32", "structure"),
        (lambda t: t.update(x="not a tensor"), r"'x' is a str, expected a tensor", "structure"),
        (lambda t: t["x"].__setitem__((2, 3), float("nan")), r"'x' has 1 non-finite value\(s\) \(NaN\), first at row 2, column 3", "nonfinite"),
        (lambda t: t["edge_attr"].__setitem__((4, 1), float("inf")), r"'edge_attr' has 1 non-finite value\(s\) \(inf\), first at row 4, column 1", "nonfinite"),
        (lambda t: t["edge_index"].__setitem__((1, 0), 6), r"'edge_index' refers to node 6 but the graph has 6 nodes", "index"),
        (lambda t: t["edge_index"].__setitem__((0, 3), -1), r"'edge_index' refers to node -1", "index"),
    ],
)
def test_bad_graph_contents(tmp_path: Path, mutate, message: str, kind: str) -> None:  # noqa: ANN001
    tensors = graph_tensors()
    mutate(tensors)
    path = tmp_path / "broken_model.pt"
    torch.save(tensors, path)
    with pytest.raises(DataError, match=message) as info:
        load_graph(path)
    assert str(info.value).startswith(str(path))
    assert info.value.kind == kind


def test_not_a_graph_object(tmp_path: Path) -> None:
    torch.save(torch.zeros(3), tmp_path / "t.pt")
    with pytest.raises(DataError, match=r"t\.pt: holds a Tensor"):
        load_graph(tmp_path / "t.pt")


@pytest.mark.parametrize(("num_nodes", "edges", "reason"), [(0, 0, "0 nodes"), (4, 0, "0 edges")])
def test_empty_graph_loads_but_is_flagged(tmp_path: Path, num_nodes: int, edges: int, reason: str) -> None:
    torch.save({"x": torch.zeros(num_nodes, 5), "edge_index": torch.zeros(2, edges, dtype=torch.long),
                "edge_attr": torch.zeros(edges, 3)}, tmp_path / "e.pt")
    record = load_graph(tmp_path / "e.pt")
    assert record.is_empty and record.empty_reason == reason
