"""The few figures `dvc exp show` leads with, in order, from a headline."""

from __future__ import annotations

import pytest

from graphqa.evaluation.exp_metrics import exp_show_metrics, given_model_metrics, headline_columns

THRESHOLDS = [0.23, 0.49, 0.8]
HEADLINE = {"test_loss": 0.1, "final_val_selection": 0.08, "test_hits@0.8": 1.0, "test_hits@0.49": 7.0,
            "test_hits@0.23": 12.0, "test_ranking_loss": 0.37, "test_per_target_spearman": 0.36,
            "test_spearman": 0.46, "final_candidate": "phase1", "intervals": {"test_spearman": {"low": 0.1}}}


def test_headline_keys_in_reading_order_and_nothing_else() -> None:
    metrics = exp_show_metrics(HEADLINE, THRESHOLDS)
    assert list(metrics) == ["final_candidate", "test_spearman", "test_ranking_loss", "test_per_target_spearman",
                             "test_hits@0.23", "test_hits@0.49", "test_hits@0.8", "final_val_selection"]
    assert list(metrics) == headline_columns(THRESHOLDS)
    assert metrics["test_hits@0.23"] == 12 and isinstance(metrics["test_hits@0.23"], int)


def test_given_model_figures_have_their_own_names() -> None:
    assert given_model_metrics(HEADLINE, THRESHOLDS) == {"given_model": {
        k: v for k, v in exp_show_metrics(HEADLINE, THRESHOLDS).items() if k != "final_candidate"}}


def test_a_missing_figure_is_named() -> None:
    with pytest.raises(KeyError, match="test_ranking_loss"):
        exp_show_metrics({k: v for k, v in HEADLINE.items() if k != "test_ranking_loss"}, THRESHOLDS)
