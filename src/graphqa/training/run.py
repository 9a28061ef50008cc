"""One full training run: data, model, Trainer, fit, ranked checkpoints, summary and manifest.

The run directory's layout is :class:`graphqa.runs.RunDir`'s.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from graphqa.config import TRAINING_SECTIONS, Params, apply_env_overrides
from graphqa.io import ensure_writable_dir, read_json, write_json
from graphqa.runs.run_dir import RunDir

log = logging.getLogger(__name__)

# Knobs that never change a run's results (docs/ARCHITECTURE.md, "Params") and the resume switch itself.
RUNTIME_KEYS = {
    "data": ("num_workers", "pin_memory", "prefetch_factor", "persistent_workers"),
    "trainer": ("enable_progress_bar", "resume"),
}


def result_digest(params: Params) -> str:
    """Hash of what determines a run's results: seed, training sections and selection, minus runtime knobs."""
    raw = params.to_dict()
    core: dict[str, Any] = {"seed": raw["seed"], "selection": raw["selection"]}
    for section in TRAINING_SECTIONS:
        core[section] = {k: v for k, v in raw[section].items() if k not in RUNTIME_KEYS.get(section, ())}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]


def _completed_summary(run: RunDir, digest: str) -> dict[str, Any] | None:
    if not run.summary_file.is_file():
        return None
    try:
        summary = read_json(run.summary_file)
    except ValueError:
        return None
    if summary.get("status") == "completed" and summary.get("result_digest") == digest and run.best_checkpoint.is_file():
        return summary
    return None


def _resume_checkpoint(run: RunDir, params: Params, schema_digest: str) -> tuple[Path, dict[str, Any]] | None:
    """``last.ckpt`` if it loads and fits this run's network; else None (with a warning)."""
    from graphqa.inference.checkpoint import EXTRAS_KEY, CheckpointError, load_checkpoint

    last = run.last_checkpoint
    if not last.is_file():
        log.info("resume: no %s yet; starting the run from the beginning", last)
        return None
    try:
        checkpoint = load_checkpoint(last)
    except CheckpointError as exc:
        log.warning("resume: %s; starting the run from the beginning", exc)
        return None
    extras = checkpoint[EXTRAS_KEY]
    saved_model = extras.get("params", {}).get("model")
    if saved_model != dataclasses.asdict(params.model):
        log.warning("resume: %s was trained with different model params; starting from the beginning", last)
        return None
    saved_schema = extras.get("schema_digest")
    if saved_schema is not None and saved_schema != schema_digest:
        log.warning("resume: %s was trained on a different feature schema; starting from the beginning", last)
        return None
    ignored = {f"{section}.{key}" for section, keys in RUNTIME_KEYS.items() for key in keys} | {"profiles"}
    changed = [k for k in changed_keys(extras.get("params", {}), params.to_dict())
               if k not in ignored and not k.startswith(("profiles.", "sweep.", "finetune.", "evaluate.", "logging."))]
    if changed:
        log.warning("resume: continuing %s although these params changed since it was written: %s "
                    "(optimizer, scheduler and loop state come from the checkpoint)", last, ", ".join(changed))
    return last, checkpoint


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


def changed_keys(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested params dicts."""
    keys = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            keys += changed_keys(a, b, f"{name}.")
        elif a != b:
            keys.append(name)
    return keys


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
    * ``params.trainer.resume``: a completed run with the same result-relevant
      params is returned as is; otherwise the run continues from its own
      ``checkpoints/last.ckpt`` (optimizer, scheduler, epoch, DVCLive step).
      Without resume the run dir's previous outputs are cleared first.

    Raises ``TrainingDivergedError`` (a RuntimeError) when the loss becomes
    NaN/inf; summary.json then says ``failed`` and names epoch and batch.
    """
    from graphqa.compat.dvclive import dedupe_history, trim_history
    from graphqa.compat.lightning import checkpoint_step
    from graphqa.data import FeatureSchema, GraphDataModule
    from graphqa.training.callbacks import RankedCheckpoint, SpeedMeter, find_callback
    from graphqa.training.checkpoint import init_from_checkpoint
    from graphqa.training.loggers import remember_logger_ids
    from graphqa.training.manifest import build_manifest, hash_files, write_manifest
    from graphqa.training.module import GraphQAModule
    from graphqa.training.trainer import build_trainer, resolve_accelerator, training_data_params

    started = time.time()
    params, env_applied = apply_env_overrides(params)
    init_from = init_from or params.model.init_from  # a stage's own starting point (fine-tune) wins
    run_dir = ensure_writable_dir(Path(run_dir))
    run = RunDir(run_dir)
    packed_dir, schema_path = Path(packed_dir), Path(schema_path)
    digest = result_digest(params)

    schema = FeatureSchema.load(schema_path)
    resume_from: Path | None = None
    if params.trainer.resume:
        done = _completed_summary(run, digest)
        if done is not None:
            log.info("%s: already completed with these params; nothing to do (resume)", run_dir)
            return done
        found = _resume_checkpoint(run, params, schema.digest())
        if found is not None:
            resume_from, checkpoint = found
            removed = trim_history(run.dvclive_history, checkpoint_step(checkpoint))
            log.info("resuming %s from %s (epoch %s)%s", run_dir, resume_from, checkpoint.get("epoch"),
                     f"; dropped {removed} DVCLive rows logged after it" if removed else "")
    if resume_from is None:
        run.clear()

    datamodule = GraphDataModule(packed_dir, training_data_params(params), schema_path)

    import lightning as L

    L.seed_everything(params.seed, workers=True, verbose=False)  # the seed decides the initial weights too
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict(), schema.digest())
    if init_from is not None and resume_from is None:
        init_from_checkpoint(module, init_from, schema)

    trainer = build_trainer(params, run_dir, resume=resume_from is not None)
    accelerator = resolve_accelerator(params.trainer.accelerator)
    precision = str(trainer.precision)  # what the Trainer really runs (resolve_precision's answer)
    data_hash = hash_files(packed_dir) if trainer.is_global_zero else None

    status, error, summary = "running", None, {}
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_from) if resume_from else None,
                    weights_only=True)
        status = "interrupted" if trainer.interrupted else "completed"
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
        status, error = ("interrupted" if interrupted else "failed"), f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if trainer.is_global_zero:
            ckpt_cb = find_callback(trainer, RankedCheckpoint)
            speed = find_callback(trainer, SpeedMeter)
            # Lightning logs `epoch` with both the validation and the train-epoch metrics at one step
            dedupe_history(run.dvclive_history)
            wall = time.time() - started
            summary = {
                "status": status,
                "error": error,
                "best": _best_record(ckpt_cb, module) if ckpt_cb is not None else {},
                "checkpoints": {
                    "ranked": [Path(p).name for p, _ in ckpt_cb.ranked()] if ckpt_cb else [],
                    **{name: src for name, src in getattr(ckpt_cb, "exported", {}).items()},
                    "last": run.last_checkpoint.name if run.last_checkpoint.is_file() else None,
                },
                "epochs_run": int(trainer.current_epoch),
                "global_step": int(trainer.global_step),
                "stopped_by": _stopped_by(trainer, params) if status == "completed" else None,
                "resumed_from": str(resume_from) if resume_from else None,
                "started_at_epoch": speed.first_epoch if speed else None,
                "init_from": str(init_from) if init_from else None,
                "last_val_metrics": {k: _finite(v) for k, v in module.last_val_metrics.items()},
                "wall_time_s": round(wall, 3),
                "train_graphs_per_s": _finite(speed.graphs_per_second) if speed else None,
                "epoch_time_s": round(sum(speed.epoch_seconds) / len(speed.epoch_seconds), 3)
                if speed and speed.epoch_seconds else None,
                "precision": precision,
                "params_digest": params.digest(),
                "result_digest": digest,
            }
            write_json(run.summary_file, summary)
            write_manifest(run_dir, build_manifest(
                params, packed_dir=packed_dir, schema_digest=schema.digest(), precision=precision,
                accelerator=accelerator, env_overrides=env_applied, wall_time_s=wall, started_at=started,
                world_size=trainer.world_size, data_hash=data_hash,
                extra={"status": status, "init_from": str(init_from) if init_from else None,
                       "resumed_from": str(resume_from) if resume_from else None},
            ))
            remember_logger_ids(trainer.loggers, run_dir)
    if not trainer.is_global_zero:  # rank 0 writes the run's files and owns its summary
        return {"status": status, "global_rank": trainer.global_rank}
    if status == "completed":
        log.info("%s: best selection score %s at epoch %s (%s)", run_dir, summary["best"].get("score"),
                 summary["best"].get("epoch"), summary["best"].get("checkpoint"))
    return summary
