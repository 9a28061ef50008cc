"""Selection score on hand-worked numbers."""

from __future__ import annotations

import math

import pytest

from graphqa.config import SelectionParams
from graphqa.evaluation.selection import selection_score


def test_spearman_bonus_lowers_the_score():
    sel = SelectionParams(use_val_spearman=True, spearman_weight=0.1, spearman_min_delta=0.0)
    assert selection_score(0.05, 0.6, sel) == pytest.approx(0.05 - 0.06)


def test_min_delta_is_subtracted_and_clipped_at_zero():
    sel = SelectionParams(use_val_spearman=True, spearman_weight=0.1, spearman_min_delta=0.2)
    assert selection_score(0.05, 0.6, sel) == pytest.approx(0.05 - 0.1 * 0.4)
    assert selection_score(0.05, 0.1, sel) == pytest.approx(0.05)
    assert selection_score(0.05, -0.5, sel) == pytest.approx(0.05)


def test_without_spearman_the_score_is_the_loss():
    sel = SelectionParams(use_val_spearman=False, spearman_weight=0.5)
    assert selection_score(0.031, 0.9, sel) == pytest.approx(0.031)


def test_nan_spearman_earns_no_bonus_and_a_bad_loss_never_wins():
    sel = SelectionParams(spearman_weight=1.0)
    assert selection_score(0.2, math.nan, sel) == pytest.approx(0.2)
    assert selection_score(math.nan, 0.9, sel) == math.inf
    assert selection_score(math.inf, 0.9, sel) == math.inf
