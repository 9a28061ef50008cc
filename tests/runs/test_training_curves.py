"""The plots page's overlaid training curves, read from histories written by the real DVCLive."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from graphqa.runs.training_curves import COLUMNS, pipeline_runs, training_curves_csv


def _log_run(run_dir: Path, epochs: int, steps_per_epoch: int, lr: float, offset: float) -> None:
    """A run's DVCLive files as training writes them: lr and epoch every step, train/val at each epoch's end."""
    from dvclive import Live

    with Live(dir=str(run_dir / "dvclive"), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        for epoch in range(epochs):
            for step in range(steps_per_epoch):
                live.step = epoch * steps_per_epoch + step
                live.log_metric("lr", lr)
                live.log_metric("epoch", epoch)
                if step == steps_per_epoch - 1:
                    for name, value in {"train/loss_epoch": 1.0 - 0.1 * epoch, "val/loss": 0.5 + offset - 0.1 * epoch,
                                        "val/spearman": 0.1 * epoch, "val/ranking_loss": 0.3,
                                        "val/selection": 0.4 - 0.1 * epoch}.items():
                        live.log_metric(name, value)
                live.next_step()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_row_per_run_and_epoch_in_pipeline_order(tmp_path: Path) -> None:
    _log_run(tmp_path / "sweep" / "baseline-1", epochs=3, steps_per_epoch=4, lr=0.01, offset=0.0)
    _log_run(tmp_path / "phase1", epochs=2, steps_per_epoch=2, lr=0.001, offset=0.1)
    _log_run(tmp_path / "phase2" / "7", epochs=1, steps_per_epoch=3, lr=0.0005, offset=0.2)
    runs = pipeline_runs(tmp_path / "sweep", tmp_path / "phase1", tmp_path / "phase2", ["baseline-1"], [7])
    text = training_curves_csv(runs)
    rows = _rows(text)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert [(r["run"], r["stage"], r["epoch"]) for r in rows] == [
        ("sweep baseline-1", "sweep", "1"), ("sweep baseline-1", "sweep", "2"), ("sweep baseline-1", "sweep", "3"),
        ("phase1", "finetune_phase1", "1"), ("phase1", "finetune_phase1", "2"),
        ("phase2 seed 7", "finetune_phase2", "1"),
    ]
    assert [float(r["val_loss"]) for r in rows[:3]] == pytest.approx([0.5, 0.4, 0.3])
    assert {float(r["lr"]) for r in rows[3:5]} == {0.001}
    assert float(rows[5]["val_selection"]) == 0.4


def test_a_run_without_history_adds_no_rows(tmp_path: Path) -> None:
    _log_run(tmp_path / "sweep" / "a-1", epochs=1, steps_per_epoch=1, lr=0.01, offset=0.0)
    runs = pipeline_runs(tmp_path / "sweep", tmp_path / "phase1", tmp_path / "phase2", ["a-1"], [])
    rows = _rows(training_curves_csv(runs))
    assert [r["run"] for r in rows] == ["sweep a-1"]
    assert rows[0]["train_loss"] == "1.0"
