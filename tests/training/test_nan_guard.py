"""A diverging run stops naming where, a collapsed one says so, an interrupted one says how to resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from graphqa.compose import composed
from graphqa.training.callbacks import TrainingDivergedError
from graphqa.training.run import train_run

ROOT = Path(__file__).resolve().parents[2]
WHERE = re.compile(r"NaN/inf at epoch (\d+), batch (\d+)")


def _stage_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "GRAPHQA_PROGRESS_BAR": "0"}


def _train_stage(packed_demo, tmp_path: Path, out: Path, *overrides: str) -> list[str]:
    """The train stage's command for ci_fast with ``overrides``, its params file written into ``tmp_path``."""
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(composed(["ci_fast"], list(overrides), config_dir=ROOT / "params")))
    return [sys.executable, str(ROOT / "stages" / "train.py"), "--variant", "baseline", "--seed", "222",
            "--packed", str(packed_demo.packed_dir), "--schema", str(packed_demo.schema_path), "--out", str(out),
            "--params", str(params_file)]


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
    out = tmp_path / "runs" / "baseline-222"
    result = subprocess.run(_train_stage(packed_demo, tmp_path, out, "optimizer.lr=1e30"), cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env=_stage_env())
    assert result.returncode != 0
    assert WHERE.search(result.stderr), result.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"


def test_non_finite_weights_or_validation_loss_stop_naming_the_epoch() -> None:
    from graphqa.config import ModelParams
    from graphqa.models import build_model
    from graphqa.training.module import check_finite

    network = build_model("gatv2_edge", 7, 3, ModelParams())
    check_finite(network, 0.1, epoch=3)  # finite: nothing to say
    with pytest.raises(TrainingDivergedError, match=r"validation loss became nan at epoch 3"):
        check_finite(network, float("nan"), epoch=3)
    with torch.no_grad():
        next(network.parameters())[0] = float("inf")
    with pytest.raises(TrainingDivergedError, match=r"weights became non-finite \(node_encoder\.weight\) at epoch 5"):
        check_finite(network, 0.1, epoch=5)


def test_predictions_collapsed_to_a_constant_are_flagged(packed_demo, make_params, tmp_path):
    """lr=1e3 saturates the sigmoid: the run completes, but its summary and the leaderboard say it ranks nothing."""
    from graphqa.runs.leaderboard import RunRecord

    run_dir = tmp_path / "run"
    summary = train_run(make_params("ci_fast", "optimizer.lr=1000", "trainer.gradient_clip_val=null"),
                        packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert summary["status"] == "completed"
    assert summary["constant_predictions"] is True and summary["best"]["val_pred_std"] < 1e-6
    assert RunRecord.from_run_dir(run_dir).status == "completed (constant predictions)"


def test_ctrl_c_records_interrupted_and_says_how_to_resume(packed_demo, tmp_path):
    out = tmp_path / "runs" / "baseline-222"
    proc = subprocess.Popen(_train_stage(packed_demo, tmp_path, out, "trainer.max_epochs=40", "data.batch_size=8"),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_stage_env())
    history = out / "dvclive" / "plots" / "metrics" / "val" / "loss.tsv"
    deadline = time.monotonic() + 240
    while not (history.is_file() and len(history.read_text().splitlines()) > 1):
        assert proc.poll() is None and time.monotonic() < deadline, "never reached the first validation"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "profile=resume" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["error"] is None
