"""``graphqa predict`` on real artifacts: reproduces evaluate, refuses what does not fit."""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from pathlib import Path

import pytest

from tests.data.builders import write_graph


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_reproduces_the_evaluate_stage(trained, cli, tmp_path):
    """The acceptance check: same predictions, ranks and metrics as evaluate for the exported checkpoint."""
    from graphqa.data import PackedGraphStore
    from graphqa.evaluation.candidates import Candidate, evaluate_candidates
    from graphqa.evaluation.report import prediction_rows

    out = tmp_path / "preds.csv"
    batch_size = trained.params.runtime.eval_batch_size  # evaluate's batching: the same arithmetic, bit for bit
    result = cli("predict", "--model", trained.model_dir, "--graphs", trained.test_graphs, "--out", out,
                 "--labels", trained.test_labels, "--batch-size", str(batch_size))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout

    packed = trained.demo.packed_dir
    val, test = PackedGraphStore.open(packed / "val"), PackedGraphStore.open(packed / "test")
    [evaluated] = evaluate_candidates([Candidate("final", (trained.checkpoint,))], val, test, trained.params)
    expected = {(r["TARGET"], r["MODEL"]): r for r in prediction_rows(test, evaluated.test_pred)}

    rows = read_rows(out)
    assert list(rows[0]) == ["TARGET", "MODEL", "PRED_DOCKQ", "TRUE_DOCKQ", "RANK"]
    assert {(r["TARGET"], r["MODEL"]) for r in rows} == set(expected)
    for row in rows:
        want = expected[(row["TARGET"], row["MODEL"])]
        assert float(row["PRED_DOCKQ"]) == pytest.approx(want["PRED_DOCKQ"], rel=1e-6, abs=1e-7)
        assert float(row["TRUE_DOCKQ"]) == pytest.approx(want["TRUE_DOCKQ"], abs=1e-6)
        assert int(row["RANK"]) == want["RANK"]

    metrics = json.loads(out.with_suffix(".metrics.json").read_text())
    assert metrics["n_models"] == len(test)
    for key, value in evaluated.test_metrics.items():
        assert metrics["pooled"][key] == pytest.approx(value, rel=1e-6, abs=1e-7, nan_ok=True), key
    assert "spearman" in result.stdout and "ranking_loss" in result.stdout  # the printed table


def test_predict_flat_layout_without_labels_gives_the_same_predictions(trained, cli, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in trained.test_graphs.rglob("*.pt"):
        shutil.copy(path, flat / path.name)  # <TARGET>_decoyNNN.pt: target from the name prefix
    nested_out, flat_out = tmp_path / "nested.csv", tmp_path / "flat.csv"
    assert cli("predict", "-m", trained.model_dir, "-g", trained.test_graphs, "-o", nested_out).exit_code == 0
    result = cli("predict", "-m", trained.checkpoint, "-g", flat, "-o", flat_out, "--device", "cpu", "-b", "7")
    assert result.exit_code == 0, result.output
    assert f"wrote {flat_out}: 16 models of 1 targets" in result.stdout

    nested, flat_rows = read_rows(nested_out), read_rows(flat_out)
    assert list(flat_rows[0]) == ["TARGET", "MODEL", "PRED_DOCKQ", "RANK"]  # no labels, no TRUE_DOCKQ
    by_key = {(r["TARGET"], r["MODEL"]): float(r["PRED_DOCKQ"]) for r in nested}
    assert {(r["TARGET"], r["MODEL"]) for r in flat_rows} == set(by_key)
    for row in flat_rows:  # another batch size: equal up to float32 summation order
        assert float(row["PRED_DOCKQ"]) == pytest.approx(by_key[(row["TARGET"], row["MODEL"])], abs=1e-5)
    for target in {r["TARGET"] for r in flat_rows}:
        group = [r for r in flat_rows if r["TARGET"] == target]
        assert [int(r["RANK"]) for r in group] == list(range(1, len(group) + 1))
        preds = [float(r["PRED_DOCKQ"]) for r in group]
        assert preds == sorted(preds, reverse=True)
    assert not flat_out.with_suffix(".metrics.json").exists()


def test_missing_model_dir_is_a_clean_error(trained, cli, tmp_path):
    missing = tmp_path / "no_such_model"
    result = cli("predict", "--model", missing, "--graphs", trained.test_graphs, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert f"error: {missing}: model not found" in result.stderr
    assert not (tmp_path / "p.csv").exists()

    not_exported = tmp_path / "not_exported"
    not_exported.mkdir()
    result = cli("predict", "--model", not_exported, "--graphs", trained.test_graphs, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "not an exported model (no model.json)" in result.stderr


def test_graphs_with_other_dims_are_refused_naming_the_dims(trained, cli, tmp_path):
    graphs = tmp_path / "other_builder"
    for i in range(3):
        write_graph(graphs / "T1" / f"T1_m{i}.pt", node_dim=64, edge_dim=24, seed=i)
    out = tmp_path / "p.csv"
    result = cli("predict", "--model", trained.model_dir, "--graphs", graphs, "--out", out)
    assert result.exit_code == 2
    assert "graphs do not fit the model" in result.stderr
    assert "node_dim 172 != 64" in result.stderr and "edge_dim 11 != 24" in result.stderr
    assert not out.exists()


def test_graphs_declaring_another_edge_module_are_refused(trained, cli, tmp_path):
    graphs = tmp_path / "graphs"
    shutil.copytree(trained.test_graphs, graphs)
    metadata = json.loads((trained.demo.data_dir / "graphs" / "graph_metadata.json").read_text())
    metadata["_edge_schema"]["module"] = metadata["edge_module"] = "edge/multi_scale/v24"
    (graphs / "graph_metadata.json").write_text(json.dumps(metadata))
    result = cli("predict", "--model", trained.model_dir, "--graphs", graphs, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "edge_module 'edge/legacy_band/v11' != 'edge/multi_scale/v24'" in result.stderr


def test_empty_graph_dir_is_a_clean_error(trained, cli, tmp_path):
    empty = tmp_path / "empty"
    (empty / "T1").mkdir(parents=True)
    result = cli("predict", "--model", trained.model_dir, "--graphs", empty, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert f"error: {empty}: no .pt graph files found" in result.stderr

    result = cli("predict", "--model", trained.model_dir, "--graphs", tmp_path / "absent", "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "graph directory not found" in result.stderr


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def test_a_graph_that_would_run_code_is_refused_not_executed(trained, cli, tmp_path, monkeypatch):
    import torch

    graphs = tmp_path / "graphs"
    shutil.copytree(trained.test_graphs, graphs)
    bad = graphs / "EVIL" / "EVIL_m0.pt"
    bad.parent.mkdir()
    torch.save({"x": _RunsCode()}, bad, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    monkeypatch.chdir(tmp_path)
    result = cli("predict", "--model", trained.model_dir, "--graphs", graphs, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_labels_that_match_no_graph_are_an_error(trained, cli, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("MODEL,dockq\nNOPE_decoy000,0.5\n")
    result = cli("predict", "--model", trained.model_dir, "--graphs", trained.test_graphs, "--out",
                 tmp_path / "p.csv", "--labels", labels)
    assert result.exit_code == 2
    assert f"{labels}: none of its models has a graph under {trained.test_graphs}" in result.stderr
