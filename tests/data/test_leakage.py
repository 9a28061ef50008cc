"""One graph in two splits is refused by ``graphqa data check``, the schema stage and the pack stage.

Two ways past the model-name check: the same file reached from two label rows (a flat layout with a ``target``
column naming another target), and byte-identical graphs under different names. Both are found by the one
check all three commands run (``graphqa.data.dataset.raise_for_shared_graphs``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from tests.data.builders import write_graph, write_labels
from tests.data.commands import data_check as check
from tests.data.commands import pack_stage as run_pack
from tests.data.commands import schema_stage as run_schema


def flat_dataset(root: Path) -> Path:
    """A flat graphs/*.pt layout with a target column: targets A, B (train), C (val), D (test)."""
    rows: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    seed = 0
    for split, targets in (("train", "AB"), ("val", "C"), ("test", "D")):
        for target in targets:
            for m in range(3):
                seed += 1
                write_graph(root / "graphs" / f"{target}_m{m}.pt", num_nodes=4 + m, node_dim=8, edge_dim=3, seed=seed)
                rows[split].append(f"{target}_m{m},0.{seed},{target}")
    write_labels(root / "labels", rows, header="MODEL,dockq,target")
    return root


def append_rows(labels: Path, split: str, rows: list[str]) -> None:
    with (labels / f"{split}.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")


def schema_stage(data: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_schema(data / "graphs", data / "labels", out, cwd)


def pack_stage(data: Path, schema: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_pack(schema, out, data / "graphs", data / "labels", cwd)


def leak_train_models_into_test_under_another_target(data: Path) -> None:
    """The red team's case: four train models appended to test.csv under target D (their files are flat)."""
    append_rows(data / "labels", "test", ["A_m0,0.5,D", "A_m1,0.5,D", "A_m2,0.5,D", "B_m0,0.5,D"])


def leak_copies_under_new_names(data: Path) -> None:
    """Two train graphs copied byte for byte under test names, one re-saved from the same tensors."""
    shutil.copyfile(data / "graphs" / "A_m0.pt", data / "graphs" / "D_copy.pt")
    resaved = torch.load(data / "graphs" / "B_m1.pt", weights_only=False)
    torch.save(resaved, data / "graphs" / "D_resaved.pt")  # the file name differs inside the zip too
    append_rows(data / "labels", "test", ["D_copy,0.5,D", "D_resaved,0.5,D"])


LEAKS = {
    "same file, another target": (leak_train_models_into_test_under_another_target, [
        ("train A/A_m0", "test D/A_m0", "use the same graph file"),
        ("train B/B_m0", "test D/B_m0", "use the same graph file"),
    ], 4),
    "byte-identical copies": (leak_copies_under_new_names, [
        ("train A/A_m0", "test D/D_copy", "have byte-identical graphs"),
        ("train B/B_m1", "test D/D_resaved", "have byte-identical graphs"),
    ], 2),
}


def assert_names_the_leaks(text: str, pairs: list[tuple[str, str, str]], count: int) -> None:
    text = " ".join(text.split())
    assert f"{count} graph(s) shared between splits (test data would leak into training)" in text, text[-3000:]
    for first, second, how in pairs:
        line = next((part for part in text.split(" train ")[1:] if f"{first.split(' ', 1)[1]} (" in part), "")
        assert second in line and how in line, (first, second, text[-3000:])


@pytest.mark.parametrize("case", list(LEAKS))
def test_data_check_and_schema_refuse_a_graph_shared_between_splits(case: str, tmp_path: Path) -> None:
    data = flat_dataset(tmp_path / "data")
    result, report = check(data, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]  # the clean dataset passes
    leak, pairs, count = LEAKS[case]
    leak(data)

    result, report = check(data, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [error] = [e for e in report["errors"] if "shared between splits" in e]
    assert_names_the_leaks(error, pairs, count)

    out = tmp_path / "schema"
    stage = schema_stage(data, out, tmp_path)
    assert stage.returncode == 1 and "Traceback" not in stage.stderr
    assert_names_the_leaks(stage.stderr, pairs, count)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("case", list(LEAKS))
def test_pack_refuses_a_graph_shared_between_splits(case: str, tmp_path: Path) -> None:
    data = flat_dataset(tmp_path / "data")
    assert schema_stage(data, tmp_path / "schema", tmp_path).returncode == 0
    packed = tmp_path / "packed"
    first = pack_stage(data, tmp_path / "schema" / "feature_metadata.json", packed, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p.relative_to(packed): p.read_bytes() for p in packed.rglob("*") if p.is_file()}
    leak, pairs, count = LEAKS[case]
    leak(data)  # labels changed after the schema ran: pack checks again

    result = pack_stage(data, tmp_path / "schema" / "feature_metadata.json", packed, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert_names_the_leaks(result.stderr, pairs, count)
    assert {p.relative_to(packed): p.read_bytes() for p in packed.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".packed")) == []


def test_the_same_graph_twice_in_one_split_is_not_leakage(tmp_path: Path) -> None:
    data = flat_dataset(tmp_path / "data")
    shutil.copyfile(data / "graphs" / "A_m0.pt", data / "graphs" / "A_dup.pt")
    append_rows(data / "labels", "train", ["A_dup,0.5,A"])
    result, report = check(data, tmp_path)
    assert result.returncode == 0, report["errors"]
