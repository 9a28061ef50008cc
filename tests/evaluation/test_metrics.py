"""Metrics on numbers worked out by hand (ties, one-model targets, constant predictions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphqa.evaluation import metrics as m


def test_errors_and_correlations_on_a_linear_relation():
    pred, true = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]
    assert m.mse(pred, true) == pytest.approx((1 + 4 + 9 + 16) / 4)
    assert m.mae(pred, true) == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert m.pearson(pred, true) == pytest.approx(1.0)
    assert m.spearman(pred, true) == pytest.approx(1.0)
    assert m.spearman(pred, true[::-1]) == pytest.approx(-1.0)


def test_average_ranks_share_ties():
    assert m.average_ranks([10, 20, 20, 30]).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert m.average_ranks([5, 5, 5]).tolist() == [2.0, 2.0, 2.0]
    assert m.average_ranks([3, 1, 2, 1]).tolist() == [4.0, 1.5, 3.0, 1.5]


def test_spearman_with_ties_in_the_truth():
    # ranks pred [1,2,3,4], true [1,2.5,2.5,4]: r = 4.5 / sqrt(5 * 4.5) = sqrt(0.9)
    assert m.spearman([1, 2, 3, 4], [10, 20, 20, 30]) == pytest.approx(math.sqrt(0.9))


def test_pearson_hand_value():
    # dp = [-1, 0, 1], dt = [-2, 1, 1]: r = 3 / sqrt(2 * 6)
    assert m.pearson([1, 2, 3], [0, 3, 3]) == pytest.approx(3 / math.sqrt(12))


def test_constant_or_tiny_input_gives_nan_correlation():
    assert math.isnan(m.pearson([0.3, 0.3, 0.3], [0.1, 0.5, 0.9]))
    assert math.isnan(m.spearman([0.3, 0.3, 0.3], [0.1, 0.5, 0.9]))
    assert math.isnan(m.spearman([0.3], [0.1]))
    assert math.isnan(m.mse([], []))


def test_inputs_may_be_tensors_of_any_dtype():
    pred = torch.tensor([0.1, 0.4, 0.35], dtype=torch.bfloat16)
    assert m.mae(pred, np.array([0.1, 0.4, 0.35])) == pytest.approx(0.0, abs=2e-3)
    with pytest.raises(ValueError, match="differ in length"):
        m.mse([1.0, 2.0], [1.0])


# Four targets: 0 ranks perfectly, 1 has one model, 2 has a constant truth, 3 has constant predictions.
PRED = [0.1, 0.3, 0.2, 0.7, 0.4, 0.6, 0.5, 0.5]
TRUE = [0.2, 0.5, 0.4, 0.9, 0.3, 0.3, 0.1, 0.8]
TARGET = [0, 0, 0, 1, 2, 2, 3, 3]


def test_per_target_spearman_skips_undefined_targets_and_scores_constant_predictions_zero():
    # target 0 -> 1.0; target 1 skipped (one model); target 2 skipped (nothing to rank); target 3 -> 0
    assert m.per_target_spearman(PRED, TRUE, TARGET) == pytest.approx(0.5)
    assert math.isnan(m.per_target_spearman([0.1], [0.2], [0]))


def test_ranking_loss_per_target_mean_with_tied_top_predictions():
    # 0: top-1 is the best (0.5) -> 0; 1: one model -> 0; 2: tie at... top pred 0.6 -> true 0.3, best 0.3 -> 0;
    # 3: both tied at 0.5 -> mean true 0.45, best 0.8 -> 0.35
    assert m.ranking_loss(PRED, TRUE, TARGET) == pytest.approx(0.35 / 4)
    assert m.ranking_loss([0.9, 0.1, 0.5], [0.2, 0.8, 0.6], [7, 7, 7]) == pytest.approx(0.6)


def test_top_k_hits_and_hit_rate():
    pred = [0.9, 0.1, 0.5, 0.8, 0.2, 0.3]
    true = [0.2, 0.8, 0.6, 0.1, 0.5, 0.9]
    target = [0, 0, 0, 1, 1, 1]
    # top-2 of target 0: models 0 (0.2) and 2 (0.6); of target 1: models 3 (0.1) and 5 (0.9)
    assert m.top_k_hits(pred, true, target, 0.5, top_k=2).tolist() == [1, 1]
    assert m.top_k_hits(pred, true, target, 0.7, top_k=2).tolist() == [0, 1]
    assert m.top_k_hits(pred, true, target, 0.7, top_k=1).tolist() == [0, 0]
    out = m.compute_metrics(pred, true, target, thresholds=(0.5, 0.7), top_k=2)
    assert out["hits@0.5"] == 2.0 and out["hit_rate@0.5"] == 1.0
    assert out["hits@0.7"] == 1.0 and out["hit_rate@0.7"] == 0.5


def test_compute_metrics_keys_and_consistency():
    out = m.compute_metrics(PRED, TRUE, TARGET)
    expected = {"loss", "mae", "pearson", "spearman", "per_target_spearman", "ranking_loss",
                "hits@0.23", "hits@0.49", "hits@0.8", "hit_rate@0.23", "hit_rate@0.49", "hit_rate@0.8"}
    assert set(out) == expected
    assert out["loss"] == pytest.approx(m.mse(PRED, TRUE))
    assert out["per_target_spearman"] == pytest.approx(0.5)
    assert all(isinstance(v, float) for v in out.values())
    # true >= 0.8 only for models 3 (target 1) and 7 (target 3); top-10 covers every model
    assert out["hits@0.8"] == 2.0 and out["hit_rate@0.8"] == pytest.approx(0.5)


def test_constant_predictions_end_to_end():
    out = m.compute_metrics([0.5] * 4, [0.1, 0.9, 0.3, 0.6], [0, 0, 1, 1])
    assert math.isnan(out["spearman"]) and math.isnan(out["pearson"])
    assert out["per_target_spearman"] == 0.0
    # ties at the top: mean of each target's truths vs its best
    assert out["ranking_loss"] == pytest.approx(((0.9 - 0.5) + (0.6 - 0.45)) / 2)
