"""``graphqa hpo show``: a study's trials, its best trial and the searched keys' importances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphqa.hpo.reporting import PRUNED_AT_EPOCH
from graphqa.hpo.study import ERROR_ATTR, experiment_name


@dataclass(frozen=True)
class TrialRow:
    number: int
    experiment: str
    state: str  # complete | pruned | fail | running | waiting
    value: float | None
    params: dict[str, Any]
    note: str  # why it failed, where it was pruned


def trial_rows(study: Any) -> list[TrialRow]:
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        note = str(attrs.get(ERROR_ATTR, "")) or (f"pruned at epoch {attrs[PRUNED_AT_EPOCH]}"
                                                   if PRUNED_AT_EPOCH in attrs else "")
        rows.append(TrialRow(trial.number, experiment_name(study.study_name, trial.number), trial.state.name.lower(),
                             trial.value, dict(trial.params), note))
    return rows


def importances(study: Any) -> tuple[dict[str, float], str | None]:
    """Optuna's parameter importances, or ``({}, why not)`` when there are too few complete trials to tell."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}, f"importances need at least 2 complete trials (have {len(complete)})"
    try:
        return dict(optuna.importance.get_param_importances(study)), None
    except (RuntimeError, ValueError) as exc:  # e.g. every trial drew the same values
        return {}, f"importances not computable: {exc}"
