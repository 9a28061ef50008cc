"""Label files: accepted layouts and every kind of bad label file."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphqa.data import DataError, capri_class, read_labels
from graphqa.data.dataset import join_labels
from graphqa.data.labels import read_label_splits
from graphqa.data.layout import find_graphs
from tests.data.builders import write_graph, write_labels


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_rows_with_optional_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, "MODEL,DockQ,capri,target\nA_1,0.5,Medium,A\nB/B_2,0.9,,\nC_3,0,,\n")
    table = read_labels(path)
    assert table.split == "train" and len(table) == 3
    a, b, c = table.rows
    assert (a.model, a.dockq, a.capri, a.target, a.line) == ("A_1", 0.5, "Medium", "A", 2)
    assert (b.model, b.target, b.capri) == ("B_2", "B", None)  # TARGET/MODEL sets the target
    assert (c.dockq, c.target) == (0.0, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_name,dockq\nA,0.5\n", r"train\.csv: no 'MODEL' column \(columns: model_name, dockq\)"),
        ("MODEL,score\nA,0.5\n", r"train\.csv: no 'dockq' column"),
        ("MODEL,dockq\nA,nan\n", r"train\.csv:2: dockq is NaN for 'A'"),
        ("MODEL,dockq\nA,0.5\nB,1.2\n", r"train\.csv:3: dockq 1\.2 for 'B' is outside \[0, 1\]"),
        ("MODEL,dockq\nA,-0.1\n", r"train\.csv:2: dockq -0\.1 for 'A' is outside \[0, 1\]"),
        ("MODEL,dockq\nA,high\n", r"train\.csv:2: dockq 'high' for 'A' is not a number"),
        ("MODEL,dockq\nA,\n", r"train\.csv:2: dockq '' for 'A' is not a number"),
        ("MODEL,dockq\nA,0.5\nB,0.4\nA,0.3\n", r"train\.csv:4: duplicate MODEL 'A', first on line 2"),
        ("MODEL,dockq\n,0.5\n", r"train\.csv:2: empty MODEL"),
        ("MODEL,dockq\n", r"train\.csv: has a header but no rows"),
        ("", r"train\.csv: empty"),
    ],
)
def test_bad_label_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        read_labels(_csv(tmp_path, text))
    assert info.value.kind == "labels"


def test_same_model_name_in_two_targets_is_not_a_duplicate(tmp_path: Path) -> None:
    table = read_labels(_csv(tmp_path, "MODEL,dockq,target\nmodel_1,0.5,A\nmodel_1,0.4,B\n"))
    assert [(r.target, r.model) for r in table.rows] == [("A", "model_1"), ("B", "model_1")]


def test_missing_split_file_is_named(tmp_path: Path) -> None:
    write_labels(tmp_path / "labels", {"train": ["A_1,0.5"], "val": ["B_1,0.5"]})
    with pytest.raises(DataError, match=r"labels/test\.csv: label file not found"):
        read_label_splits(tmp_path / "labels")


def test_model_labelled_in_two_splits_is_an_error(tmp_path: Path) -> None:
    write_graph(tmp_path / "graphs" / "A" / "A_1.pt")
    write_labels(tmp_path / "labels", {"train": ["A_1,0.5"], "val": ["A_1,0.5"], "test": ["A_1,0.5"]})
    tables = read_label_splits(tmp_path / "labels")
    with pytest.raises(DataError, match=r"val\.csv:2: model 'A_1' \(target A\) is also labelled in .*train\.csv:2"):
        join_labels(tables, find_graphs(tmp_path / "graphs"))


def test_join_rules_target_column_folder_and_prefix(tmp_path: Path) -> None:
    graphs = tmp_path / "graphs"
    write_graph(graphs / "T1" / "model_1.pt", seed=1)  # same model name in two target folders
    write_graph(graphs / "T2" / "model_1.pt", seed=2)  # (other graphs: identical ones in two splits are leakage)
    write_graph(graphs / "T3" / "T3_dec.pt", seed=3)  # target from the folder
    write_graph(graphs / "X9_flat.pt", seed=4)  # flat: target from the name prefix
    write_graph(graphs / "T4" / "orphan.pt", seed=5)
    labels = write_labels(tmp_path / "labels", {
        "train": ["model_1,0.1,T1", "T3_dec,0.2,"],
        "val": ["model_1,0.3,T2", "X9_flat,0.4,"],
        "test": ["gone,0.5,T9"],
    }, header="MODEL,dockq,target")
    joined, unlabeled, warnings = join_labels(read_label_splits(labels), find_graphs(graphs))
    train = {m.key: m.graph.path.relative_to(graphs).as_posix() for m in joined["train"]}
    val = {m.key: m.graph.path.relative_to(graphs).as_posix() for m in joined["val"]}
    assert train == {"T1/model_1": "T1/model_1.pt", "T3/T3_dec": "T3/T3_dec.pt"}
    assert val == {"T2/model_1": "T2/model_1.pt", "X9/X9_flat": "X9_flat.pt"}
    assert [(m.key, m.graph) for m in joined["test"]] == [("T9/gone", None)]
    assert [f.key for f in unlabeled] == ["T4/orphan"]
    assert warnings == []


def test_ambiguous_model_without_target_column_is_an_error(tmp_path: Path) -> None:
    write_graph(tmp_path / "graphs" / "T1" / "model_1.pt")
    write_graph(tmp_path / "graphs" / "T2" / "model_1.pt")
    write_labels(tmp_path / "labels", {"train": ["model_1,0.5"], "val": ["x,0.1"], "test": ["y,0.1"]})
    with pytest.raises(DataError, match=r"train\.csv:2: model 'model_1' matches several graph files .*add a 'target' column"):
        join_labels(read_label_splits(tmp_path / "labels"), find_graphs(tmp_path / "graphs"))


def test_target_in_two_splits_is_a_warning(tmp_path: Path) -> None:
    for seed, name in enumerate(("A_1", "A_2", "B_1")):
        write_graph(tmp_path / "graphs" / name.split("_")[0] / f"{name}.pt", seed=seed)
    write_labels(tmp_path / "labels", {"train": ["A_1,0.5"], "val": ["A_2,0.5"], "test": ["B_1,0.1"]})
    _, _, warnings = join_labels(read_label_splits(tmp_path / "labels"), find_graphs(tmp_path / "graphs"))
    assert len(warnings) == 1 and "A in train, val" in warnings[0]


@pytest.mark.parametrize(("dockq", "cls"), [(0.0, "Incorrect"), (0.2299, "Incorrect"), (0.23, "Acceptable"),
                                           (0.49, "Medium"), (0.7999, "Medium"), (0.80, "High"), (1.0, "High")])
def test_capri_class_thresholds(dockq: float, cls: str) -> None:
    assert capri_class(dockq) == cls
