"""Careless or hostile inputs beside the graphs: clear refusals naming the file, never a traceback."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from graphqa.data.graph import load_graph
from tests.data.builders import graph_tensors
from tests.data.commands import data_check as check
from tests.data.commands import schema_stage


def test_a_100k_deep_graph_metadata_json_is_a_clear_error(build_dataset, tmp_path: Path) -> None:
    ds = build_dataset()
    metadata = ds.graphs / "graph_metadata.json"
    metadata.write_text("[" * 100_000 + "]" * 100_000)
    result, report = check(ds.graphs.parent, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "RecursionError" not in result.stdout
    assert f"{metadata}: JSON nested too deeply to read" in report["errors"][0]
    stage = schema_stage(ds.graphs, ds.labels, tmp_path / "schema", tmp_path)
    assert stage.returncode == 1 and "Traceback" not in stage.stderr
    assert f"{metadata}: JSON nested too deeply to read" in stage.stderr


def test_a_raw_pickle_is_refused_not_called_corrupt(build_dataset, tmp_path: Path) -> None:
    ds = build_dataset()
    victim = ds.files["T00_m0"]
    victim.write_bytes(pickle.dumps(graph_tensors(node_dim=64, edge_dim=24)))  # pickle.dump, not torch.save
    result, report = check(ds.graphs.parent, tmp_path)
    assert result.returncode == 1 and report["problems"] == {"refused": 1}
    [error] = [e for e in report["errors"] if e.startswith(str(victim))]
    assert "refused to load: a raw pickle, not a torch.save file" in error and "corrupt" not in error
    assert "Nothing in the file was executed" in error


def test_float64_features_beyond_float32_are_called_too_large_not_non_finite(tmp_path: Path) -> None:
    tensors = graph_tensors()
    tensors["x"] = tensors["x"].double()
    tensors["x"][2, 5] = 1e300
    torch.save(tensors, tmp_path / "g.pt")
    try:
        load_graph(tmp_path / "g.pt")
    except ValueError as exc:
        message = str(exc)
    assert message == (f"{tmp_path / 'g.pt'}: 'x' has 1 value(s) too large for float32 (e.g. 1e+300 at row 2, "
                       "column 5); expected features within ±3.4e+38")


def test_a_duplicated_dockq_column_is_refused(build_dataset, tmp_path: Path) -> None:
    ds = build_dataset()
    train = ds.labels / "train.csv"
    lines = train.read_text().splitlines()
    train.write_text("\n".join([lines[0] + ",dockq", *(line + ",0.9" for line in lines[1:])]) + "\n")
    result, report = check(ds.graphs.parent, tmp_path)
    assert result.returncode == 1
    assert f"{train}: the 'dockq' column appears 2 times (columns 2, 3); expected each column once" in report["errors"]
