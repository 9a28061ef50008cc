"""What a trial optimises: one of the trained member's best validation values (``hpo.objective``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from graphqa.hpo.errors import HpoError


@dataclass(frozen=True)
class Objective:
    name: str  # hpo.objective
    summary_key: str  # key of summary.json's "best" record (the member's best checkpoint)
    monitor: str  # the validation metric logged each epoch (pruning reports it)
    direction: str  # "minimize" | "maximize"

    def value(self, summary: dict[str, Any], where: str) -> float:
        """The objective from a run's summary.json, or HpoError saying why it has none."""
        status = summary.get("status")
        if status != "completed":
            raise HpoError(f"{where}: the run ended {status!r}, not 'completed'")
        value = (summary.get("best") or {}).get(self.summary_key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise HpoError(f"{where}: best.{self.summary_key} is {value!r}; expected a finite number")
        return float(value)


OBJECTIVES = {
    "score": Objective("score", "score", "val/selection", "minimize"),
    "val_loss": Objective("val_loss", "val_loss", "val/loss", "minimize"),
    "val_spearman": Objective("val_spearman", "val_spearman", "val/spearman", "maximize"),
    "val_per_target_spearman": Objective("val_per_target_spearman", "val_per_target_spearman",
                                         "val/per_target_spearman", "maximize"),
    "val_ranking_loss": Objective("val_ranking_loss", "val_ranking_loss", "val/ranking_loss", "minimize"),
}


def objective(name: str) -> Objective:
    return OBJECTIVES[name]  # hpo.objective is validated against the same names (graphqa.config.HPO_OBJECTIVES)
