"""The selection score that ranks checkpoints and sweep members (lower is better)."""

from __future__ import annotations

import math

from graphqa.config import SelectionParams


def selection_score(val_loss: float, val_spearman: float, sel: SelectionParams) -> float:
    """``val_loss − spearman_weight · max(0, val_spearman − spearman_min_delta)``.

    With ``sel.use_val_spearman`` false the score is ``val_loss``. A ``nan``
    Spearman (constant predictions, a single model) earns no bonus. A
    non-finite ``val_loss`` gives ``inf`` so a diverged run never ranks first.
    """
    val_loss = float(val_loss)
    if not math.isfinite(val_loss):
        return math.inf
    if not sel.use_val_spearman:
        return val_loss
    rho = float(val_spearman)
    bonus = 0.0 if math.isnan(rho) else max(0.0, rho - sel.spearman_min_delta)
    return val_loss - sel.spearman_weight * bonus
