"""Canaries for every upstream private API graphqa relies on (src/graphqa/compat/).

Each failure names the upstream symbol that an upgrade removed or changed, so
the fix starts at the right place instead of at a confusing downstream error.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest


def _source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


def test_dvclive_should_sync_still_keys_on_our_frame_names() -> None:
    from dvclive import lightning as dvclive_lightning

    from graphqa.compat.dvclive import SYNC_CALLERS

    assert hasattr(dvclive_lightning, "_should_sync"), "dvclive.lightning._should_sync is gone"
    source = _source(dvclive_lightning._should_sync)
    for name in SYNC_CALLERS:
        assert name in source, f"dvclive.lightning._should_sync no longer checks for {name!r}"


def test_lightning_logger_connector_still_has_the_sync_points() -> None:
    from lightning.pytorch.trainer.connectors.logger_connector.logger_connector import _LoggerConnector

    from graphqa.compat.dvclive import SYNC_CALLERS

    for name in SYNC_CALLERS:
        assert hasattr(_LoggerConnector, name), f"lightning _LoggerConnector.{name} is gone"


def test_dvclive_live_still_has_studio_events_to_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dvclive import Live

    monkeypatch.chdir(tmp_path)
    live = Live(dir=str(tmp_path / "live"), save_dvc_exp=False, dvcyaml=False, report=None)
    try:
        assert hasattr(live, "_studio_events_to_skip"), "dvclive.Live._studio_events_to_skip is gone"
        assert hasattr(Live, "post_data_to_studio"), "dvclive.Live.post_data_to_studio is gone"
    finally:
        live.end()


def test_dvclive_logger_still_builds_live_from_experiment_and_kwargs(tmp_path: Path) -> None:
    from graphqa.compat.dvclive import dvclive_logger_class

    logger = dvclive_logger_class()(dir=str(tmp_path / "live"), dvcyaml=False, save_dvc_exp=False, report=None)
    assert hasattr(logger, "_experiment"), "dvclive.fabric.DVCLiveLogger._experiment is gone"
    assert hasattr(logger, "_kwargs"), "dvclive.fabric.DVCLiveLogger._kwargs is gone"
    assert type(logger.experiment).__name__ == "StudioAwareLive"  # our subclass is what runs
    logger.experiment.end()


def test_lightning_checkpoints_still_carry_batches_that_stepped() -> None:
    from lightning.pytorch.loops.training_epoch_loop import _TrainingEpochLoop

    assert re.search(r"""\[["']_batches_that_stepped["']\]""", _source(_TrainingEpochLoop.on_save_checkpoint)), (
        "lightning _TrainingEpochLoop.on_save_checkpoint no longer saves _batches_that_stepped")


def test_dvc_compose_and_dump_signature_is_the_one_we_call() -> None:
    from dvc.utils.hydra import compose_and_dump

    params = list(inspect.signature(compose_and_dump).parameters)
    assert params == ["output_file", "config_dir", "config_module", "config_name", "plugins_path", "overrides"], (
        f"dvc.utils.hydra.compose_and_dump signature changed: {params}")


def test_lightning_mlflow_logger_still_keeps_its_tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow")
    from lightning.pytorch.loggers import MLFlowLogger

    from graphqa.compat.lightning import mlflow_logger_tracking_uri

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # as graphqa's own loggers do for ./mlruns
    uri = (tmp_path / "mlruns").as_uri()
    assert mlflow_logger_tracking_uri(MLFlowLogger(tracking_uri=uri)) == uri, (
        "lightning MLFlowLogger._tracking_uri is gone")
