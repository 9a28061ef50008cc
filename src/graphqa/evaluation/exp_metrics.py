"""The few figures ``dvc exp show`` leads with: ``eval/metrics.json`` (and ``scored/metrics.json``).

``dvc exp show`` puts metrics columns before params, file by file, in the order DVC
lists the files (stage ``metrics:`` first, then the top-level ``metrics:``), each file's
keys in file order, and collapses what does not fit the terminal. So ``dvc.yaml``
declares exactly one small file per evaluating stage as metrics, its keys in the order
a reader compares runs: the final candidate, test Spearman, ranking loss, per-target
Spearman, top-k hit counts per DockQ threshold, validation selection score. The
full detail (intervals, references, every candidate, every run's summary) stays in
cached outputs: ``eval/headline.json``, ``eval/candidates.json``, ``runs/**/summary.json``
(docs/ARCHITECTURE.md, "What dvc exp show shows"). Key names are the headline's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

METRICS_FILE = "metrics.json"
# score_model's figures sit under this key (columns ``given_model.test_spearman`` …), so they never
# share a name with evaluate's: DVC would prefix every shared column with its file path.
GIVEN_MODEL_KEY = "given_model"


def headline_columns(thresholds: Sequence[float]) -> list[str]:
    """The headline keys ``dvc exp show`` shows first, in order."""
    # ranking loss before per-target Spearman: both pooled figures fit a 120-column screen beside a long
    # experiment name ("└── 1a2b3c4 [other-bootstrap]")
    return ["final_candidate", "test_spearman", "test_ranking_loss", "test_per_target_spearman",
            *(f"test_hits@{t:g}" for t in thresholds), "final_val_selection"]


def exp_show_metrics(headline: Mapping[str, Any], thresholds: Sequence[float]) -> dict[str, Any]:
    """The headline's leading figures, in :func:`headline_columns` order (``KeyError`` names a missing one)."""
    metrics = {key: headline[key] for key in headline_columns(thresholds)}
    for key in (k for k in metrics if k.startswith("test_hits@")):
        value = metrics[key]
        # counts are whole numbers: 6, not 6.0 (null stays null)
        metrics[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    return metrics


def given_model_metrics(headline: Mapping[str, Any], thresholds: Sequence[float]) -> dict[str, Any]:
    """score_model's figures, nested under :data:`GIVEN_MODEL_KEY` (the candidate is always the given model)."""
    metrics = exp_show_metrics(headline, thresholds)
    metrics.pop("final_candidate")
    return {GIVEN_MODEL_KEY: metrics}
