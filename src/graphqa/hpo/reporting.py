"""What a running trial and the driver share through the study's storage (no Lightning here, so the CLI stays
fast): the metric trials report, the marker of a pruned trial, the pruner both sides build, the running trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MONITOR_ATTR = "monitor"  # the study's user attribute naming the metric its trials report (set by the driver)
PRUNED_AT_EPOCH = "pruned_at_epoch"  # the trial's user attribute the callback sets before it stops the run


def make_pruner() -> Any:
    """The study's pruner (the driver and each trial build the same one; Optuna does not store it)."""
    import optuna

    # Compare from the third trial on, ignoring each trial's first epoch (its curve says little yet).
    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)


def running_trial(study_name: str, number: int, db: Path) -> Any | None:
    """Trial ``number`` of ``study_name`` as an ``optuna.trial.Trial`` (report / should_prune), None if finished."""
    import optuna

    from graphqa.hpo.storage import open_storage

    storage: Any = open_storage(db)
    study = optuna.load_study(study_name=study_name, storage=storage, pruner=make_pruner())
    trial_id = storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study_name), number)
    if storage.get_trial(trial_id).state != optuna.trial.TrialState.RUNNING:
        return None
    return optuna.trial.Trial(study, trial_id)
