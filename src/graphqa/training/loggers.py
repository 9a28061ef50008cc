"""Experiment loggers: DVCLive always; MLflow and W&B when the params ask for them.

A logger whose package is missing costs one warning, never the run. The
MLflow run id and W&B id are kept in ``<run_dir>/loggers.json`` so a resumed
run keeps logging into the same MLflow run / W&B run.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger

from graphqa.config import Params
from graphqa.io import read_json, write_json
from graphqa.runs.run_dir import RunDir

log = logging.getLogger(__name__)



def dvclive_logger(run_dir: Path, resume: bool = False) -> Logger:
    """DVCLive in ``<run_dir>/dvclive``; ``dvcyaml=False`` (plots are declared in dvc.yaml)."""
    from graphqa.compat.dvclive import dvclive_logger_class

    cls = dvclive_logger_class()
    return cls(dir=str(RunDir(run_dir).dvclive), dvcyaml=False, save_dvc_exp=False, resume=resume,
               report=None, run_name=Path(run_dir).name)


def _missing(package: str, flag: str, extra: str) -> None:
    log.warning("%s is on but the %s package is not installed (pip install 'graphqa[%s]'); "
                "training goes on without it", flag, package, extra)


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
        return False


def _read_ids(run_dir: Path) -> dict[str, Any]:
    path = RunDir(run_dir).logger_ids_file
    try:
        return dict(read_json(path)) if path.is_file() else {}
    except (ValueError, OSError):
        return {}


def logger_tracking_uri(logger: Logger) -> str | None:
    from graphqa.compat.lightning import mlflow_logger_tracking_uri

    return mlflow_logger_tracking_uri(logger)


def mlflow_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the ``./mlruns`` file store of the working directory."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or (Path.cwd() / "mlruns").as_uri()
    if uri.startswith("file:") or "://" not in uri:
        # MLflow 3 refuses its file store unless told it is wanted; the project logs to ./mlruns.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return uri


def build_loggers(params: Params, run_dir: Path, resume: bool = False) -> list[Logger]:
    """DVCLive, plus MLflow (``logging.mlflow``) and W&B (``logging.wandb``) when available."""
    run_dir = Path(run_dir)
    loggers: list[Logger] = [dvclive_logger(run_dir, resume=resume)]
    ids = _read_ids(run_dir) if resume else {}
    run_name = run_dir.name
    if params.logging.mlflow:
        if not _available("mlflow"):
            _missing("mlflow", "logging.mlflow", "mlflow")
        else:
            from lightning.pytorch.loggers import MLFlowLogger

            loggers.append(MLFlowLogger(experiment_name=params.logging.project, run_name=run_name,
                                        tracking_uri=mlflow_tracking_uri(), run_id=ids.get("mlflow_run_id")))
    if params.logging.wandb:
        if not _available("wandb"):
            _missing("wandb", "logging.wandb", "wandb")
        else:
            from lightning.pytorch.loggers import WandbLogger

            wandb_dir = RunDir(run_dir).wandb
            wandb_dir.mkdir(parents=True, exist_ok=True)
            kwargs: dict[str, Any] = {"resume": "allow", "id": ids["wandb_id"]} if ids.get("wandb_id") else {}
            loggers.append(WandbLogger(project=params.logging.project, name=run_name, save_dir=str(run_dir),
                                       dir=str(wandb_dir), offline=params.logging.offline, **kwargs))
    return loggers


def remember_logger_ids(loggers: list[Logger], run_dir: Path) -> dict[str, Any]:
    """Write the MLflow run id / W&B id into ``loggers.json`` (for resume); return them."""
    ids: dict[str, Any] = {}
    for logger in loggers:
        kind = type(logger).__name__
        if kind == "MLFlowLogger" and getattr(logger, "run_id", None):
            ids["mlflow_run_id"] = logger.run_id
            ids["mlflow_tracking_uri"] = logger_tracking_uri(logger)
        elif kind == "WandbLogger":
            version = getattr(logger, "version", None)
            if version:
                ids["wandb_id"] = version
    if ids:
        write_json(RunDir(run_dir).logger_ids_file, ids)
    return ids
