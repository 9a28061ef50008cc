"""One full training run: data, model, Trainer, fit, ranked checkpoints, summary and manifest.

The run directory's layout is :class:`graphqa.runs.RunDir`'s; resume state lives
outside it (:mod:`graphqa.training.resume`).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from graphqa.config import Params, apply_env_overrides
from graphqa.io import ensure_writable_dir, write_json
from graphqa.runs.run_dir import RunDir

log = logging.getLogger(__name__)


def _best_record(ckpt_cb: Any, module: Any) -> dict[str, Any]:
    """Best score/val loss/val spearman/epoch, from the best checkpoint's own metrics."""
    from graphqa.inference.checkpoint import load_checkpoint

    ranked = ckpt_cb.ranked()
    if not ranked:
        return {"score": None, "val_loss": None, "val_spearman": None, "epoch": -1, "checkpoint": None}
    path, score = ranked[0]
    checkpoint = load_checkpoint(path)
    metrics = checkpoint.get("graphqa", {}).get("val_metrics", {})
    return {
        "score": _finite(metrics.get("selection", score)),
        "val_loss": _finite(metrics.get("loss")),
        "val_spearman": _finite(metrics.get("spearman")),
        "val_per_target_spearman": _finite(metrics.get("per_target_spearman")),
        "val_ranking_loss": _finite(metrics.get("ranking_loss")),
        "val_pred_std": _finite(metrics.get("pred_std")),
        "epoch": int(checkpoint.get("epoch", -1)),
        "checkpoint": Path(path).name,
    }


def _stopped_by(trainer: Any, params: Params) -> str:
    """Why fit ended: ``early_stopping``, ``max_time`` or ``max_epochs``."""
    from lightning.pytorch.callbacks import EarlyStopping, Timer

    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return "early_stopping"
        if isinstance(callback, Timer) and callback.time_remaining() is not None and callback.time_remaining() <= 0:
            return "max_time"
    return "max_epochs"


def closing_line(run_dir: Path, summary: dict[str, Any], wall_s: float) -> str:
    """The one line a finished training run ends with: how long, why it stopped, its best epoch and scores."""
    best = summary.get("best") or {}

    def fig(key: str, digits: int) -> str:
        value = best.get(key)
        return "n/a" if value is None else f"{value:.{digits}f}"

    return (f"{run_dir}: done, {summary.get('epochs_run')} epochs in {wall_s:.0f} s "
            f"(stopped by {summary.get('stopped_by')}, {summary.get('precision')}); best epoch {best.get('epoch')}: "
            f"selection {fig('score', 4)}, val loss {fig('val_loss', 4)}, val spearman {fig('val_spearman', 3)}, "
            f"per-target spearman {fig('val_per_target_spearman', 3)}")


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def train_run(params: Params, packed_dir: Path | str, schema_path: Path | str, run_dir: Path | str,
              init_from: Path | str | None = None) -> dict[str, Any]:
    """Train one run into ``run_dir`` and return its summary (also written to ``summary.json``).

    * ``init_from``: initialise the weights from that checkpoint (fine-tuning),
      with fresh optimizer and scheduler; its schema must match.
    * ``params.runtime.resume``: continue from the state an interrupted run of
      this directory saved (:class:`~graphqa.training.resume.ResumeState`), but
      only if its params, packed data, schema, initial checkpoint and code are
      all the same; otherwise start fresh, saying which differs. Without resume
      the run directory's previous outputs are cleared first. A completed run
      removes its saved state.

    Raises ``TrainingDivergedError`` (a RuntimeError) when the loss becomes
    NaN/inf; summary.json then says ``failed`` and names epoch and batch.
    """
    from graphqa.compat.dvclive import dedupe_history, trim_history
    from graphqa.compat.lightning import checkpoint_step
    from graphqa.data import FeatureSchema, GraphDataModule
    from graphqa.inference.checkpoint import CheckpointError, load_checkpoint
    from graphqa.training.callbacks import RankedCheckpoint, SpeedMeter, find_callback
    from graphqa.training.checkpoint import init_from_checkpoint
    from graphqa.training.hardware import fit_to_machine
    from graphqa.training.loggers import remember_logger_ids
    from graphqa.training.manifest import build_manifest, git_state, write_manifest
    from graphqa.training.module import CONSTANT_PREDICTIONS_STD, GraphQAModule
    from graphqa.training.resume import ResumeState, run_identity
    from graphqa.training.trainer import build_trainer, resolve_accelerator, training_data_params

    started = time.time()
    params, env_applied = apply_env_overrides(params)
    hardware = fit_to_machine(params).require()  # what this machine gives the run (refused: before anything is touched)
    if hardware.warning():
        log.warning("%s", hardware.warning())
    init_from = init_from or params.model.init_from  # a stage's own starting point (fine-tune) wins
    run_dir = ensure_writable_dir(Path(run_dir))
    run = RunDir(run_dir)
    packed_dir, schema_path = Path(packed_dir), Path(schema_path)

    schema = FeatureSchema.load(schema_path)
    identity = run_identity(params, packed_dir, schema.digest(), init_from)
    resume_state = ResumeState(run_dir, identity)
    resume_from: Path | None = None
    if params.runtime.resume and resume_state.usable():
        resume_from = resume_state.restore()
        try:
            checkpoint = load_checkpoint(resume_from, require_extras=False)
        except CheckpointError as exc:  # corrupt or unsafe: never loaded, the run starts over
            log.warning("resume: %s; starting from the beginning", exc)
            resume_from = None
        else:
            removed = trim_history(run.dvclive_history, checkpoint_step(checkpoint))
            log.info("resuming %s from its saved state (epoch %s)%s", run_dir, checkpoint.get("epoch"),
                     f"; dropped {removed} DVCLive rows logged after it" if removed else "")
    if resume_from is None:
        run.clear()

    datamodule = GraphDataModule(packed_dir, training_data_params(hardware.apply_runtime(params)), schema_path)

    import lightning as L

    L.seed_everything(params.seed, workers=True, verbose=False)  # the seed decides the initial weights too
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict(), schema.digest())
    if init_from is not None and resume_from is None:
        init_from_checkpoint(module, init_from, schema)

    trainer = build_trainer(params, run_dir, resume=resume_from is not None, hardware=hardware)
    ranked_checkpoints = find_callback(trainer, RankedCheckpoint)
    if ranked_checkpoints is not None:
        ranked_checkpoints.resume_state = resume_state
    accelerator = resolve_accelerator(params.trainer.accelerator)
    precision = str(trainer.precision)  # what the Trainer really runs (the hardware fit's answer)

    def manifest(status: str) -> dict[str, Any]:
        return build_manifest(
            params, packed_dir=packed_dir, schema_digest=schema.digest(), precision=precision,
            accelerator=accelerator, env_overrides=env_applied, world_size=trainer.world_size,
            data_hash=identity.packed_data, hardware=hardware.to_dict(),
            extra={"status": status, "init_from": str(init_from) if init_from else None},
        )

    if trainer.is_global_zero:  # `graphqa monitor` shows the used precision while the run trains
        write_manifest(run_dir, manifest("running"))

    status, error, summary = "running", None, {}
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_from) if resume_from else None,
                    weights_only=True)
        status = "interrupted" if trainer.interrupted else "completed"
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):  # Lightning turns Ctrl-C into SystemExit(1)
            status, error = "interrupted", None
            raise KeyboardInterrupt from None  # the stage says how to resume
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if trainer.is_global_zero:
            ckpt_cb = find_callback(trainer, RankedCheckpoint)
            speed = find_callback(trainer, SpeedMeter)
            # Lightning logs `epoch` with both the validation and the train-epoch metrics at one step
            dedupe_history(run.dvclive_history)
            if ckpt_cb is not None and status == "completed":
                ckpt_cb.keep_only_ranked(keep_last=params.checkpoint.save_last)
            wall = time.time() - started
            best = _best_record(ckpt_cb, module) if ckpt_cb is not None else {}
            constant = best.get("val_pred_std") is not None and best["val_pred_std"] < CONSTANT_PREDICTIONS_STD
            if constant:
                log.warning("%s: the best checkpoint predicts the same score for every validation model "
                            "(spread %.1e): it ranks nothing; lower optimizer.lr or check the labels",
                            run_dir, best["val_pred_std"])
            summary = {
                "status": status,
                "error": error,
                "best": best,
                "constant_predictions": constant,
                "checkpoints": {
                    "ranked": [Path(p).name for p, _ in ckpt_cb.ranked()] if ckpt_cb else [],
                    **{name: src for name, src in getattr(ckpt_cb, "exported", {}).items()},
                    "last": run.last_checkpoint.name if run.last_checkpoint.is_file() else None,
                },
                "epochs_run": int(trainer.current_epoch),
                "global_step": int(trainer.global_step),
                "stopped_by": _stopped_by(trainer, params) if status == "completed" else None,
                "resumed": resume_from is not None,
                "started_at_epoch": speed.first_epoch if speed else None,
                "init_from": str(init_from) if init_from else None,
                "last_val_metrics": {k: _finite(v) for k, v in module.last_val_metrics.items()},
                "precision": precision,
                "params_digest": params.result_digest(),
            }
            write_json(run.summary_file, summary)
            write_manifest(run_dir, manifest(status))
            # What varies between identical runs (clock, git commit) stays out of DVC's outputs: hashes repeat.
            write_json(run.context_file, {
                "git": git_state(),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                "wall_time_s": round(wall, 3),
                "train_graphs_per_s": _finite(speed.graphs_per_second) if speed else None,
                "epoch_time_s": round(sum(speed.epoch_seconds) / len(speed.epoch_seconds), 3)
                if speed and speed.epoch_seconds else None,
            })
            remember_logger_ids(trainer.loggers, run_dir)
    if not trainer.is_global_zero:  # rank 0 writes the run's files and owns its summary
        return {"status": status, "global_rank": trainer.global_rank}
    if status == "completed":
        resume_state.clear()
        log.info("%s", closing_line(run_dir, summary, time.time() - started))
    return summary
