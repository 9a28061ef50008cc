"""Every profile, composed for real, builds a Trainer that got what the profile says."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping, Timer
from lightning.pytorch.loggers import MLFlowLogger, WandbLogger
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.profilers import AdvancedProfiler, PyTorchProfiler, SimpleProfiler
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

from graphqa.compose import composed, list_profiles
from graphqa.config import params_from_dict
from graphqa.training.callbacks import DiagnosticsCallback, NonFiniteLossGuard, RankedCheckpoint
from graphqa.training.trainer import build_trainer, resolve_accelerator, resolve_precision, training_data_params

CONFIG_DIR = Path(__file__).resolve().parents[2] / "params"
PROFILES = [p.name for p in list_profiles(CONFIG_DIR)]
ON_CUDA = torch.cuda.is_available()
PROFILER_TYPES = {"simple": SimpleProfiler, "advanced": AdvancedProfiler, "pytorch": PyTorchProfiler}


@pytest.fixture
def torch_flags():
    """Building a Trainer sets process-wide torch flags; put them back afterwards."""
    saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark,
             torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    yield
    torch.use_deterministic_algorithms(saved[0])
    torch.backends.cudnn.benchmark = saved[1]
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[2], saved[3]


def _duration(text: str) -> timedelta:
    days, hours, minutes, seconds = (int(p) for p in text.split(":"))
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def test_every_profile_is_covered():
    assert len(PROFILES) >= 24 and "default" in PROFILES and "profiling" in PROFILES


@pytest.mark.parametrize("name", PROFILES)
def test_trainer_gets_what_the_profile_says(name, tmp_path, monkeypatch, torch_flags):
    params = params_from_dict(composed([name], config_dir=CONFIG_DIR))
    monkeypatch.chdir(tmp_path)  # ./mlruns of the mlflow profile lands here
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    assert params.profiles.get(name) is True
    t = params.trainer
    run_dir = tmp_path / "run"
    trainer = build_trainer(params, run_dir)

    # precision, device flags (seeding is train_run's, before the network is built: test_train_run)
    expected_precision = resolve_precision(t.precision, t.accelerator)
    assert trainer.precision == expected_precision
    plugin = trainer.precision_plugin
    if expected_precision.endswith("-mixed"):
        assert isinstance(plugin, MixedPrecision) and plugin.precision == expected_precision
    else:
        assert type(plugin) is Precision
    if t.precision in ("16-mixed", "bf16-mixed") and not ON_CUDA:
        assert expected_precision == "32-true"  # mixed precision needs CUDA: fp32 here, another half never implied
    assert torch.are_deterministic_algorithms_enabled() == t.deterministic
    assert torch.backends.cudnn.benchmark == t.benchmark
    tf32 = t.tf32 and ON_CUDA and torch.cuda.get_device_capability()[0] >= 8  # TF32 needs an Ampere GPU
    assert torch.backends.cuda.matmul.allow_tf32 == tf32 and torch.backends.cudnn.allow_tf32 == tf32

    # strategy / devices
    if t.strategy == "ddp":
        assert isinstance(trainer.strategy, DDPStrategy)
    elif t.strategy == "auto" and not ON_CUDA:
        assert isinstance(trainer.strategy, SingleDeviceStrategy)
    assert trainer.num_nodes == t.num_nodes
    assert (trainer._accelerator_connector._layer_sync is not None) == t.sync_batchnorm
    assert trainer._accelerator_connector.use_distributed_sampler is False
    if t.accelerator == "cpu":
        assert trainer.strategy.root_device.type == "cpu"
    if t.devices == "auto" and not ON_CUDA:
        assert trainer.num_devices == 1

    # loop and batch limits
    assert trainer.accumulate_grad_batches == t.accumulate_grad_batches
    assert trainer.gradient_clip_val == t.gradient_clip_val
    assert trainer.gradient_clip_algorithm.value == t.gradient_clip_algorithm
    assert trainer.check_val_every_n_epoch == t.check_val_every_n_epoch
    assert trainer.val_check_interval == t.val_check_interval
    if t.overfit_batches:  # fixed batches, unshuffled (Lightning's own flag would break the batch sampler)
        assert trainer.limit_train_batches == t.overfit_batches == trainer.limit_val_batches
        assert trainer.overfit_batches == 0
        assert training_data_params(params).data.shuffle is False
    else:
        assert trainer.limit_train_batches == t.limit_train_batches
        assert trainer.limit_val_batches == t.limit_val_batches
    assert trainer.fast_dev_run == t.fast_dev_run
    if not t.fast_dev_run:
        assert trainer.max_epochs == t.max_epochs
        assert trainer.log_every_n_steps == t.log_every_n_steps
    assert trainer._detect_anomaly == t.detect_anomaly
    timers = [cb for cb in trainer.callbacks if isinstance(cb, Timer)]
    if t.max_time is None:
        assert not timers
    else:
        assert len(timers) == 1 and timers[0]._duration == _duration(t.max_time).total_seconds()

    # profiler writes into the run dir
    if t.profiler is None:
        assert type(trainer.profiler).__name__ == "PassThroughProfiler"
    else:
        assert isinstance(trainer.profiler, PROFILER_TYPES[t.profiler])
        assert trainer.profiler.dirpath == str(run_dir / "profiler")

    # progress bar, callbacks, loggers
    assert (trainer.progress_bar_callback is not None) == params.runtime.progress_bar
    ckpt = [cb for cb in trainer.callbacks if isinstance(cb, RankedCheckpoint)]
    assert len(ckpt) == 1 and ckpt[0].save_top_k == params.checkpoint.save_top_k
    assert ckpt[0].monitor == "val/selection" and ckpt[0].mode == "min"
    assert ckpt[0].save_last == params.checkpoint.save_last
    assert any(isinstance(cb, NonFiniteLossGuard) for cb in trainer.callbacks)
    stops = [cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)]
    assert len(stops) == int(params.early_stopping.enabled)
    if stops:
        assert stops[0].monitor == "val/selection" and stops[0].patience == params.early_stopping.patience
    assert any(isinstance(cb, DiagnosticsCallback) for cb in trainer.callbacks) == t.diagnostics
    kinds = [type(lg).__name__ for lg in trainer.loggers]
    assert kinds[0] == "StepExactDVCLiveLogger"
    assert any(isinstance(lg, MLFlowLogger) for lg in trainer.loggers) == params.logging.mlflow
    wandb = [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)]
    # Without the package the profile gives one warning and no logger (tests/training/test_loggers.py).
    assert bool(wandb) == (params.logging.wandb and importlib.util.find_spec("wandb") is not None)
    if wandb:
        assert wandb[0]._offline == params.logging.offline


@pytest.mark.parametrize(("name", "precision"), [("ampere_bf16", "bf16-mixed"), ("kaggle", "16-mixed"),
                                                 ("low_vram", "16-mixed"), ("full", "16-mixed"),
                                                 ("hpc", "bf16-mixed"), ("default", None)])
@pytest.mark.skipif(not ON_CUDA, reason="GPU-only device checks")
def test_gpu_profiles_get_their_mixed_precision_on_cuda(name, precision, tmp_path, torch_flags):
    params = params_from_dict(composed([name], config_dir=CONFIG_DIR))
    trainer = build_trainer(params, tmp_path, loggers=False)
    assert trainer.strategy.root_device.type == "cuda"
    if precision is None:  # auto
        precision = "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    assert trainer.precision == precision and isinstance(trainer.precision_plugin, MixedPrecision)


def test_resolve_precision_rules():
    assert resolve_precision("auto", "auto", cuda_available=False) == "32-true"
    assert resolve_precision("auto", "cpu", cuda_available=True) == "32-true"
    assert resolve_precision("auto", "auto", cuda_available=True, bf16_supported=True) == "bf16-mixed"
    assert resolve_precision("auto", "gpu", cuda_available=True, bf16_supported=False) == "16-mixed"
    assert resolve_precision("16-mixed", "cuda", cuda_available=True) == "16-mixed"
    assert resolve_precision("16-mixed", "cpu") == "32-true"
    assert resolve_precision("bf16-mixed", "cpu") == "32-true"  # bf16 autocast on a CPU: far slower than fp32
    assert resolve_precision("bf16-mixed", "cuda", cuda_available=True, bf16_supported=False) == "16-mixed"
    assert resolve_precision("16", "cuda", cuda_available=True) == "16-mixed"
    assert resolve_precision("32", "cpu") == "32-true"
    assert resolve_accelerator("gpu") == "cuda"
    assert resolve_accelerator("auto", cuda_available=True) == "cuda"


SPOT_CHECKS = {  # a few promises of docs/ARCHITECTURE.md ("Profiles"), spelled out
    "low_vram": lambda tr: tr.accumulate_grad_batches == 4,
    "debug": lambda tr: tr._detect_anomaly and tr.limit_train_batches == 1 and tr.max_epochs == 1,
    "profiling": lambda tr: isinstance(tr.profiler, AdvancedProfiler),
    "ci_fast": lambda tr: tr.limit_train_batches == 8 and tr.max_epochs == 2 and torch.are_deterministic_algorithms_enabled(),
    "ddp": lambda tr: isinstance(tr.strategy, DDPStrategy),
    "kaggle": lambda tr: tr.val_check_interval == 0.5 and any(isinstance(cb, Timer) for cb in tr.callbacks),
    "hpc": lambda tr: torch.backends.cudnn.benchmark,
    "overfit_small": lambda tr: tr.limit_train_batches == 2 == tr.limit_val_batches and tr.max_epochs == 150,
    "diagnose": lambda tr: any(isinstance(cb, DiagnosticsCallback) for cb in tr.callbacks),
    "local_dev": lambda tr: tr.limit_train_batches == 0.25 and tr.limit_val_batches == 0.5,
}


@pytest.mark.parametrize("name", sorted(SPOT_CHECKS))
def test_profile_spot_checks(name, tmp_path, torch_flags):
    params = params_from_dict(composed([name], config_dir=CONFIG_DIR))
    assert SPOT_CHECKS[name](build_trainer(params, tmp_path, loggers=False))
