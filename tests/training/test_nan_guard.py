"""A diverging run stops with a message naming epoch and batch, and its stage exits non-zero."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graphqa.compose import composed
from graphqa.training.callbacks import TrainingDivergedError
from graphqa.training.run import train_run

ROOT = Path(__file__).resolve().parents[2]
WHERE = re.compile(r"NaN/inf at epoch (\d+), batch (\d+)")


def test_huge_learning_rate_stops_with_epoch_and_batch(packed_demo, make_params, tmp_path):
    params = make_params("ci_fast", "optimizer.lr=1e30")
    run_dir = tmp_path / "run"
    with pytest.raises(TrainingDivergedError) as info:
        train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert WHERE.search(str(info.value)), str(info.value)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and WHERE.search(summary["error"])
    assert json.loads((run_dir / "run_manifest.json").read_text())["status"] == "failed"


def test_the_train_stage_exits_non_zero_naming_where(packed_demo, tmp_path):
    raw = composed(["ci_fast"], ["optimizer.lr=1e30"], config_dir=ROOT / "params")
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    out = tmp_path / "runs" / "baseline-222"
    result = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "train.py"), "--variant", "baseline", "--seed", "222",
         "--packed", str(packed_demo.packed_dir), "--schema", str(packed_demo.schema_path), "--out", str(out),
         "--params", str(params_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "GRAPHQA_PROGRESS_BAR": "0"},
    )
    assert result.returncode != 0
    assert WHERE.search(result.stderr), result.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"
