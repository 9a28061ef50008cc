"""Evaluate the pipeline's candidates and choose the final model.

Candidates: the sweep winner, fine-tune phase 1, each phase-2 seed and the
phase-2 ensemble (mean prediction). Each is scored on validation and test;
the final model is the one with the best (lowest) validation selection score,
so the test set never influences the choice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.config import Params
from graphqa.io import csv_text, write_json, write_text
from graphqa.scoring_model import ScoringModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A model the pipeline could ship: one checkpoint, or several averaged."""

    name: str
    checkpoints: tuple[Path, ...]


@dataclass
class CandidateResult:
    candidate: Candidate
    val_metrics: dict[str, float]
    test_metrics: dict[str, float]
    val_selection: float
    test_pred: np.ndarray


def pipeline_candidates(sweep_ckpt: Path, phase1_dir: Path, phase2_dir: Path, seeds: Sequence[int]) -> list[Candidate]:
    """The candidates of DESIGN.md §4, in pipeline order. Missing checkpoints are an error."""
    phase2 = [(seed, phase2_dir / str(seed) / "checkpoints" / "best.ckpt") for seed in seeds]
    candidates = [
        Candidate("sweep_winner", (sweep_ckpt,)),
        Candidate("phase1", (phase1_dir / "checkpoints" / "best.ckpt",)),
        *(Candidate(f"phase2_seed{seed}", (path,)) for seed, path in phase2),
    ]
    if len(phase2) > 1:
        candidates.append(Candidate("phase2_ensemble", tuple(path for _, path in phase2)))
    missing = sorted({str(p) for c in candidates for p in c.checkpoints if not p.is_file()})
    if missing:
        raise FileNotFoundError(f"checkpoints missing for evaluation: {', '.join(missing)}")
    return candidates


def _metrics(pred: np.ndarray, store: Any, params: Params) -> dict[str, float]:
    from graphqa.metrics import compute_metrics

    return compute_metrics(pred, store.y.numpy(), store.target_index.numpy(),
                           thresholds=params.evaluate.hit_thresholds, top_k=params.evaluate.top_k)


def evaluate_candidates(candidates: Sequence[Candidate], val_store: Any, test_store: Any, params: Params,
                        device: str = "cpu") -> list[CandidateResult]:
    """Score every candidate on validation and test; each checkpoint is run once."""
    from graphqa.selection import selection_score

    cache: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    batch_size = params.data.eval_batch_size
    for path in dict.fromkeys(p for c in candidates for p in c.checkpoints):
        model = ScoringModel.from_checkpoints([path])
        cache[path] = (model.predict(val_store, batch_size, device), model.predict(test_store, batch_size, device))
    results = []
    for candidate in candidates:
        # Mean in float64, cast once: the same arithmetic as ScoringModel.predict.
        val_pred = np.mean([cache[p][0].astype(np.float64) for p in candidate.checkpoints], axis=0).astype(np.float32)
        test_pred = np.mean([cache[p][1].astype(np.float64) for p in candidate.checkpoints], axis=0).astype(np.float32)
        val_metrics = _metrics(val_pred, val_store, params)
        score = selection_score(val_metrics["loss"], val_metrics["spearman"], params.selection)
        results.append(CandidateResult(candidate, val_metrics, _metrics(test_pred, test_store, params), score,
                                       test_pred))
        log.info("%-18s val selection %.4f  test spearman %.3f  test ranking loss %.3f", candidate.name, score,
                 results[-1].test_metrics["spearman"], results[-1].test_metrics["ranking_loss"])
    return results


def choose_final(results: Sequence[CandidateResult]) -> CandidateResult:
    """Lowest validation selection score wins (ties: the earlier, simpler candidate)."""
    return min(results, key=lambda r: (math.isnan(r.val_selection), r.val_selection))


def prediction_rows(store: Any, pred: np.ndarray) -> list[dict[str, Any]]:
    """TARGET, MODEL, PRED_DOCKQ, TRUE_DOCKQ, RANK (1 = best predicted within its target)."""
    targets = [store.target_names[i] for i in store.target_index.tolist()]
    return ranked_rows(targets, list(store.names), pred, store.y.tolist())


def ranked_rows(targets: Sequence[str], models: Sequence[str], pred: Any,
                true: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Rows TARGET, MODEL, PRED_DOCKQ[, TRUE_DOCKQ], RANK, sorted by target then rank.

    RANK 1 is the best predicted model of its target; ties go to the model name.
    ``true`` is optional (new graphs have no labels); ``nan`` labels stay ``nan``.
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1).tolist()
    rows: list[dict[str, Any]] = [{"TARGET": t, "MODEL": m, "PRED_DOCKQ": float(p)}
                                  for t, m, p in zip(targets, models, pred, strict=True)]
    if true is not None:
        for row, y in zip(rows, list(true), strict=True):
            row["TRUE_DOCKQ"] = float(y)
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
    from graphqa.metrics import compute_metrics

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
                     **{k: v for k, v in m.items() if k.startswith("hits@")}})
    return rows


def write_evaluation(results: Sequence[CandidateResult], final: CandidateResult, test_store: Any, params: Params,
                     out_dir: Path, sweep_winner_selection: float | None) -> dict[str, Any]:
    """Predictions, per-target table, plot data, candidate metrics and the headline."""
    test = final.test_metrics
    headline = {
        "final_candidate": final.candidate.name,
        "sweep_winner_val_selection": sweep_winner_selection,
        "final_val_selection": final.val_selection,
        "test_loss": test["loss"],
        "test_mae": test["mae"],
        "test_pearson": test["pearson"],
        "test_spearman": test["spearman"],
        "test_per_target_spearman": test["per_target_spearman"],
        "test_ranking_loss": test["ranking_loss"],
        **{f"test_{k}": v for k, v in test.items() if k.startswith("hit_rate@")},
    }
    write_text(out_dir / "predictions.csv", csv_text(prediction_rows(test_store, final.test_pred)))
    per_target = per_target_rows(final.test_pred, test_store.y.numpy(), test_store.target_index.numpy(),
                                 test_store.target_names, params.evaluate.hit_thresholds, params.evaluate.top_k)
    write_text(out_dir / "per_target.csv", csv_text(per_target))
    plots = out_dir / "plots"
    write_text(plots / "test_scatter.csv", csv_text([
        {k: r[k] for k in ("TARGET", "MODEL", "TRUE_DOCKQ", "PRED_DOCKQ")}
        for r in prediction_rows(test_store, final.test_pred)
    ]))
    write_text(plots / "per_target_ranking_loss.csv",
               csv_text([{"target": r["target"], "ranking_loss": r["ranking_loss"]} for r in per_target]))
    write_text(plots / "hit_rates.csv", csv_text([
        {"label": f"{r.candidate.name} DockQ>={t:g}", "candidate": r.candidate.name, "threshold": t,
         "hit_rate": r.test_metrics.get(f"hit_rate@{t:g}", math.nan)}
        for r in results for t in params.evaluate.hit_thresholds
    ]))
    write_json(out_dir / "candidates.json", {
        r.candidate.name: {"val_selection": r.val_selection,
                           **{f"val_{k}": v for k, v in r.val_metrics.items()},
                           **{f"test_{k}": v for k, v in r.test_metrics.items()}}
        for r in results
    })
    if params.evaluate.submission:
        write_text(out_dir / "submission.csv", csv_text([
            {"MODEL": r["MODEL"], "PRED_DOCKQ": r["PRED_DOCKQ"]} for r in prediction_rows(test_store, final.test_pred)
        ]))
    write_json(out_dir / "headline.json", headline)
    return headline
