"""How much of a figure is noise: bootstrap intervals over targets, chance and oracle references, paired differences.

A test set is a sample of targets, so every figure computed on it is an
estimate. Here (docs/ARCHITECTURE.md, "Evaluate"):

* :func:`bootstrap_intervals`: 95% percentile intervals from resampling the
  *targets* with replacement (a target keeps all its models), seeded, for the
  ranking loss, per-target and pooled Spearman, pooled Pearson and the top-k
  hit counts. The figures of a resample are computed exactly as the point
  estimates (:func:`set_figures` on the identity resample *is* the point
  estimate).
* :func:`reference_figures`: where a model sits between chance and perfect,
  computed exactly (not sampled): the expected ranking loss of a random pick
  per target (best true DockQ minus the mean true DockQ of the target's models,
  averaged over targets), the oracle's (0), the expected top-k hit counts of a
  random top-k (hypergeometric: ``k' · K / n`` per target, ``k' = min(k, n)``
  picks among ``n`` models of which ``K`` are hits) and the oracle's
  (``min(k, K)`` per target).
* :func:`paired_differences`: two prediction sets on the same models, both
  scored on the *same* resampled targets; the difference ``a − b`` with its
  interval, "within noise" when the interval contains 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphqa.evaluation.metrics import (
    as_array,
    pearson,
    per_target_spearman_values,
    ranking_loss_values,
    spearman,
    target_groups,
    threshold_key,
    top_k_hits,
)

LEVEL = 0.95
# The figures that get an interval, in report order; hit counts follow as hits@<t>.
INTERVAL_FIGURES = ("ranking_loss", "per_target_spearman", "spearman", "pearson")


@dataclass(frozen=True)
class TargetFigures:
    """One prediction set's per-target quantities, from which any resample's figures follow."""

    pred: np.ndarray
    true: np.ndarray
    groups: list[np.ndarray]  # each target's model positions
    ranking_loss: np.ndarray  # [targets]
    spearman: np.ndarray  # [targets], nan where a target is skipped
    hits: dict[str, np.ndarray]  # "hits@<t>" -> [targets]

    @classmethod
    def of(cls, pred: Any, true: Any, target_index: Any, thresholds: Sequence[float], top_k: int) -> TargetFigures:
        p, t = as_array(pred), as_array(true)
        return cls(
            pred=p, true=t, groups=target_groups(target_index, p.size),
            ranking_loss=ranking_loss_values(p, t, target_index),
            spearman=per_target_spearman_values(p, t, target_index),
            hits={f"hits@{threshold_key(th)}": top_k_hits(p, t, target_index, th, top_k).astype(np.float64)
                  for th in thresholds},
        )

    @property
    def n_targets(self) -> int:
        return len(self.groups)


def set_figures(figures: TargetFigures, sample: np.ndarray) -> dict[str, float]:
    """The figures of the targets in ``sample`` (indices, repeats allowed), as :func:`compute_metrics` defines them."""
    valid = figures.spearman[sample]
    valid = valid[~np.isnan(valid)]
    models = np.concatenate([figures.groups[i] for i in sample]) if len(sample) else np.empty(0, dtype=np.int64)
    pred, true = figures.pred[models], figures.true[models]
    return {
        "ranking_loss": float(figures.ranking_loss[sample].mean()) if len(sample) else math.nan,
        "per_target_spearman": float(valid.mean()) if valid.size else math.nan,
        "spearman": spearman(pred, true),
        "pearson": pearson(pred, true),
        **{key: float(counts[sample].sum()) for key, counts in figures.hits.items()},
    }


def resample_targets(n_targets: int, resamples: int, seed: int) -> np.ndarray:
    """``[resamples, n_targets]`` target indices drawn with replacement (numpy's PCG64, seeded)."""
    if n_targets < 1 or resamples < 1:
        raise ValueError(f"bootstrap needs >= 1 target and >= 1 resample, got {n_targets} and {resamples}")
    return np.random.default_rng(seed).integers(0, n_targets, size=(resamples, n_targets))


def percentile_interval(values: Sequence[float]) -> tuple[float, float]:
    """The central 95% of ``values`` (numpy's linear percentiles; ``nan`` values ignored; all-nan: nan, nan)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if not v.size:
        return math.nan, math.nan
    tail = (1.0 - LEVEL) / 2 * 100
    low, high = np.percentile(v, [tail, 100 - tail])
    return float(low), float(high)


def _resampled(figures: TargetFigures, samples: np.ndarray) -> dict[str, np.ndarray]:
    rows = [set_figures(figures, sample) for sample in samples]
    return {key: np.asarray([r[key] for r in rows]) for key in rows[0]}


def bootstrap_intervals(figures: TargetFigures, resamples: int, seed: int) -> dict[str, dict[str, float]]:
    """``{figure: {"low", "high"}}``: 95% bootstrap intervals over targets (see the module docstring)."""
    draws = _resampled(figures, resample_targets(figures.n_targets, resamples, seed))
    return {key: dict(zip(("low", "high"), percentile_interval(values), strict=True)) for key, values in draws.items()}


def reference_figures(true: Any, target_index: Any, thresholds: Sequence[float], top_k: int) -> dict[str, dict[str, float]]:
    """Exact chance and oracle figures of a labelled set: ``{"random": {...}, "oracle": {...}}``.

    ``random``: ``ranking_loss`` of a uniformly random top-1 per target and the
    expected ``hits@<t>`` of a uniformly random top-k; ``oracle``: a perfect
    ranking (ranking loss 0, every hit that fits in the top k).
    """
    t = as_array(true)
    groups = target_groups(target_index, t.size)
    random_loss = [float(t[g].max() - t[g].mean()) for g in groups]
    random: dict[str, float] = {"ranking_loss": float(np.mean(random_loss)) if groups else math.nan}
    oracle: dict[str, float] = {"ranking_loss": 0.0 if groups else math.nan}
    for threshold in thresholds:
        key = f"hits@{threshold_key(threshold)}"
        good = [(int(np.sum(t[g] >= threshold)), g.size) for g in groups]
        random[key] = float(sum(min(top_k, n) * k / n for k, n in good))
        oracle[key] = float(sum(min(top_k, k) for k, _ in good))
    return {"random": random, "oracle": oracle}


def paired_differences(a: TargetFigures, b: TargetFigures, resamples: int, seed: int) -> dict[str, dict[str, Any]]:
    """``a − b`` for each figure, both scored on the same resampled targets.

    Returns ``{figure: {"difference", "low", "high", "within_noise"}}``;
    ``within_noise`` is true when the 95% interval contains 0 (``None`` when
    the difference is undefined). ``a`` and ``b`` must be predictions of the same models.
    """
    if a.n_targets != b.n_targets or not np.array_equal(a.true, b.true, equal_nan=True):
        raise ValueError("paired comparison needs two prediction sets of the same labelled models")
    samples = resample_targets(a.n_targets, resamples, seed)
    identity = np.arange(a.n_targets)
    point_a, point_b = set_figures(a, identity), set_figures(b, identity)
    draws_a, draws_b = _resampled(a, samples), _resampled(b, samples)
    out: dict[str, dict[str, Any]] = {}
    for key in point_a:
        low, high = percentile_interval(draws_a[key] - draws_b[key])
        difference = point_a[key] - point_b[key]
        within = None if math.isnan(low) or math.isnan(difference) else bool(low <= 0.0 <= high)
        out[key] = {"difference": difference, "low": low, "high": high, "within_noise": within}
    return out


def describe_difference(name: str, figure: str, diff: dict[str, Any], lower_is_better: bool) -> str:
    """One plain line: ``final − sweep_winner ranking_loss: -0.0120 (95% CI -0.0500 to 0.0300): within noise``."""
    head = f"{name} {figure}: {diff['difference']:+.4f} (95% CI {diff['low']:+.4f} to {diff['high']:+.4f})"
    if diff["within_noise"] is None:
        return f"{head}: undefined"
    if diff["within_noise"]:
        return f"{head}: within noise (the interval contains 0)"
    better = (diff["difference"] < 0) == lower_is_better
    return f"{head}: {'better' if better else 'worse'} beyond noise"


def hits_text(hits: dict[str, float], thresholds: Sequence[float]) -> str:
    """Hit counts in TopoQA's format, thresholds in order: ``62/30/6`` (expected counts with one decimal)."""
    values = [hits.get(f"hits@{threshold_key(t)}", math.nan) for t in thresholds]
    return "/".join("nan" if math.isnan(v) else f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}" for v in values)


def set_uncertainty(pred: Any, true: Any, target_index: Any, thresholds: Sequence[float], top_k: int,
                    resamples: int, seed: int) -> dict[str, Any]:
    """A labelled set's intervals and references, JSON-ready: what the headline and ``graphqa score`` add."""
    intervals = bootstrap_intervals(TargetFigures.of(pred, true, target_index, thresholds, top_k), resamples, seed)
    references = reference_figures(true, target_index, thresholds, top_k)
    for figures in references.values():
        figures["hits"] = hits_text(figures, thresholds)
    return {"intervals": intervals, "references": references,
            "bootstrap": {"resamples": int(resamples), "seed": int(seed), "level": LEVEL, "over": "targets"}}
