"""A trial's pruning: a Lightning callback that reports the monitored validation value to the study each epoch
and stops the run when the study's pruner says so.

Attached only when ``runtime.hpo_trial`` names a trial (``graphqa hpo run`` sets it on its trials when
``hpo.pruning`` is on): a run without it trains exactly as before. ``runtime`` is no stage's param, so a
pruned trial must not end as a normal run DVC would cache: it raises :class:`TrialPrunedError`, the stage
fails, nothing reaches the run-cache, and the driver records the trial as pruned (docs/ARCHITECTURE.md,
"Hyper-parameter search").
"""

from __future__ import annotations

import logging
import math
from typing import Any

from lightning.pytorch.callbacks import Callback

from graphqa.config import Params
from graphqa.hpo.reporting import MONITOR_ATTR, PRUNED_AT_EPOCH, running_trial

log = logging.getLogger(__name__)

class TrialPrunedError(RuntimeError):
    """The study pruned this trial: the run stops here (the stage fails on purpose, so DVC caches nothing)."""


class StudyPruning(Callback):
    """Report ``monitor`` after each validation and raise :class:`TrialPrunedError` when the trial is pruned."""

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial = trial
        self.monitor = monitor

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return  # the NaN guard owns non-finite values
        epoch = int(trainer.current_epoch)
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr(PRUNED_AT_EPOCH, epoch)
            raise TrialPrunedError(f"hpo: trial {self.trial.number} pruned by its study at epoch {epoch} "
                                   f"({self.monitor} {float(value):.4g} is behind the finished trials)")


def pruning_callbacks(params: Params) -> list[Callback]:
    """``[StudyPruning]`` when ``runtime.hpo_trial`` names a running trial, else ``[]``."""
    if params.runtime.hpo_trial is None:
        return []
    from graphqa.hpo.errors import require_optuna
    from graphqa.hpo.storage import find_study_db

    require_optuna()
    study_name, _, number = params.runtime.hpo_trial.rpartition("/")
    trial = running_trial(study_name, int(number), find_study_db(study_name))
    if trial is None:
        log.warning("hpo: trial %s of study %s is not running; training without reporting to it", number, study_name)
        return []
    return [StudyPruning(trial, str(trial.study.user_attrs.get(MONITOR_ATTR, "val/selection")))]
