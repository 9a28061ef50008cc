"""A run killed with SIGKILL resumes from its last.ckpt with a gap-free, duplicate-free DVCLive history."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from graphqa.compat.lightning import checkpoint_step
from graphqa.inference.checkpoint import load_checkpoint
from graphqa.training.run import train_run

EPOCHS = 14
TRAIN_SCRIPT = (
    "import sys\n"
    "from graphqa.config import load_params\n"
    "from graphqa.training.run import train_run\n"
    "train_run(load_params(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])\n"
)


def rows(run_dir: Path, name: str) -> list[dict[str, str]]:
    path = run_dir / "dvclive" / "plots" / "metrics" / f"{name}.tsv"
    if not path.is_file():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def steps(run_dir: Path, name: str) -> list[int]:
    return [int(r["step"]) for r in rows(run_dir, name)]


def kill_after_validations(cmd: list[str], run_dir: Path, validations: int, env: dict[str, str]) -> None:
    """Start ``cmd``; SIGKILL it once ``validations`` epochs are validated and last.ckpt exists."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"training ended before it could be killed (rc {proc.returncode}):\n"
                                     f"{proc.stderr.read()[-3000:]}")
            if len(rows(run_dir, "val/loss")) >= validations and (run_dir / "checkpoints" / "last.ckpt").is_file():
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(timeout=30) == -signal.SIGKILL
                return
            time.sleep(0.02)
        raise AssertionError("training never reached the kill point")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_killed_run_resumes_from_last_checkpoint(packed_demo, make_params, tmp_path, monkeypatch):
    # 6 steps per epoch (96 graphs, batch 16): slow enough to be killed mid-run
    params = make_params("ci_fast", f"trainer.max_epochs={EPOCHS}", "data.batch_size=16", "trainer.log_every_n_steps=2")
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params.to_dict()))
    run_dir = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRAPHQA_PROGRESS_BAR": "0"}
    cmd = [sys.executable, "-c", TRAIN_SCRIPT, str(params_file), str(packed_demo.packed_dir),
           str(packed_demo.schema_path), str(run_dir)]
    kill_after_validations(cmd, run_dir, validations=3, env=env)

    assert not (run_dir / "summary.json").exists()  # the killed run never finished
    last = load_checkpoint(run_dir / "checkpoints" / "last.ckpt")
    saved_epoch, saved_step = last["epoch"], checkpoint_step(last)
    assert 0 <= saved_epoch < EPOCHS - 1
    logged_before = {int(r["step"]): r["loss"] for r in rows(run_dir, "val/loss") if int(r["step"]) <= saved_step}
    assert len(logged_before) == saved_epoch + 1

    # resume (the `resume` profile)
    monkeypatch.setenv("GRAPHQA_PROGRESS_BAR", "0")
    resumed = make_params("ci_fast", "resume", f"trainer.max_epochs={EPOCHS}", "data.batch_size=16",
                          "trainer.log_every_n_steps=2")
    assert resumed.trainer.resume
    summary = train_run(resumed, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert summary["status"] == "completed" and summary["epochs_run"] == EPOCHS
    assert summary["resumed_from"].endswith("last.ckpt")
    assert summary["started_at_epoch"] == saved_epoch + 1  # continued, did not start over

    # one validation per epoch, evenly spaced steps: no gap, no duplicate
    val_steps = steps(run_dir, "val/loss")
    assert len(val_steps) == EPOCHS
    assert len(set(np.diff(val_steps))) == 1 and np.diff(val_steps)[0] > 0, val_steps
    epochs = [int(float(r["epoch"])) for r in rows(run_dir, "epoch")]
    assert sorted(set(epochs)) == list(range(EPOCHS))
    for name in ("epoch", "train/loss_step", "train/loss_epoch", "val/spearman", "lr"):
        series = steps(run_dir, name)
        assert series == sorted(set(series)), f"{name}: steps repeat or go back: {series}"
    train_epochs = steps(run_dir, "train/loss_epoch")
    assert len(train_epochs) == EPOCHS and len(set(np.diff(train_epochs))) == 1

    # the killed process's history up to its checkpoint is kept as it was; the rest is new
    kept = {int(r["step"]): r["loss"] for r in rows(run_dir, "val/loss") if int(r["step"]) <= saved_step}
    assert kept == logged_before

    # a completed run with the same params is returned as is (runtime knobs do not count)
    best = run_dir / "checkpoints" / "best.ckpt"
    mtime = best.stat().st_mtime_ns
    monkeypatch.setenv("GRAPHQA_NUM_WORKERS", "0")
    again = train_run(resumed, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert again == summary and best.stat().st_mtime_ns == mtime
