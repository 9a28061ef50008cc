"""Graph files built to exhaust memory, refused by ``graphqa data check`` and the schema stage under a real cap.

Each hostile file is a few KB (2 MB for the zip bomb) and stands for 2.16 GB once materialised. The commands
run with their address space capped at 1 GiB (``RLIMIT_AS``), so a check that materialised the tensor would
die with an allocation error; the control test proves that. docs/RELIABILITY.md lists the messages.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.data.commands import MINIMAL_PARAMS, data_check, run, schema_stage
from tests.data.hostile import MEMORY_CAP, write_expanded_graph, write_sparse_graph, write_zip_bomb

HOSTILE: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "expanded x (stride 0)": (lambda path, _: write_expanded_graph(path), r"'x' is an expanded view \(shape \[3145728, 172\], strides \[0, 0\]\)"),
    "sparse x": (lambda path, _: write_sparse_graph(path), r"'x' is a sparse_coo tensor of shape \[3145728, 172\]; refused"),
    "deflate zip bomb": (write_zip_bomb, r"unpack to 2,164,\d{3},\d{3}, over the limit data\.max_graph_bytes = 268,435,456"),
}


@pytest.fixture
def hostile_dataset(build_dataset, tmp_path: Path):
    def build(kind: str) -> tuple[Path, Path]:
        ds = build_dataset()
        victim = ds.files[ds.models["train"][0]]
        HOSTILE[kind][0](victim, tmp_path)
        return ds.graphs.parent, victim

    return build


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_data_check_refuses_hostile_graphs_under_a_memory_cap(kind: str, hostile_dataset, tmp_path: Path) -> None:
    data, victim = hostile_dataset(kind)
    result, report = data_check(data, tmp_path, cap=MEMORY_CAP)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "MemoryError" not in output and "allocate" not in output
    [error, coverage] = report["errors"]  # the other 17 graphs were checked and are fine
    assert error.startswith(f"{victim}: ") and re.search(HOSTILE[kind][1], error), error
    assert coverage.startswith("coverage below data.min_coverage") and "T00/T00_m0" in coverage


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_schema_stage_refuses_hostile_graphs_under_a_memory_cap(kind: str, hostile_dataset, tmp_path: Path) -> None:
    data, victim = hostile_dataset(kind)
    out = tmp_path / "schema_out"
    result = schema_stage(data / "graphs", data / "labels", out, tmp_path, cap=MEMORY_CAP)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert str(victim) in result.stderr and re.search(HOSTILE[kind][1], result.stderr), result.stderr[-3000:]
    assert not out.exists() or not any(out.iterdir())


def test_the_memory_cap_is_below_what_the_hostile_files_need(tmp_path: Path) -> None:
    """Control: materialising each file the naive way fails under the same cap (so the tests above can fail)."""
    paths = {kind: make(tmp_path / f"{i}.pt", tmp_path) for i, (kind, (make, _)) in enumerate(HOSTILE.items())}
    naive = (
        "import sys, torch\n"
        "d = torch.load(sys.argv[1], weights_only=True)\n"
        "x = d['x'].to_dense() if d['x'].layout != torch.strided else d['x']\n"
        "x.to(torch.float32).contiguous().sum()\n"
        "print('materialised')\n"
    )
    for kind, path in paths.items():
        result = run([sys.executable, "-c", naive, str(path)], tmp_path, cap=MEMORY_CAP)
        assert result.returncode != 0 and "materialised" not in result.stdout, kind
        assert "allocate" in result.stderr or "MemoryError" in result.stderr, (kind, result.stderr[-500:])


def test_node_and_edge_limits_come_from_params_and_name_the_param(build_dataset, tmp_path: Path) -> None:
    ds = build_dataset()  # graphs of 4, 5 and 6 nodes (8, 10 and 12 edges)
    (tmp_path / "params.yaml").write_text("data:\n  max_nodes: 5\n  max_edges: 11\n" + MINIMAL_PARAMS)
    result, report = data_check(ds.graphs.parent, tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    errors = [e for e in report["errors"] if not e.startswith("coverage below")]
    six_nodes = [f for m, f in ds.files.items() if m.endswith("_m2")]
    assert len(errors) == len(six_nodes)
    for path in six_nodes:
        [error] = [e for e in errors if str(path) in e]
        assert "has a node count of 6, over the limit data.max_nodes = 5" in error
        assert "Raise data.max_nodes if your graphs really are this large" in error
    (tmp_path / "params.yaml").write_text("data:\n  max_edges: 9\n" + MINIMAL_PARAMS)
    result, report = data_check(ds.graphs.parent, tmp_path)
    errors = [e for e in report["errors"] if not e.startswith("coverage below")]
    assert result.returncode == 1 and len(errors) == 12
    assert all("has an edge count of 1" in e and "over the limit data.max_edges = 9" in e for e in errors)


def test_pack_applies_the_limits_the_schema_stage_recorded(build_dataset, tmp_path: Path) -> None:
    from graphqa.data import DataError
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.graph import GraphLimits
    from graphqa.data.pack import pack_dataset
    from graphqa.data.schema import FeatureSchema
    from tests.data.builders import write_graph

    ds = build_dataset()
    schema_dir = tmp_path / "schema"
    write_schema_outputs(ds.graphs, ds.labels, schema_dir, 0.95, limits=GraphLimits(max_nodes=6))
    assert FeatureSchema.load(schema_dir).sources["limits"]["max_nodes"] == 6
    write_graph(ds.files["T00_m0"], num_nodes=7, node_dim=64, edge_dim=24, seed=99)  # grew after the schema ran
    with pytest.raises(DataError, match=r"T00_m0\.pt: has a node count of 7, over the limit data\.max_nodes = 6"):
        pack_dataset(schema_dir / "feature_metadata.json", tmp_path / "packed")
    assert not (tmp_path / "packed").exists()


def test_outliers_are_a_warning_naming_the_graph(build_dataset, tmp_path: Path) -> None:
    from tests.data.builders import write_graph

    ds = build_dataset()
    big = write_graph(ds.files["T10_m0"], num_nodes=200, node_dim=64, edge_dim=24, seed=7)
    result, report = data_check(ds.graphs.parent, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    [nodes, edges] = [w for w in report["warnings"] if "median" in w]
    assert f"1 graph(s) with over 10x the median 5 nodes: {big} (200)" in nodes
    assert f"{big} (400)" in edges
