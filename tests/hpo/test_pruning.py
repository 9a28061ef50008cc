"""The pruning callback: a real Lightning run reports each epoch to a real SQLite study and stops when pruned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graphqa.compose import composed
from graphqa.config import params_from_dict
from graphqa.hpo.pruning import StudyPruning, TrialPrunedError
from graphqa.hpo.reporting import MONITOR_ATTR, PRUNED_AT_EPOCH, make_pruner
from graphqa.hpo.storage import open_storage, study_db
from graphqa.training.callbacks import build_callbacks
from graphqa.training.run import train_run

ROOT = Path(__file__).resolve().parents[2]


def _study_with_two_finished_trials(root: Path, finished_value: float) -> Any:
    """A study (in ``root``'s .graphqa/hpo/) whose two finished trials reported ``finished_value`` every epoch."""
    import optuna

    study = optuna.create_study(storage=open_storage(study_db(root, "prune_t")), study_name="prune_t",
                                pruner=make_pruner(), direction="minimize")
    study.set_user_attr(MONITOR_ATTR, "val/selection")
    for _ in range(2):
        trial = study.ask()
        for epoch in range(4):
            trial.report(finished_value, step=epoch)
        study.tell(trial, finished_value)
    return study


def _trial_params(number: int, epochs: int) -> Any:
    raw = composed(["ci_fast"], [f"trainer.max_epochs={epochs}", f"runtime.hpo_trial='prune_t/{number}'",
                                 "early_stopping.enabled=false"], config_dir=ROOT / "params")
    raw["runtime"]["progress_bar"] = False
    return params_from_dict(raw)


def test_a_trial_behind_the_finished_ones_is_pruned_and_its_stage_fails(packed_demo, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the trial finds .graphqa/hpo/<study>.db from its working directory up
    study = _study_with_two_finished_trials(tmp_path, finished_value=-100.0)  # unbeatable: prune at epoch 1
    running = study.ask()
    with pytest.raises(TrialPrunedError, match=f"trial {running.number} pruned by its study at epoch 1"):
        train_run(_trial_params(running.number, epochs=4), packed_demo.packed_dir, packed_demo.schema_path,
                  tmp_path / "run")
    frozen = study.trials[running.number]
    assert frozen.user_attrs[PRUNED_AT_EPOCH] == 1
    assert sorted(frozen.intermediate_values) == [0, 1]  # reported each epoch, stopped after the second
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and "pruned" in summary["error"]


def test_a_promising_trial_reports_every_epoch_and_completes(packed_demo, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    study = _study_with_two_finished_trials(tmp_path, finished_value=100.0)  # any real score beats it
    running = study.ask()
    summary = train_run(_trial_params(running.number, epochs=2), packed_demo.packed_dir, packed_demo.schema_path,
                        tmp_path / "run")
    assert summary["status"] == "completed"
    values = study.trials[running.number].intermediate_values
    assert sorted(values) == [0, 1] and values[1] == pytest.approx(summary["last_val_metrics"]["selection"])


def test_no_callback_without_a_trial_nor_for_a_finished_trial(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    raw = composed(["ci_fast"], [], config_dir=ROOT / "params")
    assert not any(isinstance(cb, StudyPruning) for cb in build_callbacks(params_from_dict(raw), tmp_path / "r"))
    study = _study_with_two_finished_trials(tmp_path, finished_value=1.0)
    assert study.trials[0].state.name == "COMPLETE"
    assert not any(isinstance(cb, StudyPruning) for cb in build_callbacks(_trial_params(0, 2), tmp_path / "r"))


def test_a_trial_without_its_study_database_is_refused(tmp_path, monkeypatch) -> None:
    from graphqa.hpo.errors import HpoError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(HpoError, match=r"\.graphqa/hpo/prune_t\.db: not found"):
        build_callbacks(_trial_params(0, 2), tmp_path / "r")
