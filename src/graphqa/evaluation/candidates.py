"""Evaluate the pipeline's candidates and choose the final model.

Candidates: the sweep winner, fine-tune phase 1, each phase-2 seed and the
phase-2 ensemble (mean prediction). Each is scored on validation and test;
the final model is the one with the best (lowest) validation selection score,
so the test set never influences the choice.

The headline (``eval/headline.json``) leads with the final model's point
estimates and then says how far to trust them (docs/ARCHITECTURE.md,
"Evaluate"): bootstrap intervals over test targets, the random-pick and
oracle references, the spread over phase-2 seeds, and paired differences of
the final model against the sweep winner and against the untuned baseline
sweep member (:mod:`graphqa.evaluation.uncertainty`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.config import Params, member_id
from graphqa.evaluation.report import json_safe, per_target_rows, prediction_rows
from graphqa.evaluation.uncertainty import (
    TargetFigures,
    describe_difference,
    hits_text,
    paired_differences,
    set_uncertainty,
)
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
    batch_size = params.runtime.eval_batch_size
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


# Figures compared between models (seed spread, paired differences), and whether lower is better.
COMPARED_FIGURES: dict[str, bool] = {"ranking_loss": True, "per_target_spearman": False, "spearman": False,
                                     "pearson": False}
UNTUNED_VARIANT = "baseline"


def untuned_baseline(params: Params, sweep_runs: Path) -> Candidate | None:
    """The sweep member ``baseline-<first sweep seed>``: one run with the default params, untuned.

    ``None`` (and a warning) when the sweep has no ``baseline`` variant or its checkpoint is missing.
    """
    from graphqa.runs.run_dir import RunDir

    if UNTUNED_VARIANT not in params.sweep.variants:
        log.warning("no %r variant in sweep.variants: the final model is not compared with an untuned run",
                    UNTUNED_VARIANT)
        return None
    member = member_id(UNTUNED_VARIANT, params.sweep.seeds[0])
    checkpoint = RunDir(sweep_runs / member).best_checkpoint
    if not checkpoint.is_file():
        log.warning("%s not found: the final model is not compared with the untuned run %s", checkpoint, member)
        return None
    return Candidate(f"untuned_{member}", (checkpoint,))


def seed_spread(results: Sequence[CandidateResult], thresholds: Sequence[float]) -> dict[str, Any] | None:
    """Mean ± sd (n − 1) of the phase-2 seeds' test figures; ``None`` without phase-2 seeds."""
    seeds = [r for r in results if r.candidate.name.startswith("phase2_seed")]
    if not seeds:
        return None
    keys = [*COMPARED_FIGURES, *(k for k in seeds[0].test_metrics if k.startswith("hits@"))]
    out: dict[str, Any] = {"candidates": [r.candidate.name for r in seeds]}
    for key in keys:
        values = np.asarray([r.test_metrics[key] for r in seeds], dtype=np.float64)
        out[f"test_{key}"] = {"mean": float(np.mean(values)),
                              "sd": float(np.std(values, ddof=1)) if len(values) > 1 else math.nan,
                              "values": values.tolist()}
    return out


def paired_comparison(final: CandidateResult, other: CandidateResult | None, test_store: Any,
                      params: Params) -> dict[str, Any] | None:
    """Final − other on the test set (same resampled targets), logged in plain words; ``None`` without ``other``."""
    if other is None:
        return None
    ev = params.evaluate
    true, targets = test_store.y.numpy(), test_store.target_index.numpy()
    figures = [TargetFigures.of(r.test_pred, true, targets, ev.hit_thresholds, ev.top_k) for r in (final, other)]
    differences = paired_differences(*figures, ev.bootstrap_resamples, ev.bootstrap_seed)
    name = f"{final.candidate.name} - {other.candidate.name}"
    if final.candidate == other.candidate:
        log.info("%s: the same model, no difference", name)
    else:
        for figure, lower_is_better in COMPARED_FIGURES.items():
            log.info("test %s", describe_difference(name, figure, differences[figure], lower_is_better))
    return {"final": final.candidate.name, "other": other.candidate.name,
            **{f"test_{k}": v for k, v in differences.items()}}


def _uncertainty_headline(results: Sequence[CandidateResult], final: CandidateResult, test_store: Any,
                          params: Params, baseline: CandidateResult | None) -> dict[str, Any]:
    """What follows the point estimates in the headline: intervals, references, seed spread, paired differences."""
    ev = params.evaluate
    summary = set_uncertainty(final.test_pred, test_store.y.numpy(), test_store.target_index.numpy(),
                              ev.hit_thresholds, ev.top_k, ev.bootstrap_resamples, ev.bootstrap_seed)
    intervals = {f"test_{k}": v for k, v in summary["intervals"].items()}
    for key, interval in intervals.items():
        log.info("%-28s %.4f  (95%% CI %.4f to %.4f)", key, final.test_metrics[key[5:]], interval["low"],
                 interval["high"])
    refs = summary["references"]
    log.info("test ranking loss %.4f; a random pick per target: %.4f, the oracle: 0; top-%d hits %s "
             "(random %s, oracle %s)", final.test_metrics["ranking_loss"], refs["random"]["ranking_loss"], ev.top_k,
             hits_text(final.test_metrics, ev.hit_thresholds), refs["random"]["hits"], refs["oracle"]["hits"])
    winner = next((r for r in results if r.candidate.name == "sweep_winner"), None)
    return {
        "intervals": intervals,
        "references": {name: {f"test_{k}": v for k, v in figures.items()} for name, figures in refs.items()},
        "seed_spread": seed_spread(results, ev.hit_thresholds),
        "paired": {"final_vs_sweep_winner": paired_comparison(final, winner, test_store, params),
                   "final_vs_untuned_baseline": paired_comparison(final, baseline, test_store, params)},
        "bootstrap": summary["bootstrap"],
    }


def write_evaluation(results: Sequence[CandidateResult], final: CandidateResult, test_store: Any, params: Params,
                     out_dir: Path, sweep_winner_selection: float | None,
                     baseline: CandidateResult | None = None) -> dict[str, Any]:
    """Predictions, per-target table, plot data, candidate metrics and the headline.

    ``baseline`` (the untuned sweep member, scored but never chosen) is compared with the final model.
    """
    test = final.test_metrics
    thresholds = params.evaluate.hit_thresholds
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
        # Point estimates added with the uncertainty: counts do not saturate as rates do.
        **{f"test_{k}": v for k, v in test.items() if k.startswith("hits@")},
        "test_hits": hits_text(test, thresholds),
        "test_targets": len(test_store.target_names),
        "test_models": len(test_store.names),
        **_uncertainty_headline(results, final, test_store, params, baseline),
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
         "hit_rate": r.test_metrics.get(f"hit_rate@{t:g}", math.nan),
         "hits": r.test_metrics.get(f"hits@{t:g}", math.nan)}
        for r in results for t in thresholds
    ]))
    references = headline["references"]
    write_text(plots / "hit_counts.csv", csv_text([
        {"label": f"{name} DockQ>={t:g}", "candidate": name, "threshold": t, "hits": figures[f"test_hits@{t:g}"]}
        for name, figures in [*((r.candidate.name, {f"test_{k}": v for k, v in r.test_metrics.items()})
                                for r in results), ("random", references["random"]), ("oracle", references["oracle"])]
        for t in thresholds
    ]))
    scored = [*results, *([baseline] if baseline is not None else [])]
    write_json(out_dir / "candidates.json", json_safe({
        r.candidate.name: {"val_selection": r.val_selection,
                           **{f"val_{k}": v for k, v in r.val_metrics.items()},
                           **{f"test_{k}": v for k, v in r.test_metrics.items()},
                           "test_hits": hits_text(r.test_metrics, thresholds)}
        for r in scored
    }))
    if params.evaluate.submission:
        write_text(out_dir / "submission.csv", csv_text([
            {"MODEL": r["MODEL"], "PRED_DOCKQ": r["PRED_DOCKQ"]} for r in prediction_rows(test_store, final.test_pred)
        ]))
    headline = json_safe(headline)
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
    sweep_runs: Path = Path("runs/sweep")  # where the untuned baseline member's run dir is


def evaluate_pipeline(params: Params, paths: PipelinePaths, device: str = "auto") -> dict[str, Any]:
    """The evaluate stage: score every candidate, choose the final model by validation, export it.

    Returns the headline. (Scoring one given model without training is the ``score_model`` stage's:
    :mod:`graphqa.evaluation.given_model`.)
    """
    from graphqa.data import PackedGraphStore
    from graphqa.inference.device import resolve_device
    from graphqa.runs.leaderboard import read_winner

    candidates = pipeline_candidates(paths.sweep_ckpt, paths.phase1, paths.phase2, params.finetune.phase2.seeds)
    winner_score = read_winner(paths.winner).score
    baseline = untuned_baseline(params, paths.sweep_runs)
    val_store = PackedGraphStore.open(paths.packed / "val")
    test_store = PackedGraphStore.open(paths.packed / "test")
    # The untuned baseline is scored with the candidates (each checkpoint runs once) but is never chosen.
    results = evaluate_candidates([*candidates, *([baseline] if baseline else [])], val_store, test_store, params,
                                  resolve_device(device))
    baseline_result = results.pop() if baseline else None
    final = choose_final(results)
    headline = write_evaluation(results, final, test_store, params, paths.out, winner_score, baseline_result)
    Predictor.from_checkpoints(final.candidate.checkpoints).export(
        paths.model_out, paths.schema,
        {"candidate": final.candidate.name, "val_selection": final.val_selection,
         "test_spearman": headline["test_spearman"], "test_ranking_loss": headline["test_ranking_loss"]},
    )
    log.info("%s", closing_line(final, results, params, paths.model_out))
    return headline


def closing_line(final: CandidateResult, results: Sequence[CandidateResult], params: Params, model_out: Path) -> str:
    """The evaluate stage's last line: the chosen model, why, and its headline test figures."""
    test = final.test_metrics
    return (f"evaluate: final model {final.candidate.name} (lowest validation selection score, "
            f"{final.val_selection:.4f}, of {len(results)} candidates; the test set played no part) -> {model_out}; "
            f"test ranking loss {test['ranking_loss']:.3f}, per-target spearman {test['per_target_spearman']:.3f}, "
            f"spearman {test['spearman']:.3f}, top-{params.evaluate.top_k} hits "
            f"{hits_text(test, params.evaluate.hit_thresholds)}")
