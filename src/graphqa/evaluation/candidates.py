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
from graphqa.evaluation.report import per_target_rows, prediction_rows
from graphqa.inference.predictor import Predictor, ensemble_mean
from graphqa.io import csv_text, write_json, write_text

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
    """The candidates (docs/ARCHITECTURE.md, "Evaluate"), in pipeline order. Missing checkpoints are an error."""
    from graphqa.runs.run_dir import RunDir

    phase2 = [(seed, RunDir(phase2_dir / str(seed)).best_checkpoint) for seed in seeds]
    candidates = [
        Candidate("sweep_winner", (sweep_ckpt,)),
        Candidate("phase1", (RunDir(phase1_dir).best_checkpoint,)),
        *(Candidate(f"phase2_seed{seed}", (path,)) for seed, path in phase2),
    ]
    if len(phase2) > 1:
        candidates.append(Candidate("phase2_ensemble", tuple(path for _, path in phase2)))
    missing = sorted({str(p) for c in candidates for p in c.checkpoints if not p.is_file()})
    if missing:
        raise FileNotFoundError(f"checkpoints missing for evaluation: {', '.join(missing)}")
    return candidates


def _metrics(pred: np.ndarray, store: Any, params: Params) -> dict[str, float]:
    from graphqa.evaluation.metrics import compute_metrics

    return compute_metrics(pred, store.y.numpy(), store.target_index.numpy(),
                           thresholds=params.evaluate.hit_thresholds, top_k=params.evaluate.top_k)


def evaluate_candidates(candidates: Sequence[Candidate], val_store: Any, test_store: Any, params: Params,
                        device: str = "cpu") -> list[CandidateResult]:
    """Score every candidate on validation and test; each checkpoint is run once."""
    from graphqa.evaluation.selection import selection_score

    cache: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    batch_size = params.data.eval_batch_size
    for path in dict.fromkeys(p for c in candidates for p in c.checkpoints):
        model = Predictor.from_checkpoints([path])
        cache[path] = (model.predict(val_store, batch_size, device), model.predict(test_store, batch_size, device))
    results = []
    for candidate in candidates:
        val_pred = ensemble_mean([cache[p][0] for p in candidate.checkpoints])  # Predictor.predict's arithmetic
        test_pred = ensemble_mean([cache[p][1] for p in candidate.checkpoints])
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


@dataclass(frozen=True)
class PipelinePaths:
    """What the evaluate stage reads and writes (dvc.yaml passes each one)."""

    packed: Path
    schema: Path
    winner: Path
    sweep_ckpt: Path
    phase1: Path
    phase2: Path
    out: Path
    model_out: Path


def evaluate_pipeline(params: Params, paths: PipelinePaths, device: str = "auto") -> dict[str, Any]:
    """The evaluate stage: score every candidate, choose the final model by validation, export it.

    With ``evaluate.checkpoint`` set (``predict_only``) only that checkpoint is scored.
    Returns the headline.
    """
    from graphqa.data import PackedGraphStore
    from graphqa.inference.device import resolve_device
    from graphqa.runs.leaderboard import read_winner

    if params.evaluate.checkpoint:  # predict_only: score the given checkpoint alone
        given = Path(params.evaluate.checkpoint)
        if not given.is_file():
            raise FileNotFoundError(f"evaluate.checkpoint: {given} not found")
        candidates, winner_score = [Candidate("given_checkpoint", (given,))], None
    else:
        candidates = pipeline_candidates(paths.sweep_ckpt, paths.phase1, paths.phase2, params.finetune.phase2.seeds)
        winner_score = read_winner(paths.winner).score
    val_store = PackedGraphStore.open(paths.packed / "val")
    test_store = PackedGraphStore.open(paths.packed / "test")
    results = evaluate_candidates(candidates, val_store, test_store, params, resolve_device(device))
    final = choose_final(results)
    headline = write_evaluation(results, final, test_store, params, paths.out, winner_score)
    Predictor.from_checkpoints(final.candidate.checkpoints).export(
        paths.model_out, paths.schema,
        {"candidate": final.candidate.name, "val_selection": final.val_selection,
         "test_spearman": headline["test_spearman"], "test_ranking_loss": headline["test_ranking_loss"]},
    )
    return headline
