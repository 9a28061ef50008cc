"""``graphqa data demo`` and ``graphqa data check``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from typer.testing import CliRunner

from graphqa.cli.app import app

GRAPHQA = Path(sys.executable).with_name("graphqa")
runner = CliRunner()


def test_demo_then_check(tmp_path: Path) -> None:
    out = tmp_path / "x"
    demo = runner.invoke(app, ["data", "demo", "--out", str(out), "--targets", "3", "--decoys", "5", "--test-decoys", "6", "--seed", "1"])
    assert demo.exit_code == 0, demo.output
    assert f"wrote 16 graphs to {out} (train 5, val 5, test 6)" in " ".join(demo.stdout.split())
    # The check through the installed console script, as a user runs it.
    check = subprocess.run([str(GRAPHQA), "data", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = " ".join(check.stdout.split())  # rich wraps lines to the terminal width
    assert "16 graph files; dims: node 172 / edge 11 (16 graphs)" in text
    assert "ok: usable for schema discovery" in text


def test_check_reports_every_problem_and_fails(demo_dir: Path, tmp_path: Path) -> None:
    data = shutil.copytree(demo_dir, tmp_path / "data")
    graphs = sorted((data / "graphs").rglob("*.pt"))
    nan_graph, corrupt, missing = graphs[0], graphs[1], graphs[2]
    t = {"x": torch.full((3, 172), float("nan")), "edge_index": torch.tensor([[0, 1], [1, 0]]), "edge_attr": torch.zeros(2, 11)}
    torch.save(t, nan_graph)
    corrupt.write_bytes(b"not a zip")
    missing.unlink()
    result = runner.invoke(app, ["data", "check", str(data), "--min-coverage", "0.99", "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert "graphs with NaN/inf features: 1; other bad graphs: 1" in " ".join(result.stdout.split())
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] is False and report["problems"] == {"nonfinite": 1, "unreadable": 1}
    assert any(str(nan_graph) in e and "non-finite" in e for e in report["errors"])
    assert any(str(corrupt) in e for e in report["errors"])
    assert any("coverage below data.min_coverage" in e and missing.stem in e for e in report["errors"])
    split = next(s for s in report["coverage"]["splits"].values() if s["missing_models"])
    assert split["missing_models"] == [f"{missing.parent.name}/{missing.stem}"]


def test_check_of_a_directory_without_graphs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "check", str(tmp_path)])
    assert result.exit_code == 1 and "graph directory not found" in result.stdout


def test_demo_rejects_too_few_targets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "demo", "--out", str(tmp_path / "d"), "--targets", "2"])
    assert result.exit_code == 2 and not (tmp_path / "d").exists()


def test_every_data_command_documents_an_example() -> None:
    from graphqa.cli.data import app as data_app

    for command in data_app.registered_commands:
        assert "Example: graphqa data " in (command.callback.__doc__ or ""), command.name
