"""Loss terms on hand-worked numbers."""

from __future__ import annotations

import math

import pytest
import torch

from graphqa.config import LossParams, PriorWeights
from graphqa.training.losses import listwise_loss, pairwise_ranking_loss, training_loss


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_pairwise_hinge_within_a_target_only():
    # model 0 is truly better but predicted lower: relu(0 - (0.2 - 0.8)) = 0.6
    assert pairwise_ranking_loss(t(0.2, 0.8), t(0.9, 0.1), torch.tensor([3, 3])).item() == pytest.approx(0.6)
    # the same pair split over two targets carries no ranking signal
    assert pairwise_ranking_loss(t(0.2, 0.8), t(0.9, 0.1), torch.tensor([3, 4])).item() == 0.0
    # equal truths make no pair
    assert pairwise_ranking_loss(t(0.2, 0.8), t(0.5, 0.5), torch.tensor([1, 1])).item() == 0.0
    # correct order, inside the margin: relu(0.1 - 0.05)
    assert pairwise_ranking_loss(t(0.8, 0.75), t(0.9, 0.1), torch.tensor([0, 0]), margin=0.1).item() == \
        pytest.approx(0.05, abs=1e-6)


def test_pairwise_mean_over_pairs():
    # target 0: pairs (1>0): relu(0-(0.5-0.1))=0 ; target 1: (2>3): relu(0-(0.2-0.6))=0.4 -> mean 0.2
    loss = pairwise_ranking_loss(t(0.1, 0.5, 0.2, 0.6), t(0.1, 0.9, 0.8, 0.3), torch.tensor([0, 0, 1, 1]))
    assert loss.item() == pytest.approx(0.2)


def test_listwise_cross_entropy_towards_the_best_model():
    # target A: logits [0, 0] -> -log(1/2); target B: logits [1, 0], best is model 3 -> log(e + 1) - 0
    loss = listwise_loss(t(0, 0, 1, 0), t(0.9, 0.1, 0.2, 0.7), torch.tensor([5, 5, 9, 9]), temperature=1.0)
    assert loss.item() == pytest.approx((math.log(2) + math.log(math.e + 1)) / 2, rel=1e-5)


def test_listwise_skips_single_model_targets_and_splits_tied_best():
    # target 7 has one model (skipped); target 8: both best -> lse - mean(logits) = log 4 - ln(3)/2
    loss = listwise_loss(t(0.3, 0.0, math.log(3)), t(0.4, 0.5, 0.5), torch.tensor([7, 8, 8]), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(4) - math.log(3) / 2, rel=1e-5)
    assert listwise_loss(t(0.3), t(0.4), torch.tensor([1]), temperature=1.0).item() == 0.0


def test_priors_off_is_pure_mse_and_priors_on_add_their_weights():
    pred = t(0.2, 0.8, 0.4, 0.1).requires_grad_()
    true, target = t(0.9, 0.1, 0.5, 0.3), torch.tensor([0, 0, 1, 1])
    off = LossParams(mse_weight=1.0, priors=PriorWeights(ranking=0.0, listwise=0.0))
    terms = training_loss(pred, true, target, off)
    assert terms.total.item() == pytest.approx(torch.mean((pred - true) ** 2).item())
    on = LossParams(mse_weight=1.0, priors=PriorWeights(ranking=0.5, listwise=0.1, listwise_temperature=0.1))
    terms = training_loss(pred, true, target, on)
    expected = terms.mse + 0.5 * pairwise_ranking_loss(pred, true, target) + 0.1 * listwise_loss(pred, true, target, 0.1)
    assert terms.total.item() == pytest.approx(expected.item())
    assert terms.ranking.item() > 0 and terms.listwise.item() > 0
    terms.total.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
