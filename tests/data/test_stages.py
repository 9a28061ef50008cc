"""The schema and pack stage entry points: outputs, exit codes, no partial outputs on bad input."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from graphqa.data import FeatureSchema, PackedGraphStore
from tests.data.builders import graph_tensors, write_graph, write_labels


@pytest.fixture(scope="module")
def stage(repo_root: Path) -> Callable[[str, list[str]], int]:
    """Call ``stages/<name>.py``'s ``main(argv)`` in-process; returns the exit code."""
    scripts = str(repo_root / "stages")
    sys.path.insert(0, scripts)  # as `python stages/<name>.py` does: the scripts import stages/_guard.py
    try:
        mains = {name: runpy.run_path(f"{scripts}/{name}.py")["main"] for name in ("schema", "pack")}
    finally:
        sys.path.remove(scripts)

    def call(name: str, argv: list[str]) -> int:
        try:
            mains[name](argv)
        except SystemExit as exit_:  # graphqa.stage.run_stage exits 1 on a clean failure
            return int(exit_.code or 0)
        return 0

    return call


def _schema_args(ds, out: Path, params: Path) -> list[str]:  # noqa: ANN001
    return ["--graphs", str(ds.graphs), "--labels", str(ds.labels), "--out", str(out), "--params", str(params)]


@pytest.fixture
def params_file(tmp_path: Path, repo_root: Path) -> Callable[[float], Path]:
    def make(min_coverage: float = 0.95) -> Path:
        text = (repo_root / "params.yaml").read_text(encoding="utf-8")
        path = tmp_path / f"params_{min_coverage}.yaml"
        path.write_text(text.replace("min_coverage: 0.95", f"min_coverage: {min_coverage}"), encoding="utf-8")
        return path
    return make


def test_schema_and_pack_stages_on_demo_data(stage, demo_dir: Path, tmp_path: Path, repo_root: Path) -> None:  # noqa: ANN001
    out = tmp_path / "artifacts"
    rc = stage("schema", ["--graphs", str(demo_dir / "graphs"), "--labels", str(demo_dir / "labels"),
                          "--out", str(out / "schema"), "--params", str(repo_root / "params.yaml")])
    assert rc == 0
    schema = FeatureSchema.load(out / "schema" / "feature_metadata.json")
    assert (schema.node_dim, schema.edge_dim) == (172, 11)
    assert schema.node_columns[:4] == ["rasa", "phi", "psi", "SS8_0"] and schema.node_columns[-1] == "f1_CNO_death_std"
    assert schema.edge_module == "edge/legacy_band/v11" and schema.notes == []
    coverage = json.loads((out / "schema" / "dataset_coverage.json").read_text())
    assert coverage["ok"] is True and coverage["min_coverage"] == 0.95
    assert {s: e["graphs_found"] for s, e in coverage["splits"].items()} == {"train": 96, "val": 16, "test": 16}

    assert stage("pack", ["--schema", str(out / "schema" / "feature_metadata.json"), "--out", str(out / "packed")]) == 0
    for split, count in (("train", 96), ("val", 16), ("test", 16)):
        store = PackedGraphStore.open(out / "packed" / split)
        assert len(store) == count and store.schema_digest == schema.digest()
    assert FeatureSchema.load(out / "packed" / "feature_metadata.json") == schema
    assert sorted(p.name for p in out.iterdir()) == ["packed", "schema"]  # no staging dirs left behind


def _evil(path: Path, marker: Path) -> None:
    class Payload:
        def __reduce__(self):  # noqa: ANN204
            return (Path.touch, (marker,))
    torch.save({"metadata": Payload(), **graph_tensors()}, path)


def _nan(path: Path, _: Path) -> None:
    t = graph_tensors()
    t["x"][1, 1] = float("nan")
    torch.save(t, path)


def _no_edge_attr(path: Path, _: Path) -> None:
    t = graph_tensors()
    del t["edge_attr"]
    torch.save(t, path)


def _out_of_range(path: Path, _: Path) -> None:
    t = graph_tensors()
    t["edge_index"][0, 0] = 99
    torch.save(t, path)


BAD_GRAPHS = {
    "truncated": (lambda p, _: p.write_bytes(p.read_bytes()[:200]), r"not a readable PyTorch graph file"),
    "code": (_evil, r"refused to load"),
    "no_edge_attr": (_no_edge_attr, r"missing 'edge_attr'"),
    "nan": (_nan, r"'x' has 1 non-finite value"),
    "edge_index_out_of_range": (_out_of_range, r"'edge_index' refers to node 99 but the graph has 6 nodes"),
    "other_dims": (lambda p, _: write_graph(p, node_dim=10, edge_dim=24), r"graphs disagree on feature dims"),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_schema_stage_refuses_bad_graph(stage, build_dataset, params_file, tmp_path: Path, caplog, case: str) -> None:  # noqa: ANN001
    ds = build_dataset()
    bad = ds.files["T01_m2"]
    marker = tmp_path / "code_ran"
    mutate, message = BAD_GRAPHS[case]
    mutate(bad, marker)
    out = tmp_path / "out"
    assert stage("schema", _schema_args(ds, out, params_file())) == 1
    assert str(bad) in caplog.text and re.search(message, caplog.text)
    assert not out.exists(), "no partial outputs"
    assert not marker.exists(), "code in a pickle ran"


@pytest.mark.parametrize(
    ("lines", "message"),
    [(["T00_m0,nan"], r"train\.csv:2: dockq is NaN"), (["T00_m0,1.5"], r"train\.csv:2: dockq 1\.5 for 'T00_m0' is outside"),
     (["T00_m1,0.1", "T00_m1,0.5"], r"train\.csv:3: duplicate MODEL 'T00_m1'")],
)
def test_schema_stage_refuses_bad_labels(stage, build_dataset, params_file, tmp_path: Path, caplog, lines: list[str], message: str) -> None:  # noqa: ANN001
    ds = build_dataset()
    write_labels(ds.labels, {"train": lines})
    assert stage("schema", _schema_args(ds, tmp_path / "out", params_file())) == 1
    assert re.search(message, caplog.text)
    assert not (tmp_path / "out").exists()


def test_schema_stage_label_file_without_columns(stage, build_dataset, params_file, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    ds = build_dataset()
    (ds.labels / "val.csv").write_text("name,score\nT10_m0,0.3\n")
    assert stage("schema", _schema_args(ds, tmp_path / "out", params_file())) == 1
    assert "val.csv: no 'MODEL' column" in caplog.text and not (tmp_path / "out").exists()


def test_coverage_below_min_lists_missing_models(stage, build_dataset, params_file, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    ds = build_dataset()
    ds.files["T20_m0"].unlink()
    ds.files["T21_m2"].unlink()
    out = tmp_path / "out"
    assert stage("schema", _schema_args(ds, out, params_file(0.9))) == 1
    assert "test: 4/6 labelled models have a usable graph (coverage 0.667 < data.min_coverage 0.9)" in caplog.text
    assert "T20/T20_m0" in caplog.text and "T21/T21_m2" in caplog.text
    assert not out.exists()
    # Below a lower threshold it passes, and the report names the missing models.
    assert stage("schema", _schema_args(ds, out, params_file(0.5))) == 0
    test = json.loads((out / "dataset_coverage.json").read_text())["splits"]["test"]
    assert (test["labels"], test["graphs_found"], test["missing_models"]) == (6, 4, ["T20/T20_m0", "T21/T21_m2"])


def test_empty_graphs_are_skipped_and_recorded(stage, build_dataset, params_file, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    ds = build_dataset()
    torch.save({"x": torch.zeros(0, 64), "edge_index": torch.zeros(2, 0, dtype=torch.long), "edge_attr": torch.zeros(0, 24)},
               ds.files["T00_m0"])
    torch.save({"x": torch.rand(3, 64), "edge_index": torch.zeros(2, 0, dtype=torch.long), "edge_attr": torch.zeros(0, 24)},
               ds.files["T10_m0"])
    out = tmp_path / "out"
    assert stage("schema", _schema_args(ds, out, params_file(0.8))) == 0
    assert "0 nodes; skipped" in caplog.text
    coverage = json.loads((out / "dataset_coverage.json").read_text())
    assert coverage["splits"]["train"]["skipped_graphs"] == [
        {"model": "T00/T00_m0", "file": str(ds.files["T00_m0"]), "reason": "0 nodes"}]
    assert coverage["splits"]["val"]["skipped_graphs"][0]["reason"] == "0 edges"
    assert coverage["splits"]["train"]["graphs_found"] == 5
    assert FeatureSchema.load(out / "feature_metadata.json").notes[0].startswith("2 empty graph(s) skipped")
    assert stage("pack", ["--schema", str(out / "feature_metadata.json"), "--out", str(tmp_path / "packed")]) == 0
    store = PackedGraphStore.open(tmp_path / "packed" / "train")
    assert len(store) == 5 and "T00_m0" not in store.names
    assert store.manifest["skipped"][0]["reason"] == "0 nodes"
    # The same graphs fail coverage when nothing may be missing.
    assert stage("schema", _schema_args(ds, tmp_path / "strict", params_file(1.0))) == 1
    assert "T00/T00_m0 (0 nodes)" in caplog.text


def test_pack_refuses_graph_changed_since_schema_and_keeps_old_output(stage, build_dataset, params_file, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    ds = build_dataset()
    schema_dir, packed = tmp_path / "schema", tmp_path / "packed"
    assert stage("schema", _schema_args(ds, schema_dir, params_file())) == 0
    assert stage("pack", ["--schema", str(schema_dir / "feature_metadata.json"), "--out", str(packed)]) == 0
    before = {p: p.read_bytes() for p in packed.rglob("*") if p.is_file()}
    write_graph(ds.files["T20_m1"], node_dim=64, edge_dim=30)
    assert stage("pack", ["--schema", str(schema_dir / "feature_metadata.json"), "--out", str(packed)]) == 1
    assert "T20_m1.pt: node dim 64 / edge dim 30, but the schema says node dim 64 / edge dim 24" in caplog.text
    assert {p: p.read_bytes() for p in packed.rglob("*") if p.is_file()} == before, "old output untouched"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no staging left behind"


def test_stages_start_fast_without_lightning_or_pyg(repo_root: Path, packed_demo) -> None:  # noqa: ANN001
    """The stages import neither Lightning nor PyG (even while reading PyG graphs)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(repo_root / "stages" / "schema.py"),
         "--graphs", str(packed_demo.data_dir / "graphs"), "--labels", str(packed_demo.data_dir / "labels"),
         "--out", str(packed_demo.packed_dir.parent / "schema_again"), "--params", str(repo_root / "params.yaml")],
        capture_output=True, text=True, env=env, cwd=repo_root,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" in imported
    assert not {m for m in imported if m.split(".")[0] in ("lightning", "pytorch_lightning", "torch_geometric")}
