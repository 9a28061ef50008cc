"""Graph discovery: symlinked target folders are followed (without looping); NFC and NFD names match."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from graphqa.data.layout import find_graphs
from tests.data.builders import write_graph, write_labels
from tests.data.commands import data_check as check


def test_a_symlinked_target_folder_is_followed(build_dataset, tmp_path: Path) -> None:
    ds = build_dataset()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = ds.graphs / "T20"
    target.rename(elsewhere / "T20")
    (ds.graphs / "T20").symlink_to(elsewhere / "T20", target_is_directory=True)  # data/graphs/T20 -> /elsewhere/T20

    keys = [f.key for f in find_graphs(ds.graphs)]
    assert [k for k in keys if k.startswith("T20/")] == ["T20/T20_m0", "T20/T20_m1", "T20/T20_m2"]
    result, report = check(ds.graphs.parent, tmp_path, "--min-coverage", "1.0")
    assert result.returncode == 0, report["errors"]
    assert report["graph_files"] == 18 and report["coverage"]["splits"]["test"]["coverage"] == 1.0


def test_a_symlink_loop_is_read_once_with_a_warning(build_dataset, tmp_path: Path, caplog) -> None:
    ds = build_dataset()
    (ds.graphs / "T00" / "again").symlink_to(ds.graphs, target_is_directory=True)  # graphs/T00/again -> graphs
    files = find_graphs(ds.graphs)
    assert len(files) == 18 and len({f.path.resolve() for f in files}) == 18
    assert f"{ds.graphs / 'T00' / 'again'}: links to a folder already read" in caplog.text
    result, report = check(ds.graphs.parent, tmp_path)
    assert result.returncode == 0 and report["graph_files"] == 18, report["errors"]


def test_nfd_file_names_match_nfc_labels(tmp_path: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    rows: dict[str, list[str]] = {}
    for i, split in enumerate(("train", "val", "test")):
        target = f"{nfd}{i}"  # folder and file saved with NFD names (as macOS writes them)
        write_graph(tmp_path / "data" / "graphs" / target / f"{target}_m.pt", seed=i)
        rows[split] = [f"{nfc}{i}_m,0.5"]  # labels typed in NFC
    write_labels(tmp_path / "data" / "labels", rows)
    assert os.listdir(tmp_path / "data" / "graphs" / f"{nfd}0") == [f"{nfd}0_m.pt"]  # the file system kept NFD
    result, report = check(tmp_path / "data", tmp_path, "--min-coverage", "1.0")
    assert result.returncode == 0, report["errors"]
    assert report["coverage"]["splits"]["train"]["targets"] == 1
    assert [f.model for f in find_graphs(tmp_path / "data" / "graphs")] == [f"{nfc}{i}_m" for i in range(3)]


def test_the_same_name_in_nfc_and_nfd_is_ambiguous_not_silently_merged(tmp_path: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    write_graph(tmp_path / "data" / "graphs" / f"{nfc}.pt", seed=1)
    write_graph(tmp_path / "data" / "graphs" / f"{nfd}.pt", seed=2)
    for i in range(2):
        write_graph(tmp_path / "data" / "graphs" / f"other{i}.pt", seed=10 + i)
    write_labels(tmp_path / "data" / "labels", {"train": [f"{nfc},0.5"], "val": ["other0,0.5"], "test": ["other1,0.5"]})
    result, report = check(tmp_path / "data", tmp_path)
    assert result.returncode == 1
    assert any(f"model '{nfc}' matches several graph files" in e for e in report["errors"]), report["errors"]
