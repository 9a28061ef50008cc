"""Run-dir files written or damaged by hand: clear errors in summarise, leaderboard and select; strict JSON out.

The run dirs are real folders with the files a run writes (``summary.json``, ``run_manifest.json``,
``checkpoints/best.ckpt``), made by hand so each can be damaged in one way. docs/RELIABILITY.md lists the cases.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from graphqa.io import write_json
from graphqa.runs.leaderboard import select_winner, split_member
from graphqa.runs.run_dir import RunDir

ROOT = Path(__file__).resolve().parents[2]
GRAPHQA = str(Path(sys.executable).with_name("graphqa"))


def make_run(run_dir: Path, score: float, spearman: float = 0.5) -> RunDir:
    run = RunDir(run_dir)
    run.checkpoints.mkdir(parents=True)
    run.best_checkpoint.write_bytes(b"weights of " + run_dir.name.encode())
    write_json(run.summary_file, {"status": "completed", "best": {"score": score, "val_loss": score,
                                                                  "val_spearman": spearman, "epoch": 3}})
    write_json(run.manifest_file, {"params": {"optimizer": {"lr": 0.005}, "seed": 1}})
    return run


def graphqa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRAPHQA, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("member", "expected"), [
    ("baseline-222", ("baseline", 222)), ("low_lr-0", ("low_lr", 0)), ("a-b-7", ("a-b", 7)),
    ("x-4294967295", ("x", 4294967295)),
])
def test_split_member_reads_variant_and_seed(member: str, expected: tuple[str, int]) -> None:
    assert split_member(member) == expected


@pytest.mark.parametrize("member", ["baseline--1", "baseline-4294967296", "baseline-", "-5", "baseline", "b-+3",
                                    "b-٣"])
def test_split_member_refuses_bad_seeds(member: str) -> None:
    with pytest.raises(ValueError, match=r"expected <variant>-<seed> with a seed in \[0, 4294967295\]"):
        split_member(member)


@pytest.mark.parametrize("content", ["[1, 2]", '"done"', "null", "3"])
def test_summary_that_is_not_an_object_is_named_by_summarise_and_leaderboard(tmp_path: Path, content: str) -> None:
    make_run(tmp_path / "runs" / "good-1", 0.3)
    bad = make_run(tmp_path / "runs" / "bad-2", 0.2)
    bad.summary_file.write_text(content)
    kind = {"[": "array", '"': "string", "n": "null", "3": "number"}[content[0]]
    expected = f"{bad.summary_file}: holds a JSON {kind}, expected a JSON object"
    for args in (("summarise", str(bad.path)), ("leaderboard", "--runs", str(tmp_path / "runs"))):
        result = graphqa(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert expected in " ".join(result.stderr.split()), result.stderr


def test_select_stage_names_a_summary_that_is_not_an_object(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("sweep:\n  seeds: [1]\n  variants: [a, b]\n  overlays: {a: {}, b: {}}\n")
    make_run(tmp_path / "runs" / "a-1", 0.3)
    bad = make_run(tmp_path / "runs" / "b-1", 0.2)
    bad.summary_file.write_text("[]")
    result = subprocess.run([sys.executable, str(ROOT / "stages" / "select_best.py"), "--runs", "runs", "--out", "sel",
                             "--params", "params.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "runs/b-1/summary.json: holds a JSON array, expected a JSON object" in result.stderr
    assert not (tmp_path / "sel").exists()


def test_winner_json_is_strict_json_with_null_for_nan(tmp_path: Path) -> None:
    runs = [make_run(tmp_path / "runs" / "a-1", 0.3, spearman=math.nan).path, make_run(tmp_path / "runs" / "b-1", 0.4).path]
    winner = select_winner(runs, tmp_path / "sel")
    assert winner.member == "a-1" and math.isnan(winner.val_spearman)
    text = (tmp_path / "sel" / "winner.json").read_text()
    assert "NaN" not in text

    def refuse(token: str) -> None:
        raise ValueError(token)

    assert json.loads(text, parse_constant=refuse)["val_spearman"] is None  # what a strict parser reads
    assert "NaN" not in (tmp_path / "runs" / "a-1" / "summary.json").read_text()
