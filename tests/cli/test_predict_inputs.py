"""``graphqa predict``: every input checked before any graph is loaded, one graph file accepted,
labels written as read."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.data.builders import write_graph


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def unfit_graphs(tmp_path: Path) -> Path:
    """Graphs the model refuses once they are loaded (other dims): an error about anything else
    proves that input was checked before the graphs were read."""
    graphs = tmp_path / "unfit"
    for i in range(3):
        write_graph(graphs / "T1" / f"T1_m{i}.pt", node_dim=64, edge_dim=24, seed=i)
    return graphs


def test_missing_labels_file_fails_before_any_graph_is_loaded(trained, cli, tmp_path, unfit_graphs):
    missing, out = tmp_path / "no_labels.csv", tmp_path / "p.csv"
    result = cli("predict", "-m", trained.model_dir, "-g", unfit_graphs, "-o", out, "--labels", missing)
    assert result.exit_code == 2
    assert f"error: {missing}: label file not found" in result.stderr
    assert "do not fit the model" not in result.stderr and "loading" not in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unwritable_outputs_fail_before_any_graph_is_loaded(trained, cli, tmp_path, unfit_graphs):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    result = cli("predict", "-m", trained.model_dir, "-g", unfit_graphs, "-o", folder)
    assert result.exit_code == 2
    assert f"error: --out {folder}: is a directory" in result.stderr

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = cli("predict", "-m", trained.model_dir, "-g", unfit_graphs, "-o", blocker / "p.csv")
    assert result.exit_code == 2
    assert f"{blocker} is a file" in result.stderr

    result = cli("predict", "-m", trained.model_dir, "-g", unfit_graphs, "-o", tmp_path / "p.csv",
                 "--metrics", tmp_path / "m.json")
    assert result.exit_code == 2
    assert "--metrics" in result.stderr and "add --labels" in result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_single_graph_file_is_scored_like_in_its_directory(trained, cli, tmp_path):
    whole = tmp_path / "all.csv"
    assert cli("predict", "-m", trained.model_dir, "-g", trained.test_graphs, "-o", whole).exit_code == 0
    by_model = {r["MODEL"]: float(r["PRED_DOCKQ"]) for r in read_rows(whole)}

    graph = sorted(trained.test_graphs.rglob("*.pt"))[3]
    one = tmp_path / "one.csv"
    result = cli("predict", "-m", trained.model_dir, "-g", graph, "-o", one, "--labels", trained.test_labels)
    assert result.exit_code == 0, result.output
    assert f"wrote {one}: 1 models of 1 targets" in result.stdout
    [row] = read_rows(one)
    assert row["MODEL"] == graph.stem and row["TARGET"] == graph.parent.name and row["RANK"] == "1"
    assert float(row["PRED_DOCKQ"]) == pytest.approx(by_model[graph.stem], abs=1e-5)

    not_a_graph = tmp_path / "notes.txt"
    not_a_graph.write_text("x")
    result = cli("predict", "-m", trained.model_dir, "-g", not_a_graph, "-o", tmp_path / "x.csv")
    assert result.exit_code == 2
    assert f"error: {not_a_graph}: not a graph file; expected a .pt file" in result.stderr


def test_true_dockq_is_written_as_the_label_was_read(trained, cli, tmp_path):
    """float32 labels widened to float64 printed 0.5529999732971191 for a label of 0.553."""
    labels = {row["MODEL"]: row["dockq"] for row in read_rows(trained.test_labels)}
    out = tmp_path / "p.csv"
    result = cli("predict", "-m", trained.model_dir, "-g", trained.test_graphs, "-o", out, "--labels",
                 trained.test_labels)
    assert result.exit_code == 0, result.output
    rows = read_rows(out)
    assert len(rows) == 16
    widened = 0
    for row in rows:
        assert float(row["TRUE_DOCKQ"]) == float(labels[row["MODEL"]]), (row["TRUE_DOCKQ"], labels[row["MODEL"]])
        assert len(row["PRED_DOCKQ"]) <= len("0.12345678"), row["PRED_DOCKQ"]  # float32: at most 9 digits
        widened += len(repr(float(np.float32(labels[row["MODEL"]])))) > 12
    assert widened, "no label of this set would have shown float32 noise: the check above proves nothing"


def test_graph_copied_alone_keeps_its_name_rule_target(trained, cli, tmp_path):
    """A single file outside its target folder: the target comes from the name before the first '_'."""
    graph = sorted(trained.test_graphs.rglob("*.pt"))[0]
    loose = tmp_path / "loose" / graph.name
    loose.parent.mkdir()
    shutil.copy(graph, loose)
    out = tmp_path / "p.csv"
    assert cli("predict", "-m", trained.model_dir, "-g", loose, "-o", out).exit_code == 0
    [row] = read_rows(out)
    assert row["TARGET"] == graph.stem.split("_", 1)[0] == graph.parent.name
