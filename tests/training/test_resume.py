"""Resume: a run killed in the middle of a checkpoint write, its run directory then wiped (as `dvc repro`
does before rerunning a stage), continues from the saved state and ends exactly where an uninterrupted run
ends; any change to what the run depends on starts it fresh, saying why."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from graphqa.data import FeatureSchema
from graphqa.training.resume import ResumeState, run_identity
from graphqa.training.run import train_run

EPOCHS = 8
PROFILE = ("ci_fast", f"trainer.max_epochs={EPOCHS}", "data.batch_size=16", "trainer.log_every_n_steps=2")
# Runs train_run in a child process that SIGKILLs itself half-way through writing its Nth checkpoint file.
KILL_SCRIPT = """
import os, signal, sys
import graphqa.training.checkpoint as checkpoint_io
from graphqa.config import load_params
from graphqa.io import atomic_path
from graphqa.training.run import train_run

real_save, calls = checkpoint_io.atomic_torch_save, [0]

def save_then_die(obj, target):
    calls[0] += 1
    if calls[0] < int(sys.argv[5]):
        return real_save(obj, target)
    import io, torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(target) as tmp:
        tmp.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

checkpoint_io.atomic_torch_save = save_then_die
train_run(load_params(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
"""


def rows(run_dir: Path, name: str) -> list[dict[str, str]]:
    path = run_dir / "dvclive" / "plots" / "metrics" / f"{name}.tsv"
    if not path.is_file():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def steps(run_dir: Path, name: str) -> list[int]:
    return [int(r["step"]) for r in rows(run_dir, name)]


def test_run_killed_mid_checkpoint_write_resumes_to_the_uninterrupted_result(packed_demo, make_params, tmp_path,
                                                                                scratch_dir):
    uninterrupted = train_run(make_params(*PROFILE), packed_demo.packed_dir, packed_demo.schema_path,
                              tmp_path / "reference")
    assert uninterrupted["status"] == "completed"
    assert not any((scratch_dir / "resume").glob("*")), "a completed run leaves no resume state"

    run_dir = tmp_path / "run"
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(make_params(*PROFILE).to_dict()))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(params_file), str(packed_demo.packed_dir),
         str(packed_demo.schema_path), str(run_dir), "9"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (run_dir / "summary.json").exists()  # it never finished

    # `dvc repro` deletes a stage's outputs before running it again: nothing of the run dir survives
    for name in ("checkpoints", "dvclive"):
        assert (run_dir / name).is_dir()
    shutil.rmtree(run_dir)

    resumed = train_run(make_params(*PROFILE, "resume"), packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert resumed["status"] == "completed" and resumed["resumed"] is True
    assert 0 < resumed["started_at_epoch"] < EPOCHS  # continued, did not start over

    # the same result as the uninterrupted run (deterministic: true in ci_fast)
    for key in ("score", "val_loss", "val_spearman", "epoch"):
        assert resumed["best"][key] == pytest.approx(uninterrupted["best"][key], abs=1e-6), key
    for key, value in uninterrupted["last_val_metrics"].items():
        assert resumed["last_val_metrics"][key] == pytest.approx(value, abs=1e-6, nan_ok=True), key
    # no checkpoint of the killed attempt survives unless it is in the final ranking
    names = sorted(p.name for p in (run_dir / "checkpoints").glob("*.ckpt"))
    assert names == sorted(p.name for p in (tmp_path / "reference" / "checkpoints").glob("*.ckpt"))

    # one validation per epoch, evenly spaced steps: no gap, no duplicate, same history as uninterrupted
    val_steps = steps(run_dir, "val/loss")
    assert len(val_steps) == EPOCHS and len(set(np.diff(val_steps))) == 1, val_steps
    for name in ("epoch", "train/loss_step", "train/loss_epoch", "val/spearman", "lr"):
        series = steps(run_dir, name)
        assert series == sorted(set(series)), f"{name}: steps repeat or go back: {series}"
        assert series == steps(tmp_path / "reference", name), name
    assert not any((scratch_dir / "resume").glob("*")), "the resumed run cleaned its saved state when it completed"


def test_saved_state_is_used_only_for_the_same_inputs(packed_demo, make_params, tmp_path, caplog):
    params = make_params(*PROFILE)
    schema_digest = FeatureSchema.load(packed_demo.schema_path).digest()
    state = ResumeState(tmp_path / "run", run_identity(params, packed_demo.packed_dir, schema_digest, None))
    (state.state / "checkpoints").mkdir(parents=True)
    (state.state / "checkpoints" / "last.ckpt").write_bytes(b"saved")
    (state.folder / "identity.json").write_text(json.dumps(state.identity.__dict__))
    assert state.usable()

    caplog.set_level(logging.INFO)
    # inverted labels change the packed data's hash; a new learning rate the params; a new init checkpoint …
    relabelled = tmp_path / "packed"
    shutil.copytree(packed_demo.packed_dir, relabelled)
    labels = next(relabelled.rglob("*.npy"))
    labels.write_bytes(labels.read_bytes()[:-1] + bytes([labels.read_bytes()[-1] ^ 1]))
    cases = {
        "packed data": run_identity(params, relabelled, schema_digest, None),
        "params": run_identity(make_params(*PROFILE, "optimizer.lr=0.0123"), packed_demo.packed_dir,
                               schema_digest, None),
        "initial checkpoint": run_identity(params, packed_demo.packed_dir, schema_digest, packed_demo.schema_path),
    }
    for reason, identity in cases.items():
        caplog.clear()
        assert not ResumeState(tmp_path / "run", identity, state.folder.parent).usable()
        assert any(reason in r.getMessage() and "starting from the beginning" in r.getMessage()
                   for r in caplog.records), (reason, [r.getMessage() for r in caplog.records])
    # runtime knobs are not part of a run's identity
    runtime = run_identity(make_params(*PROFILE, "runtime.num_workers=2", "runtime.eval_batch_size=7"),
                           packed_demo.packed_dir, schema_digest, None)
    assert ResumeState(tmp_path / "run", runtime, state.folder.parent).usable()
