"""Callbacks of a training run: ranked checkpoints, early stopping, NaN guard, speed, diagnostics."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from graphqa.compat.lightning import local_checkpoint_state, portable_checkpoint_state
from graphqa.config import Params
from graphqa.io import atomic_copy, write_json
from graphqa.runs.run_dir import CHECKPOINT_FILENAME, LAST_CHECKPOINT, RANKED_NAMES, RunDir
from graphqa.training.module import MONITOR, TrainingDivergedError

log = logging.getLogger(__name__)



class RankedCheckpoint(ModelCheckpoint):
    """Top-k checkpoints by ``val/selection`` (lower is better), plus ``last.ckpt``.

    When fit ends, the three best are copied to ``best.ckpt``,
    ``second_best.ckpt`` and ``third_best.ckpt`` (as many as exist).
    """

    def __init__(self, dirpath: Path, save_top_k: int = 3) -> None:
        # last.ckpt is always written: it is what an interrupted run resumes from (training.resume);
        # keep_only_ranked() drops it at the end unless checkpoint.save_last asks to keep it.
        super().__init__(dirpath=str(dirpath), filename=CHECKPOINT_FILENAME, monitor=MONITOR, mode="min",
                         save_top_k=save_top_k, save_last=True, auto_insert_metric_name=False)
        self.resume_state: Any = None  # a training.resume.ResumeState: mirrors what a resumed run needs
        self._last_saved: tuple[int, int] | None = None
        self._history_pending = False

    # The project root is the working directory (DVC runs stage commands there): paths stored relative to
    # it keep checkpoint bytes identical between workspaces (graphqa.compat.lightning).
    def state_dict(self) -> dict[str, Any]:
        return portable_checkpoint_state(super().state_dict(), Path.cwd())

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(local_checkpoint_state(state_dict, Path.cwd()))

    def _saved_since_last_call(self) -> bool:
        last = Path(self.dirpath or ".") / LAST_CHECKPOINT
        try:
            stat = last.stat()
        except OSError:
            return False
        key = (stat.st_mtime_ns, stat.st_size)
        changed, self._last_saved = key != self._last_saved, key
        return changed

    def _after_possible_save(self, trainer: L.Trainer) -> None:
        if self.resume_state is not None and trainer.is_global_zero and self._saved_since_last_call():
            self.resume_state.save()
            self._history_pending = True

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The train-epoch metrics of the epoch that was just saved are logged after every epoch-end hook:
        # the mirrored history gets them now, before this epoch changes anything.
        if self._history_pending and self.resume_state is not None and trainer.is_global_zero:
            self.resume_state.save_history()
        self._history_pending = False

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._after_possible_save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._after_possible_save(trainer)

    def keep_only_ranked(self, keep_last: bool) -> list[str]:
        """Delete checkpoints that are neither kept top-k nor ranked copies (a killed attempt's, for one);
        ``last.ckpt`` too unless ``keep_last``. Returns the names removed."""
        dirpath = Path(self.dirpath or ".")
        keep = {Path(p).name for p in self.best_k_models} | set(RANKED_NAMES)
        if keep_last:
            keep.add(LAST_CHECKPOINT)
        removed = sorted(p.name for p in dirpath.glob("*.ckpt") if p.name not in keep)
        for name in removed:
            (dirpath / name).unlink()
        return removed

    def ranked(self) -> list[tuple[str, float]]:
        """``(path, score)`` of the kept checkpoints, best first."""
        items = [(path, float(score)) for path, score in self.best_k_models.items() if Path(path).is_file()]
        return sorted(items, key=lambda item: (math.isnan(item[1]), item[1]))

    def export_ranked(self) -> dict[str, str]:
        """Copy the best three to their fixed names; remove stale ones. Returns name → source file."""
        dirpath = Path(self.dirpath or ".")
        exported: dict[str, str] = {}
        ranked = self.ranked()
        for name, (path, _) in zip(RANKED_NAMES, ranked, strict=False):
            atomic_copy(path, dirpath / name)
            exported[name] = Path(path).name
        for name in RANKED_NAMES[len(ranked):]:
            (dirpath / name).unlink(missing_ok=True)
        return exported

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero and not trainer.fast_dev_run:
            self.exported = self.export_ranked()


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error when the loss becomes NaN or infinite.

    The check reads the device only at log intervals (and at epoch end), so
    the step itself never waits on the GPU; the first bad batch is still
    named exactly, because its index is recorded on the device.
    """

    def __init__(self, check_every_n_steps: int = 10) -> None:
        self.check_every = max(1, check_every_n_steps)
        self._first_bad: torch.Tensor | None = None  # [epoch, batch] of the first non-finite loss, or -1

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        loss = loss.detach()
        if self._first_bad is None or self._first_bad.device != loss.device:
            self._first_bad = torch.full((2,), -1, dtype=torch.long, device=loss.device)
        where = torch.tensor([trainer.current_epoch, batch_idx], device=loss.device)
        take = (~torch.isfinite(loss)) & (self._first_bad[0] < 0)
        self._first_bad = torch.where(take, where, self._first_bad)
        if (batch_idx + 1) % self.check_every == 0:
            self._raise_if_bad(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._raise_if_bad(trainer)

    def _raise_if_bad(self, trainer: L.Trainer) -> None:
        if self._first_bad is None:
            return
        epoch, batch = (int(v) for v in self._first_bad.tolist())
        if epoch >= 0:
            raise TrainingDivergedError(
                f"training loss became NaN/inf at epoch {epoch}, batch {batch}; stopped. "
                "Lower optimizer.lr, keep gradient clipping on, or use the `debug` profile (anomaly detection)")


class SpeedMeter(Callback):
    """Graphs per second of training (validation excluded) and time per epoch."""

    def __init__(self) -> None:
        self.graphs = 0
        self.train_seconds = 0.0
        self.epoch_seconds: list[float] = []
        self._epoch_start = 0.0
        self._val_seconds = 0.0
        self._val_start = 0.0
        self.first_epoch: int | None = None  # the epoch this process started at (> 0 after a resume)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.first_epoch = trainer.current_epoch

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start, self._val_seconds = time.perf_counter(), 0.0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.graphs += int(batch.num_graphs)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._val_seconds += time.perf_counter() - self._val_start

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        elapsed = time.perf_counter() - self._epoch_start
        self.epoch_seconds.append(elapsed)
        self.train_seconds += max(0.0, elapsed - self._val_seconds)

    @property
    def graphs_per_second(self) -> float:
        return self.graphs / self.train_seconds if self.train_seconds > 0 else math.nan


class DiagnosticsCallback(Callback):
    """``diagnostics.json``: gradient norm per layer over time, prediction histogram, per-target residuals.

    Gradient norms are read at log intervals only; the histogram and residuals
    come from each validation over the whole validation set.
    """

    def __init__(self, path: Path, every_n_steps: int = 10, bins: int = 20) -> None:
        self.path = Path(path)
        self.every = max(1, every_n_steps)
        self.bins = bins
        self.grad_norms: list[dict[str, Any]] = []
        self.histograms: list[dict[str, Any]] = []
        self.residuals: dict[str, Any] = {}

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        if trainer.global_step % self.every:
            return
        per_layer: dict[str, torch.Tensor] = {}
        for name, param in pl_module.named_parameters():
            if param.grad is None:
                continue
            layer = name.rsplit(".", 1)[0]  # weight and bias of one layer together
            sq = param.grad.detach().float().pow(2).sum()
            per_layer[layer] = per_layer[layer] + sq if layer in per_layer else sq
        if per_layer:
            norms = torch.stack(list(per_layer.values())).sqrt().tolist()  # one sync per interval
            self.grad_norms.append({"step": trainer.global_step, "epoch": trainer.current_epoch,
                                    "norms": dict(zip(per_layer, norms, strict=True))})

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # after the module's on_validation_epoch_end, which gathers the whole validation set
        last = getattr(pl_module, "last_validation", None)
        if trainer.sanity_checking or not last:
            return
        pred, true, target = last["pred"], last["true"], last["target"]
        counts, edges = np.histogram(np.clip(pred, 0.0, 1.0), bins=self.bins, range=(0.0, 1.0))
        self.histograms.append({"epoch": trainer.current_epoch, "step": trainer.global_step,
                                "bin_edges": edges.round(6).tolist(), "counts": counts.tolist(),
                                "mean": float(pred.mean()), "std": float(pred.std())})
        names = _target_names(trainer)
        rows = []
        for t in np.unique(target):
            mask = target == t
            residual = pred[mask] - true[mask]
            rows.append({"target": names[int(t)] if names and int(t) < len(names) else int(t),
                         "n_models": int(mask.sum()), "mean_residual": float(residual.mean()),
                         "mae": float(np.abs(residual).mean()), "max_abs_residual": float(np.abs(residual).max())})
        self.residuals = {"epoch": trainer.current_epoch, "step": trainer.global_step, "per_target": rows}
        if trainer.is_global_zero:
            self.write()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.write()

    def write(self) -> None:
        write_json(self.path, {"grad_norm_per_layer": self.grad_norms, "prediction_histograms": self.histograms,
                               "per_target_residuals": self.residuals})

    def state_dict(self) -> dict[str, Any]:
        return {"grad_norms": self.grad_norms, "histograms": self.histograms, "residuals": self.residuals}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.grad_norms = list(state_dict.get("grad_norms", []))
        self.histograms = list(state_dict.get("histograms", []))
        self.residuals = dict(state_dict.get("residuals", {}))


def _target_names(trainer: L.Trainer) -> list[str] | None:
    datamodule = getattr(trainer, "datamodule", None)
    try:
        names = datamodule.store("val").target_names  # GraphDataModule
    except (AttributeError, TypeError, KeyError, OSError, ValueError):
        return None
    return list(names)


def build_callbacks(params: Params, run_dir: Path) -> list[Callback]:
    """The callbacks every run gets (plus early stopping and diagnostics when enabled)."""
    run = RunDir(run_dir)
    callbacks: list[Callback] = [
        RankedCheckpoint(run.checkpoints, params.checkpoint.save_top_k),
        NonFiniteLossGuard(params.trainer.log_every_n_steps),
        SpeedMeter(),
    ]
    if params.early_stopping.enabled:
        callbacks.append(EarlyStopping(monitor=MONITOR, mode="min", patience=params.early_stopping.patience,
                                       min_delta=params.early_stopping.min_delta, check_finite=True))
    if params.trainer.diagnostics:
        callbacks.append(DiagnosticsCallback(run.diagnostics_file, params.trainer.log_every_n_steps))
    # Only a `graphqa hpo run` trial with pruning (runtime.hpo_trial set) reports to its study; others get nothing.
    from graphqa.hpo.pruning import pruning_callbacks

    callbacks += pruning_callbacks(params)
    return callbacks


def find_callback(trainer: L.Trainer, kind: type) -> Any:
    """The first callback of ``kind`` on ``trainer`` (or None)."""
    return next((cb for cb in trainer.callbacks if isinstance(cb, kind)), None)
