"""The LightningModule: loss, optimizer and scheduler, whole-set validation metrics."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from graphqa.config import Params
from graphqa.evaluation import metrics as qa_metrics
from graphqa.evaluation.selection import selection_score
from graphqa.inference.checkpoint import EXTRAS_KEY, FORMAT_VERSION
from graphqa.models import build_model
from graphqa.training.losses import training_loss
from graphqa.training.resume import seed_epoch

log = logging.getLogger(__name__)

# Validation reports the evaluate section's default thresholds and top_k (docs/ARCHITECTURE.md, "Metrics");
# they never influence training, so the train stages need not depend on evaluate.* params.
VAL_THRESHOLDS = qa_metrics.DEFAULT_THRESHOLDS
VAL_TOP_K = qa_metrics.DEFAULT_TOP_K
MONITOR = "val/selection"


class TrainingDivergedError(RuntimeError):
    """The training loss, the validation loss or the weights became NaN or infinite."""


# Predictions whose spread over the validation set is below this are a constant: the network ranks nothing.
CONSTANT_PREDICTIONS_STD = 1e-6


def check_finite(network: torch.nn.Module, val_loss: float, epoch: int) -> None:
    """Raise :class:`TrainingDivergedError` naming the epoch when the validation loss or any weight is not finite."""
    params = dict(network.named_parameters())
    all_finite = bool(torch.stack([torch.isfinite(p).all() for p in params.values()]).all())  # one device sync
    if math.isfinite(val_loss) and all_finite:
        return
    bad = [] if all_finite else sorted(name for name, p in params.items() if not torch.isfinite(p).all())
    what = f"weights became non-finite ({', '.join(bad[:3])}{' …' if len(bad) > 3 else ''})" if bad \
        else f"validation loss became {val_loss}"
    raise TrainingDivergedError(f"{what} at epoch {epoch}; stopped. Lower optimizer.lr, keep gradient clipping on, "
                                "or use the debug profile (anomaly detection)")


def _saved(params: Params) -> dict[str, Any]:
    """Params as checkpoints store them: without the runtime section (it never changes results)."""
    raw = params.to_dict()
    raw.pop("runtime", None)
    return raw


def cosine_with_warmup(warmup_steps: int, total_steps: int, min_ratio: float):
    """LR multiplier per optimizer step: linear warmup to 1, then cosine down to ``min_ratio``."""

    def factor(step: int) -> float:
        if warmup_steps > 0 and step < warmup_steps:
            return (step + 1) / warmup_steps
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class GraphQAModule(L.LightningModule):
    """Trains the ``model.arch`` network on DockQ; validation metrics over the whole validation set.

    ``schema`` (the feature schema as a plain dict) is embedded in every
    checkpoint with the resolved params, so a checkpoint alone rebuilds the model.
    """

    def __init__(self, node_dim: int, edge_dim: int, params: Params,
                 schema: Mapping[str, Any] | None = None, schema_digest: str | None = None) -> None:
        super().__init__()
        self.run_params = params
        self.schema_dict: dict[str, Any] = dict(schema or {})
        self.schema_digest = schema_digest
        self.model = build_model(params.model.arch, node_dim, edge_dim, params.model)
        # primitives only (weights_only=True loading), and no runtime knobs: checkpoints of identical runs are identical bytes
        self.save_hyperparameters({"node_dim": int(node_dim), "edge_dim": int(edge_dim), "params": _saved(params)})
        self._val_batches: list[tuple[Tensor, Tensor, Tensor, Tensor]] = []
        self.last_validation: dict[str, np.ndarray] | None = None
        self.last_val_metrics: dict[str, float] = {}
        self._base_lr = params.optimizer.lr
        self._warmup_steps = 0

    # ------------------------------------------------------------------ plumbing

    def forward(self, batch: Any) -> Tensor:
        return self.model(batch)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            graphqa_version = version("graphqa")
        except PackageNotFoundError:
            graphqa_version = "unknown"
        checkpoint[EXTRAS_KEY] = {
            "format_version": FORMAT_VERSION,
            "graphqa_version": graphqa_version,
            "node_dim": self.model.node_dim,
            "edge_dim": self.model.edge_dim,
            "schema": self.schema_dict,
            "params": _saved(self.run_params),
            "params_digest": self.run_params.result_digest(),
            "schema_digest": self.schema_digest,
            # the validation metrics this checkpoint was scored on (plain floats)
            "val_metrics": {k: float(v) for k, v in self.last_val_metrics.items()},
        }

    # ------------------------------------------------------------------ training

    def on_fit_start(self) -> None:
        # trainer.compile (docs/ARCHITECTURE.md, "Compilation"): decided once the run's length and device are known;
        # the weights and state_dict keys stay the network's own, so checkpoints do not depend on it
        from graphqa.models.compile import compile_network

        steps = self.trainer.estimated_stepping_batches
        compile_network(self.model, self.run_params.trainer.compile,
                        planned_steps=int(steps) if math.isfinite(steps) else None, device_type=self.device.type)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        pred = self.model(batch)
        terms = training_loss(pred, batch.y, batch.target, self.run_params.loss)
        n = int(batch.num_graphs)
        # step values are this rank's; epoch means are reduced across ranks once, at epoch end
        self.log("train/loss_step", terms.total, on_step=True, on_epoch=False, batch_size=n)
        self.log("train/loss_epoch", terms.total, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        self.log("train/mse", terms.mse, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        priors = self.run_params.loss.priors
        if priors.ranking > 0:
            self.log("train/ranking", terms.ranking, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        if priors.listwise > 0:
            self.log("train/listwise", terms.listwise, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=True, on_epoch=False, batch_size=n)
        return terms.total

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if batch_idx == 0:
            # Each epoch's random draws (dropout) depend on (seed, epoch) alone, so a resumed run matches an
            # uninterrupted one. At the first batch, not at epoch start: on resume Lightning creates the loader
            # iterator (which draws from torch's RNG) before the epoch-start hooks, otherwise after them.
            seed_epoch(self.run_params.seed, self.current_epoch)
        # Linear warmup for schedulers without one of their own (reduce_on_plateau, none): the
        # learning rate of optimizer step k (0-based) is base * (k + 1) / warmup_steps.
        step = self.trainer.global_step
        if self._warmup_steps and step <= self._warmup_steps:
            scale = min(1.0, (step + 1) / self._warmup_steps)
            for group in self.trainer.optimizers[0].param_groups:
                group["lr"] = self._base_lr * scale

    # ------------------------------------------------------------------ validation

    def on_validation_epoch_start(self) -> None:
        self._val_batches = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        pred = self.model(batch)
        self._val_batches.append((pred.detach().float(), batch.y.float(), batch.target, batch.index))

    def _gathered(self) -> tuple[np.ndarray, ...] | None:
        if not self._val_batches:
            return None
        pred, true, target, index = (torch.cat(parts) for parts in zip(*self._val_batches, strict=True))
        self._val_batches = []
        if self.trainer.world_size > 1:
            pred, true, target, index = (_all_gather_uneven(self, t) for t in (pred, true, target, index))
            # a padded sampler may repeat graphs: keep each graph once
            index_np = index.cpu().numpy()
            _, keep = np.unique(index_np, return_index=True)
            keep_t = torch.as_tensor(keep, device=pred.device)
            pred, true, target, index = (t[keep_t] for t in (pred, true, target, index))
        return tuple(t.cpu().numpy() for t in (pred, true, target, index))

    def on_validation_epoch_end(self) -> None:
        gathered = self._gathered()
        if gathered is None:
            return
        pred, true, target, index = gathered
        values = qa_metrics.compute_metrics(pred, true, target, VAL_THRESHOLDS, VAL_TOP_K)
        values["selection"] = selection_score(values["loss"], values["spearman"], self.run_params.selection)
        # identical on every rank (computed on the gathered set): no further reduction
        for key, value in values.items():
            self.log(f"val/{key}", float(value), sync_dist=False)
        if self.trainer.sanity_checking:
            return
        check_finite(self.model, float(values["loss"]), self.current_epoch)
        self.last_validation = {"pred": pred, "true": true, "target": target, "index": index}
        # the predictions' spread: a network that scores every model alike ranks nothing (summary, leaderboard)
        self.last_val_metrics = {**values, "pred_std": float(np.std(qa_metrics.as_array(pred)))}
        if self.trainer.is_global_zero:
            log.info("epoch %d: val loss %.4f, spearman %.3f, per-target spearman %.3f, selection %.4f",
                     self.current_epoch, values["loss"], values["spearman"], values["per_target_spearman"],
                     values["selection"])

    # ------------------------------------------------------------------ optimizers

    def learning_rate(self) -> float:
        """The learning rate after optional linear scaling by the effective batch size."""
        opt = self.run_params.optimizer
        lr = opt.lr
        if opt.scale_lr:
            world = self.trainer.world_size if self._trainer is not None else 1
            effective = self.run_params.data.batch_size * self.run_params.trainer.accumulate_grad_batches * world
            lr *= effective / opt.reference_batch_size
        return lr

    def configure_optimizers(self) -> Any:
        opt_params, sched = self.run_params.optimizer, self.run_params.scheduler
        lr = self._base_lr = self.learning_rate()
        cls = torch.optim.AdamW if opt_params.name == "adamw" else torch.optim.Adam
        optimizer = cls(self.parameters(), lr=lr, weight_decay=opt_params.weight_decay)

        total_steps, warmup_steps = 0, 0
        if sched.name == "cosine" or sched.warmup_epochs:  # only these need the loader's length
            max_epochs = max(1, self.trainer.max_epochs or 1)
            estimated = self.trainer.estimated_stepping_batches
            total_steps = int(estimated) if math.isfinite(estimated) else 0
            steps_per_epoch = max(1, total_steps // max_epochs) if total_steps else 1
            warmup_steps = sched.warmup_epochs * steps_per_epoch

        if sched.name == "cosine":
            self._warmup_steps = 0  # part of the cosine schedule itself
            factor = cosine_with_warmup(warmup_steps, max(total_steps, warmup_steps + 1), min(1.0, sched.min_lr / lr))
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
        self._warmup_steps = warmup_steps
        if sched.name == "reduce_on_plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=sched.factor, patience=sched.patience, min_lr=sched.min_lr)
            return {"optimizer": optimizer, "lr_scheduler": {
                "scheduler": scheduler, "monitor": MONITOR, "interval": "epoch",
                "frequency": self.run_params.trainer.check_val_every_n_epoch, "strict": True}}
        return optimizer


def _all_gather_uneven(module: L.LightningModule, tensor: Tensor) -> Tensor:
    """All-gather 1-D tensors of different lengths across ranks (pad, gather, trim)."""
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = module.all_gather(size).reshape(-1)
    longest = int(sizes.max())
    padded = torch.zeros(longest, dtype=tensor.dtype, device=tensor.device)
    padded[: tensor.shape[0]] = tensor
    gathered = module.all_gather(padded).reshape(-1, longest)
    return torch.cat([gathered[r, : int(n)] for r, n in enumerate(sizes)])
