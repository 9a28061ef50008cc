"""Quality-assessment metrics: pure functions, arrays in, floats out.

Inputs may be numpy arrays, torch tensors (any device or dtype) or sequences;
they are converted to float64 numpy first, so the numbers do not depend on the
training precision.

Definitions (what the numbers mean, exactly):

* ``mse``/``mae``: mean squared / absolute error over all models.
* ``pearson``/``spearman``: pooled over all models. Spearman is the Pearson
  correlation of *average* ranks (tied values share the mean of their ranks).
  Both are ``nan`` when fewer than two models are given or either input is
  constant: a correlation is undefined there, and ``nan`` says so instead of
  pretending to be 0. :func:`graphqa.evaluation.selection.selection_score` treats a
  ``nan`` correlation as "no bonus".
* ``per_target_spearman``: Spearman within each target, averaged over targets.
  Targets with fewer than two models, or whose true DockQ is constant (nothing
  to rank), are skipped. A target whose *predictions* are constant while the
  truth is not counts as 0 (the model ranks nothing). ``nan`` if no target is
  left.
* ``ranking_loss``: per target, best true DockQ minus the true DockQ of the
  top-1 prediction; averaged over all targets (one-model targets included,
  they score 0). When several models tie for the top prediction, the mean true
  DockQ of the tied models is used, so the value does not depend on input order.
* ``hits@t`` (top-k hit count): per target, the number of models among the
  ``top_k`` highest predictions whose true DockQ is >= ``t``; summed over
  targets. Ties in prediction are broken by input order (stable sort).
* ``hit_rate@t``: the fraction of targets with at least one such hit in their
  top ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphqa.config import EvaluateParams

# One definition: the defaults of params.yaml's ``evaluate`` section (CAPRI's acceptable/medium/high, top 10).
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(EvaluateParams().hit_thresholds)
DEFAULT_TOP_K: int = EvaluateParams().top_k


def as_array(values: Any) -> np.ndarray:
    """A 1-D float64 numpy array from a tensor (any device), array or sequence."""
    if hasattr(values, "detach"):  # torch.Tensor, without importing torch here
        values = values.detach().float().cpu().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _pair(pred: Any, true: Any) -> tuple[np.ndarray, np.ndarray]:
    p, t = as_array(pred), as_array(true)
    if p.shape != t.shape:
        raise ValueError(f"predictions and labels differ in length: {p.shape[0]} vs {t.shape[0]}")
    return p, t


def mse(pred: Any, true: Any) -> float:
    """Mean squared error (``nan`` for empty input)."""
    p, t = _pair(pred, true)
    return float(np.mean((p - t) ** 2)) if p.size else math.nan


def mae(pred: Any, true: Any) -> float:
    """Mean absolute error (``nan`` for empty input)."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(p - t))) if p.size else math.nan


def pearson(pred: Any, true: Any) -> float:
    """Pearson correlation; ``nan`` for fewer than two values or a constant input."""
    p, t = _pair(pred, true)
    if p.size < 2:
        return math.nan
    dp, dt = p - p.mean(), t - t.mean()
    denom = math.sqrt(float(np.dot(dp, dp)) * float(np.dot(dt, dt)))
    if denom == 0.0:
        return math.nan
    return float(np.clip(np.dot(dp, dt) / denom, -1.0, 1.0))


def average_ranks(values: Any) -> np.ndarray:
    """1-based ranks; tied values get the mean of the ranks they span."""
    v = as_array(values)
    order = np.argsort(v, kind="stable")
    sorted_v = v[order]
    # Boundaries of runs of equal values in sorted order.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_v) != 0) + 1]
    ends = np.r_[starts[1:], v.size]
    run_rank = (starts + ends + 1) / 2.0  # mean of 1-based ranks start+1 .. end
    ranks = np.empty(v.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def spearman(pred: Any, true: Any) -> float:
    """Spearman correlation with average ranks for ties; ``nan`` as :func:`pearson`."""
    p, t = _pair(pred, true)
    if p.size < 2:
        return math.nan
    return pearson(average_ranks(p), average_ranks(t))


def target_groups(target_index: Any, n: int) -> list[np.ndarray]:
    """Positions of each target's models, targets in order of first appearance."""
    targets = as_array(target_index)
    if targets.size != n:
        raise ValueError(f"target_index has {targets.size} entries for {n} predictions")
    _, first, inverse = np.unique(targets, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    return [np.flatnonzero(inverse == g) for g in order]


def per_target_spearman_values(pred: Any, true: Any, target_index: Any) -> np.ndarray:
    """Each target's Spearman; ``nan`` for a target that is skipped (see the module docstring)."""
    p, t = _pair(pred, true)
    values = []
    for idx in target_groups(target_index, p.size):
        if idx.size < 2 or np.all(t[idx] == t[idx][0]):
            values.append(math.nan)
            continue
        rho = spearman(p[idx], t[idx])
        values.append(0.0 if math.isnan(rho) else rho)  # nan here means constant predictions
    return np.asarray(values, dtype=np.float64)


def per_target_spearman(pred: Any, true: Any, target_index: Any) -> float:
    """Mean over targets of the within-target Spearman (see the module docstring)."""
    values = per_target_spearman_values(pred, true, target_index)
    values = values[~np.isnan(values)]
    return float(np.mean(values)) if values.size else math.nan


def ranking_loss_values(pred: Any, true: Any, target_index: Any) -> np.ndarray:
    """Each target's best true DockQ − true DockQ of its top-1 prediction (ties: their mean)."""
    p, t = _pair(pred, true)
    losses = []
    for idx in target_groups(target_index, p.size):
        tp, tt = p[idx], t[idx]
        losses.append(float(tt.max() - tt[tp == tp.max()].mean()))
    return np.asarray(losses, dtype=np.float64)


def ranking_loss(pred: Any, true: Any, target_index: Any) -> float:
    """Mean over targets of (best true DockQ − true DockQ of the top-1 prediction)."""
    losses = ranking_loss_values(pred, true, target_index)
    return float(np.mean(losses)) if losses.size else math.nan


def top_k_hits(pred: Any, true: Any, target_index: Any, threshold: float, top_k: int = DEFAULT_TOP_K) -> np.ndarray:
    """Per target: how many of its ``top_k`` best-predicted models have true DockQ >= ``threshold``."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    p, t = _pair(pred, true)
    counts = []
    for idx in target_groups(target_index, p.size):
        order = np.argsort(-p[idx], kind="stable")[:top_k]
        counts.append(int(np.sum(t[idx][order] >= threshold)))
    return np.asarray(counts, dtype=np.int64)


def threshold_key(threshold: float) -> str:
    """``0.80`` → ``"0.8"``: the suffix of ``hits@…``/``hit_rate@…`` keys."""
    return f"{threshold:g}"


def compute_metrics(
    pred: Any,
    true: Any,
    target_index: Any,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    top_k: int = DEFAULT_TOP_K,
) -> dict[str, float]:
    """Every headline metric of a prediction set, as plain floats.

    Keys: ``loss`` (MSE), ``mae``, ``pearson``, ``spearman``,
    ``per_target_spearman``, ``ranking_loss``, and for each threshold ``t``
    ``hits@t`` and ``hit_rate@t`` (``t`` formatted with ``%g``: ``hits@0.8``).
    """
    p, t = _pair(pred, true)
    out: dict[str, float] = {
        "loss": mse(p, t),
        "mae": mae(p, t),
        "pearson": pearson(p, t),
        "spearman": spearman(p, t),
        "per_target_spearman": per_target_spearman(p, t, target_index),
        "ranking_loss": ranking_loss(p, t, target_index),
    }
    for threshold in thresholds:
        counts = top_k_hits(p, t, target_index, threshold, top_k)
        key = threshold_key(threshold)
        out[f"hits@{key}"] = float(counts.sum())
        out[f"hit_rate@{key}"] = float(np.mean(counts > 0)) if counts.size else math.nan
    return out
