"""``graphqa graphs build``: real structures -> a dataset graphqa accepts; failures named and skipped."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLE, REPO, needs_structures_extra

needs_structures_extra()


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_built_dataset_passes_data_check(built):
    from graphqa.data.check import check_dataset

    out, report = built
    assert report["structures"] == 6 and report["graphs"] == 6 and report["failed"] == 0, report["failures"]
    assert sorted(report["splits"]) == ["1AK4", "5cq2", "7cma", "DQ"]
    result = check_dataset(out / "graphs", out / "labels", 0.95)
    assert result.errors == [] and result.problems == {} and result.empty_graphs == []
    assert result.graph_files == 6 and list(result.dims) == ["node 172 / edge 11"]


def test_graphs_load_with_the_data_contract_and_schema_names_columns(built):
    from graphqa.data import load_graph
    from graphqa.data.schema import build_schema, read_graph_metadata
    from graphqa.structures.columns import node_columns

    out, _ = built
    record = load_graph(out / "graphs" / "DQ" / "DQ_model.pt")
    assert (record.node_dim, record.edge_dim) == (172, 11)
    meta = read_graph_metadata(out / "graphs" / "graph_metadata.json")
    schema = build_schema(172, 11, [meta])
    assert schema.node_columns == node_columns() and schema.edge_columns[0] == "ca_distance"
    assert schema.edge_module == "edge/topoqa_spec/v1" and schema.edge_params["interface_cutoff"] == 10.0


def test_labels_are_dockq_with_capri_class_split_by_target(built):
    out, report = built
    rows = {}
    for split in ("train", "val", "test"):
        with open(out / "labels" / f"{split}.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[row["MODEL"]] = (split, row)
    assert set(rows) == {"DQ_model", "DQ_native", "1AK4_ti5-itw_212w", "1AK4_cm-it0_745", "5cq2_native", "7cma_native"}
    for name in ("DQ_native", "5cq2_native", "7cma_native"):  # a native against itself
        assert float(rows[name][1]["dockq"]) == pytest.approx(1.0) and rows[name][1]["capri"] == "High"
    assert float(rows["DQ_model"][1]["dockq"]) == pytest.approx(0.700, abs=5e-4)
    assert rows["DQ_model"][1]["capri"] == "Medium"
    assert float(rows["1AK4_cm-it0_745"][1]["dockq"]) < 0.23 and rows["1AK4_cm-it0_745"][1]["capri"] == "Incorrect"
    # HADDOCK's own iRMSD of these decoys (deeprank test/1AK4/haddock_data/1AK4.irmsd): 1.525 and 16.951
    assert float(rows["1AK4_ti5-itw_212w"][1]["irmsd"]) == pytest.approx(1.525, abs=2e-3)
    assert float(rows["1AK4_cm-it0_745"][1]["irmsd"]) == pytest.approx(16.951, abs=2e-3)
    splits_of_target = {}
    for split, row in rows.values():
        splits_of_target.setdefault(row["target"], set()).add(split)
    assert all(len(s) == 1 for s in splits_of_target.values())
    assert {s for v in splits_of_target.values() for s in v} == {"train", "val", "test"}


def test_output_bytes_do_not_depend_on_workers(tmp_path, mkdssp, small_inputs, built):
    from graphqa.structures.build import build_dataset

    structures, natives = small_inputs
    out, _ = built
    again = tmp_path / "again"
    build_dataset(structures / "DQ", again, None, workers=1)
    first = _digests(out / "graphs" / "DQ")
    assert first and _digests(again / "graphs" / "DQ") == first


def _failing_inputs(root: Path, shared_model: Path) -> Path:
    import gemmi

    structures = root / "structures" / "BAD"
    structures.mkdir(parents=True)
    (structures / "BAD_garbage.pdb").write_text("this is not a structure\n")
    (structures / "BAD_truncated.cif.gz").write_bytes(gzip.compress(b"data_x\nloop_\n_atom_site.id\n"))
    st = gemmi.read_structure(str(shared_model))
    single = st.clone()
    single[0].remove_chain("B")
    single.write_pdb(str(structures / "BAD_single_chain.pdb"))
    apart = st.clone()
    for res in apart[0]["B"]:
        for atom in res:
            atom.pos = gemmi.Position(atom.pos.x + 200, atom.pos.y, atom.pos.z)
    apart.write_pdb(str(structures / "BAD_apart.pdb"))
    gap = st.clone()
    for res in gap[0]["A"]:
        for i in reversed(range(len(res))):
            if res[i].name == "N":
                del res[i]
    gap.write_pdb(str(structures / "BAD_no_backbone_N.pdb"))
    (structures.parent / "OK").mkdir()
    (structures.parent / "OK" / "OK_model.pdb").write_bytes(shared_model.read_bytes())
    return structures.parent


def test_failures_are_reported_and_skipped(tmp_path, mkdssp, shared_pair):
    from graphqa.structures.build import build_dataset

    structures = _failing_inputs(tmp_path, shared_pair[0])
    report = build_dataset(structures, tmp_path / "out", workers=2)
    kinds = {Path(f["structure"]).name: f["kind"] for f in report["failures"]}
    assert set(kinds) == {"BAD_garbage.pdb", "BAD_truncated.cif.gz", "BAD_single_chain.pdb", "BAD_apart.pdb",
                          "BAD_no_backbone_N.pdb"}
    assert kinds["BAD_garbage.pdb"] in ("unreadable", "no_protein")  # gemmi reads text without atoms as empty
    assert kinds["BAD_truncated.cif.gz"] in ("unreadable", "no_protein")
    assert kinds["BAD_single_chain.pdb"] == kinds["BAD_apart.pdb"] == "no_interface"
    assert kinds["BAD_no_backbone_N.pdb"] == "missing_backbone"
    assert all(str(structures) in f["message"] for f in report["failures"])  # each message names its file
    assert report["graphs"] == 1 and (tmp_path / "out" / "graphs" / "OK" / "OK_model.pt").is_file()
    saved = json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert saved["failed"] == 5


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from graphqa.cli import main; sys.argv = ['graphqa', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    proc = _cli("graphs", "build", str(tmp_path / "missing"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "error:" in proc.stderr and "missing" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    proc = _cli("graphs", "build", str(EXAMPLE / "haddock"), "--out", str(tmp_path / "o"),
                "--natives", str(EXAMPLE / "natives"))  # one target cannot be split into train/val/test
    assert proc.returncode == 2 and "at least 3" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_build_reports_skipped_structures(tmp_path, mkdssp, shared_pair):
    structures = _failing_inputs(tmp_path, shared_pair[0])
    proc = _cli("graphs", "build", str(structures), "--out", str(tmp_path / "out"), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1 of 6 graphs" in proc.stdout
    assert proc.stderr.count("skipped (") == 5 and "BAD_single_chain.pdb" in proc.stderr
    again = _cli("graphs", "build", str(structures), "--out", str(tmp_path / "out"))
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_missing_tools_say_how_to_install_them(monkeypatch, tmp_path, shared_pair):
    from graphqa.structures.build import build_dataset
    from graphqa.structures.errors import StructureError, require

    with pytest.raises(StructureError, match=r"pip install 'graphqa\[structures\]'"):
        require("graphqa_no_such_module", "no-such-package")
    monkeypatch.setenv("PATH", str(tmp_path))  # no mkdssp there
    with pytest.raises(StructureError, match="apt-get install dssp") as info:
        build_dataset(shared_pair[0], tmp_path / "out")
    assert info.value.kind == "missing_tool"
    assert not (tmp_path / "out" / "graphs").exists()  # stopped before writing anything
