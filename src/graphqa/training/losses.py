"""Training loss: MSE on DockQ plus ranking "priors" within each target of a batch.

All terms use a ``[B, B]`` same-target mask instead of grouping by unique target
ids, so the loss needs no host synchronisation (no ``unique``, no ``.item()``).
Batches are at most a few hundred graphs, so the quadratic masks are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from graphqa.config import LossParams


@dataclass
class LossTerms:
    """The total loss and its (weighted-in) parts, for logging."""

    total: Tensor
    mse: Tensor
    ranking: Tensor
    listwise: Tensor


def pairwise_ranking_loss(pred: Tensor, true: Tensor, target: Tensor, margin: float = 0.0) -> Tensor:
    """Mean hinge ``relu(margin − (p_i − p_j))`` over same-target pairs with ``y_i > y_j``.

    0 when the batch holds no such pair.
    """
    same = target.unsqueeze(0) == target.unsqueeze(1)
    better = true.unsqueeze(1) > true.unsqueeze(0)  # [i, j]: model i truly better than j
    pairs = (same & better).to(pred.dtype)
    hinge = F.relu(margin - (pred.unsqueeze(1) - pred.unsqueeze(0)))
    return (hinge * pairs).sum() / pairs.sum().clamp_min(1.0)


def listwise_loss(pred: Tensor, true: Tensor, target: Tensor, temperature: float = 0.1) -> Tensor:
    """Softmax cross-entropy towards each target's best model(s), averaged over targets.

    Within a target, ``softmax(pred / temperature)`` is compared with a
    distribution uniform over the models with the highest true DockQ. Targets
    with a single model in the batch carry no ranking signal and are skipped;
    0 when none is left.
    """
    same = target.unsqueeze(0) == target.unsqueeze(1)  # [i, j]
    logits = pred / temperature
    neg_inf = torch.finfo(logits.dtype).min
    # log-sum-exp of the logits of i's target, for every i
    lse = torch.logsumexp(torch.where(same, logits.unsqueeze(0), neg_inf), dim=1)
    best_true = torch.where(same, true.unsqueeze(0), torch.finfo(true.dtype).min).amax(dim=1)
    is_best = (true == best_true).to(pred.dtype)
    group_size = same.to(pred.dtype).sum(dim=1)
    n_best = (same.to(pred.dtype) * is_best.unsqueeze(0)).sum(dim=1)
    usable = (group_size >= 2).to(pred.dtype)
    # each best model carries 1/n_best of its target; each target counts once
    per_model = usable * is_best / n_best.clamp_min(1.0) * (lse - logits)
    num_targets = (usable / group_size).sum()
    return per_model.sum() / num_targets.clamp_min(1.0)


def training_loss(pred: Tensor, true: Tensor, target: Tensor, params: LossParams) -> LossTerms:
    """``mse_weight·MSE + ranking·pairwise + listwise·softmax-CE`` (zero weights are skipped)."""
    pred, true = pred.float(), true.float()
    mse = F.mse_loss(pred, true)
    zero = pred.new_zeros(())
    priors = params.priors
    ranking = pairwise_ranking_loss(pred, true, target, priors.ranking_margin) if priors.ranking > 0 else zero
    listwise = listwise_loss(pred, true, target, priors.listwise_temperature) if priors.listwise > 0 else zero
    total = params.mse_weight * mse + priors.ranking * ranking + priors.listwise * listwise
    return LossTerms(total=total, mse=mse, ranking=ranking, listwise=listwise)
