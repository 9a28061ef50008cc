"""Loggers for real: DVCLive always, MLflow into a local file store, W&B offline, missing packages."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from graphqa.training.loggers import build_loggers
from graphqa.training.run import train_run


def test_mlflow_logs_the_run_and_its_metrics(packed_demo, make_params, tmp_path, monkeypatch):
    store = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.as_uri())
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # set by the library, undone after the test
    params = make_params("ci_fast", "mlflow", "trainer.max_epochs=2")
    assert params.logging.mlflow
    run_dir = tmp_path / "member-1"
    train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store.as_uri())
    experiment = client.get_experiment_by_name(params.logging.project)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_name for r in runs] == ["member-1"]
    run = runs[0]
    spearman = client.get_metric_history(run.info.run_id, "val/spearman")
    assert len(spearman) == 2
    logged = json.loads((run_dir / "dvclive" / "metrics.json").read_text())["val"]["spearman"]
    assert spearman[-1].value == pytest.approx(logged, abs=1e-6)
    assert run.data.params["params/trainer/max_epochs"] == "2"
    assert json.loads((run_dir / "loggers.json").read_text())["mlflow_run_id"] == run.info.run_id


def test_wandb_offline_writes_a_local_run(packed_demo, make_params, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    params = make_params("ci_fast", "wandb_online", "logging.offline=true", "trainer.max_epochs=1")
    run_dir = tmp_path / "run"
    summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert summary["status"] == "completed"
    offline_runs = list((run_dir / "wandb").rglob("offline-run-*"))
    assert offline_runs, "no offline W&B run written"
    assert list(offline_runs[0].glob("*.wandb"))
    assert "wandb_id" in json.loads((run_dir / "loggers.json").read_text())


def test_missing_logger_packages_warn_once_and_training_goes_on(packed_demo, make_params, tmp_path, monkeypatch,
                                                                caplog):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed: `import mlflow` fails
    monkeypatch.setitem(sys.modules, "wandb", None)
    params = make_params("ci_fast", "mlflow", "wandb_online", "trainer.max_epochs=1")
    with caplog.at_level(logging.WARNING, logger="graphqa.training.loggers"):
        loggers = build_loggers(params, tmp_path / "probe")
    assert [type(lg).__name__ for lg in loggers] == ["StepExactDVCLiveLogger"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "graphqa.training.loggers"]
    assert len(warnings) == 2
    assert sum("mlflow" in w and "not installed" in w for w in warnings) == 1
    assert sum("wandb" in w and "not installed" in w for w in warnings) == 1

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="graphqa.training.loggers"):
        summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / "run")
    assert summary["status"] == "completed"
    assert len([r for r in caplog.records if r.name == "graphqa.training.loggers"]) == 2
    assert (tmp_path / "run" / "dvclive" / "metrics.json").is_file()
