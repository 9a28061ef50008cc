"""Metrics of one prediction set, pooled and per target, and the predictions file graphqa writes."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.config import EvaluateParams
from graphqa.evaluation.metrics import DEFAULT_THRESHOLDS, DEFAULT_TOP_K
from graphqa.evaluation.predictions_file import PredictionTable, ScoringError, float32_value, read_predictions

log = logging.getLogger(__name__)

# One definition: params.yaml's evaluate section.
DEFAULT_RESAMPLES: int = EvaluateParams().bootstrap_resamples
DEFAULT_BOOTSTRAP_SEED: int = EvaluateParams().bootstrap_seed

# The predictions file graphqa writes (eval/predictions.csv, graphqa predict); TRUE_DOCKQ only where labels are known.
OUTPUT_COLUMNS = ("TARGET", "MODEL", "PRED_DOCKQ", "TRUE_DOCKQ", "RANK")


@dataclass
class ScoreReport:
    """Pooled metrics and the per-target table of one prediction set."""

    source: str
    n_models: int
    n_targets: int
    n_unlabelled: int
    thresholds: list[float]
    top_k: int
    pooled: dict[str, float]
    per_target: list[dict[str, Any]] = field(default_factory=list)
    # graphqa.evaluation.uncertainty.set_uncertainty: intervals, references (random, oracle), bootstrap settings.
    uncertainty: dict[str, Any] = field(default_factory=dict)

    @property
    def hits(self) -> str:
        """The set's top-k hit counts in TopoQA's format (``62/30/6``)."""
        from graphqa.evaluation.uncertainty import hits_text

        return hits_text(self.pooled, self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``nan`` becomes ``null``); the point estimates stay under ``pooled``."""
        return json_safe({
            "source": self.source, "n_models": self.n_models, "n_targets": self.n_targets,
            "n_unlabelled": self.n_unlabelled, "thresholds": self.thresholds, "top_k": self.top_k,
            "pooled": self.pooled, "hits": self.hits, **self.uncertainty, "per_target": self.per_target,
        })


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as ``None`` (JSON has no NaN; strict parsers refuse the token)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def score_table(table: PredictionTable, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                top_k: int = DEFAULT_TOP_K, resamples: int = DEFAULT_RESAMPLES,
                seed: int = DEFAULT_BOOTSTRAP_SEED) -> ScoreReport:
    """Metrics over the labelled models: pooled (``compute_metrics``), per target, with intervals and references."""
    from graphqa.evaluation.metrics import compute_metrics
    from graphqa.evaluation.uncertainty import set_uncertainty

    mask = table.labelled
    n_unlabelled = int((~mask).sum())
    if not mask.any():
        raise ScoringError(f"{table.source}: none of the {len(mask)} models has a label")
    if n_unlabelled:
        missing = [m for m, ok in zip(table.models, mask.tolist(), strict=True) if not ok]
        log.warning("%s: %d model(s) without a label are not scored: %s%s", table.source, n_unlabelled,
                    ", ".join(missing[:5]), " …" if n_unlabelled > 5 else "")
    targets = [t for t, ok in zip(table.targets, mask.tolist(), strict=True) if ok]
    names = list(dict.fromkeys(targets))
    index = {name: i for i, name in enumerate(names)}
    target_index = np.asarray([index[t] for t in targets], dtype=np.int64)
    pred, true = table.pred[mask], table.true[mask]
    pooled = compute_metrics(pred, true, target_index, thresholds=thresholds, top_k=top_k)
    per_target = per_target_rows(pred, true, target_index, names, thresholds, top_k)
    uncertainty = set_uncertainty(pred, true, target_index, thresholds, top_k, resamples, seed)
    return ScoreReport(str(table.source), int(mask.sum()), len(names), n_unlabelled, [float(t) for t in thresholds],
                       int(top_k), pooled, per_target, uncertainty)


def score_predictions(path: Path | str, labels: Path | str | None = None,
                      thresholds: Sequence[float] = DEFAULT_THRESHOLDS, top_k: int = DEFAULT_TOP_K,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_BOOTSTRAP_SEED) -> ScoreReport:
    """Read ``path`` (joined with ``labels``) and score it."""
    return score_table(read_predictions(path, labels), thresholds, top_k, resamples, seed)


def prediction_rows(store: Any, pred: np.ndarray) -> list[dict[str, Any]]:
    """TARGET, MODEL, PRED_DOCKQ, TRUE_DOCKQ, RANK (1 = best predicted within its target)."""
    targets = [store.target_names[i] for i in store.target_index.tolist()]
    return ranked_rows(targets, list(store.names), pred, store.y.tolist())


def ranked_rows(targets: Sequence[str], models: Sequence[str], pred: Any,
                true: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Rows TARGET, MODEL, PRED_DOCKQ[, TRUE_DOCKQ], RANK, sorted by target then rank.

    RANK 1 is the best predicted model of its target; ties go to the model name.
    ``true`` is optional (new graphs have no labels); ``nan`` labels stay ``nan``. Values are float32
    written as such (:func:`~graphqa.evaluation.predictions_file.float32_value`: 0.553, not 0.5529999732971191).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1).tolist()
    rows: list[dict[str, Any]] = [{"TARGET": t, "MODEL": m, "PRED_DOCKQ": float32_value(p)}
                                  for t, m, p in zip(targets, models, pred, strict=True)]
    if true is not None:
        for row, y in zip(rows, list(true), strict=True):
            row["TRUE_DOCKQ"] = float32_value(y)
    by_target: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_target.setdefault(row["TARGET"], []).append(row)
    for group in by_target.values():
        for rank, row in enumerate(sorted(group, key=lambda r: (-r["PRED_DOCKQ"], r["MODEL"])), start=1):
            row["RANK"] = rank
    return sorted(rows, key=lambda r: (r["TARGET"], r["RANK"]))


def per_target_rows(pred: np.ndarray, true: np.ndarray, target_index: np.ndarray, target_names: Sequence[str],
                    thresholds: Sequence[float], top_k: int) -> list[dict[str, Any]]:
    """The metric set of each target alone (the same pure functions as pooled)."""
    from graphqa.evaluation.metrics import compute_metrics
    from graphqa.evaluation.uncertainty import hits_text

    rows = []
    for t, name in enumerate(target_names):
        mask = target_index == t
        if not mask.any():
            continue
        m = compute_metrics(pred[mask], true[mask], np.zeros(int(mask.sum()), dtype=np.int64),
                            thresholds=thresholds, top_k=top_k)
        rows.append({"target": name, "n_models": int(mask.sum()), "spearman": m["spearman"],
                     "ranking_loss": m["ranking_loss"], "best_true_dockq": float(true[mask].max()),
                     "top1_true_dockq": float(true[mask][np.argmax(pred[mask])]),
                     **{k: v for k, v in m.items() if k.startswith("hits@")}, "hits": hits_text(m, thresholds)})
    return rows


def prediction_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The predictions file: TARGET, MODEL, PRED_DOCKQ[, TRUE_DOCKQ], RANK (eval/predictions.csv, graphqa predict)."""
    from graphqa.io import csv_text

    if not rows:
        return ",".join(c for c in OUTPUT_COLUMNS if c != "TRUE_DOCKQ") + "\n"
    return csv_text(rows)
