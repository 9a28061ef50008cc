"""Bootstrap intervals, chance/oracle references and paired differences, on tiny sets worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from graphqa.evaluation.metrics import compute_metrics
from graphqa.evaluation.uncertainty import (
    TargetFigures,
    bootstrap_intervals,
    describe_difference,
    paired_differences,
    percentile_interval,
    reference_figures,
    resample_targets,
    set_figures,
)

# Target 0: three models, true DockQ 0.9, 0.3, 0.0; target 1: two models, 0.6 and 0.2.
TRUE = np.array([0.9, 0.3, 0.0, 0.6, 0.2])
TARGETS = np.array([0, 0, 0, 1, 1])
# X picks 0.3 for target 0 (loss 0.6) and 0.6 for target 1 (loss 0): ranking loss 0.3.
PRED_X = np.array([0.1, 0.8, 0.0, 0.9, 0.1])
# Y picks 0.9 for target 0 (loss 0) and 0.2 for target 1 (loss 0.4): ranking loss 0.2.
PRED_Y = np.array([0.9, 0.1, 0.0, 0.1, 0.9])


def figures(pred: np.ndarray, thresholds: tuple[float, ...] = (0.5,), top_k: int = 1) -> TargetFigures:
    return TargetFigures.of(pred, TRUE, TARGETS, thresholds, top_k)


def test_resamples_are_seeded_target_indices() -> None:
    # numpy's PCG64 with seed 0: the four resamples of two targets every hand-worked number below uses.
    assert resample_targets(2, 4, seed=0).tolist() == [[1, 1], [1, 0], [0, 0], [0, 0]]
    assert np.array_equal(resample_targets(5, 7, seed=3), resample_targets(5, 7, seed=3))
    assert not np.array_equal(resample_targets(5, 7, seed=3), resample_targets(5, 7, seed=4))
    with pytest.raises(ValueError, match="at least|>= 1"):
        resample_targets(0, 5, seed=0)


def test_percentile_interval_by_hand() -> None:
    # Sorted -0.4, 0.1, 0.6, 0.6: the 2.5th percentile sits 0.075 of the way from -0.4 to 0.1.
    assert percentile_interval([0.6, -0.4, 0.6, 0.1]) == pytest.approx((-0.3625, 0.6))
    low, high = percentile_interval([float("nan")])
    assert np.isnan(low) and np.isnan(high)


def test_identity_resample_is_the_point_estimate() -> None:
    rng = np.random.default_rng(5)
    true, pred = rng.uniform(size=60), rng.uniform(size=60)
    targets = np.repeat(np.arange(6), 10)
    thresholds = (0.23, 0.49, 0.8)
    point = set_figures(TargetFigures.of(pred, true, targets, thresholds, 3), np.arange(6))
    metrics = compute_metrics(pred, true, targets, thresholds=thresholds, top_k=3)
    assert point == {k: metrics[k] for k in point}


def test_bootstrap_interval_of_the_ranking_loss_by_hand() -> None:
    # X's per-target losses are 0.6 and 0: resamples [1,1] [1,0] [0,0] [0,0] give 0, 0.3, 0.6, 0.6.
    intervals = bootstrap_intervals(figures(PRED_X), resamples=4, seed=0)
    assert intervals["ranking_loss"] == pytest.approx({"low": 0.0225, "high": 0.6})
    # Hits at 0.5 in the top 1: target 0 none, target 1 one; sums 2, 1, 0, 0.
    assert intervals["hits@0.5"] == pytest.approx({"low": 0.0, "high": 1.925})


def test_random_pick_and_oracle_references_by_hand() -> None:
    refs = reference_figures(TRUE, TARGETS, thresholds=(0.5,), top_k=2)
    # Random top-1: target 0 loses 0.9 - mean(0.9, 0.3, 0) = 0.5, target 1 0.6 - 0.4 = 0.2.
    assert refs["random"]["ranking_loss"] == pytest.approx(0.35)
    # A random top 2 of 3 models holding one hit finds 2/3 of it; of 2 models holding one, all of it.
    assert refs["random"]["hits@0.5"] == pytest.approx(2 / 3 + 1)
    assert refs["oracle"] == {"ranking_loss": 0.0, "hits@0.5": 2.0}


def test_paired_difference_by_hand_is_within_noise() -> None:
    diff = paired_differences(figures(PRED_X), figures(PRED_Y), resamples=4, seed=0)["ranking_loss"]
    # Per-target differences X - Y: +0.6 and -0.4; the resamples' means -0.4, 0.1, 0.6, 0.6.
    assert diff["difference"] == pytest.approx(0.1)
    assert (diff["low"], diff["high"]) == pytest.approx((-0.3625, 0.6))
    assert diff["within_noise"] is True
    line = describe_difference("X - Y", "ranking_loss", diff, lower_is_better=True)
    assert line == "X - Y ranking_loss: +0.1000 (95% CI -0.3625 to +0.6000): within noise (the interval contains 0)"


def test_paired_difference_beyond_noise() -> None:
    # Y is perfect on both targets, X loses on both: every resample's difference is positive.
    perfect = TRUE.copy()
    worse = np.array([0.0, 0.9, 0.1, 0.1, 0.9])  # picks 0.3 (loss 0.6) and 0.2 (loss 0.4)
    diff = paired_differences(figures(worse), figures(perfect), resamples=50, seed=1)["ranking_loss"]
    assert diff["difference"] == pytest.approx(0.5) and diff["low"] == pytest.approx(0.4) and diff["within_noise"] is False
    assert describe_difference("X - Y", "ranking_loss", diff, lower_is_better=True).endswith("worse beyond noise")


def test_paired_difference_refuses_different_models() -> None:
    other = TargetFigures.of(PRED_X[:3], TRUE[:3], TARGETS[:3], (0.5,), 1)
    with pytest.raises(ValueError, match="same labelled models"):
        paired_differences(figures(PRED_X), other, resamples=4, seed=0)
