"""Turn ``trainer.*`` params into a ``lightning.Trainer`` (every key mapped, nothing implied)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger

from graphqa.config import Params
from graphqa.runs.run_dir import RunDir
from graphqa.training.hardware import HardwareFit, Machine, device_kind, fit_precision, fit_to_machine

log = logging.getLogger(__name__)


def resolve_accelerator(accelerator: str, *, cuda_available: bool | None = None) -> str:
    """The device kind ``accelerator`` means here: ``cuda``, ``cpu``, ``mps`` or ``tpu``."""
    return device_kind(accelerator, cuda_available=cuda_available)


def resolve_precision(precision: str, accelerator: str = "auto", *, cuda_available: bool | None = None,
                      bf16_supported: bool | None = None) -> str:
    """Lightning precision for ``trainer.precision`` on this hardware (:func:`graphqa.training.hardware.fit_precision`).

    ``auto``: ``bf16-mixed`` on CUDA with bf16, ``16-mixed`` on other CUDA,
    ``32-true`` elsewhere. Mixed precision off CUDA falls back to ``32-true``
    (never silently to another half format); the run logs that once
    (:meth:`~graphqa.training.hardware.HardwareFit.warning`).
    """
    device = device_kind(accelerator, cuda_available=cuda_available)
    if bf16_supported is None:
        bf16_supported = device == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return fit_precision(precision, Machine(device=device, cuda_bf16=bf16_supported))[0]


def set_cpu_threads(threads: int, accelerator: str) -> None:
    """Intra-op threads for training on the CPU (0 leaves torch's default).

    The TopoQA network's ops are small: on a 2-core machine one thread trains
    about 6x faster per step than two (benchmarks/: training step table).
    """
    if threads > 0 and resolve_accelerator(accelerator) == "cpu":
        torch.set_num_threads(threads)


def set_tf32(enabled: bool) -> None:
    """TF32 matmuls and cuDNN convolutions on/off (process-wide torch flags)."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled


def build_profiler(kind: str | None, run_dir: Path) -> Any:
    """A Lightning profiler that writes its report into ``<run_dir>/profiler/``."""
    if kind is None:
        return None
    from lightning.pytorch import profilers

    dirpath = RunDir(run_dir).profiler
    dirpath.mkdir(parents=True, exist_ok=True)
    cls = {"simple": profilers.SimpleProfiler, "advanced": profilers.AdvancedProfiler,
           "pytorch": profilers.PyTorchProfiler}[kind]
    return cls(dirpath=str(dirpath), filename=kind)


def training_data_params(params: Params) -> Params:
    """The params the data module should see: no shuffling while overfitting fixed batches."""
    import dataclasses

    if params.trainer.overfit_batches and params.data.shuffle:
        return dataclasses.replace(params, data=dataclasses.replace(params.data, shuffle=False))
    return params


def build_trainer(
    params: Params,
    run_dir: Path | str,
    *,
    callbacks: Sequence[Callback] | None = None,
    loggers: Sequence[Logger] | bool | None = None,
    resume: bool = False,
    extra_callbacks: Sequence[Callback] = (),
    hardware: HardwareFit | None = None,
) -> L.Trainer:
    """A Trainer for one run in ``run_dir``; every ``trainer.*`` param is applied.

    ``callbacks``/``loggers`` default to :func:`build_callbacks` /
    :func:`build_loggers` (``loggers=False`` disables logging). Seeding is the
    caller's, before the network is built (:func:`graphqa.training.run.train_run`),
    so the seed decides the initial weights. The data layer shards itself, so
    Lightning's distributed sampler is off.

    ``overfit_batches`` is applied as ``limit_train_batches`` =
    ``limit_val_batches`` = ``overfit_batches`` (with shuffling off, see
    :func:`training_data_params`) rather than through Lightning's flag:
    Lightning's overfit mode swaps each loader's sampler for a
    ``SequentialSampler``, which would turn the data layer's batch sampler
    into one-graph batches.

    Precision and TF32 are ``hardware``'s used values (default: :func:`fit_to_machine` of
    ``params`` here; the caller logs its warning once).
    """
    from graphqa.compat.lightning import quiet_lightning_output
    from graphqa.training.callbacks import build_callbacks
    from graphqa.training.checkpoint import SafeCheckpointIO
    from graphqa.training.loggers import build_loggers
    from graphqa.training.progress import TrainingProgressBar

    run_dir = Path(run_dir)
    t = params.trainer
    hardware = hardware or fit_to_machine(params)
    set_tf32(hardware.used["trainer.tf32"])
    set_cpu_threads(params.runtime.cpu_threads, t.accelerator)
    precision = hardware.used["trainer.precision"]
    if callbacks is None:
        callbacks = build_callbacks(params, run_dir)
    if loggers is None:
        loggers = build_loggers(params, run_dir, resume=resume)
    logger_arg: Any = list(loggers) if not isinstance(loggers, bool) else loggers
    quiet_lightning_output()  # each Lightning line once, no adverts (README, "Logs")
    progress = [TrainingProgressBar()] if params.runtime.progress_bar else []
    return L.Trainer(
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=t.num_nodes,
        strategy=t.strategy,
        precision=precision,
        deterministic=t.deterministic,
        benchmark=t.benchmark,
        max_epochs=t.max_epochs,
        max_time=t.max_time,
        accumulate_grad_batches=t.accumulate_grad_batches,
        gradient_clip_val=t.gradient_clip_val,
        gradient_clip_algorithm=t.gradient_clip_algorithm,
        val_check_interval=t.val_check_interval,
        check_val_every_n_epoch=t.check_val_every_n_epoch,
        limit_train_batches=t.overfit_batches or t.limit_train_batches,
        limit_val_batches=t.overfit_batches or t.limit_val_batches,
        overfit_batches=0.0,
        fast_dev_run=t.fast_dev_run,
        detect_anomaly=t.detect_anomaly,
        profiler=build_profiler(t.profiler, run_dir),
        log_every_n_steps=t.log_every_n_steps,
        enable_progress_bar=params.runtime.progress_bar,
        enable_model_summary=params.logging.verbose,
        sync_batchnorm=t.sync_batchnorm,
        use_distributed_sampler=False,
        default_root_dir=str(run_dir),
        callbacks=[*callbacks, *extra_callbacks, *progress],
        logger=logger_arg,
        plugins=[SafeCheckpointIO()],
    )
