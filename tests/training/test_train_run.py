"""One training run end to end on real demo data: outputs, whole-set validation, profiles with outputs."""

from __future__ import annotations

import csv
import filecmp
import importlib.metadata
import json
import math
import re
from pathlib import Path

import pytest
import torch

from graphqa.config import params_from_dict
from graphqa.data import FeatureSchema, PackedGraphStore
from graphqa.evaluation.metrics import compute_metrics
from graphqa.inference.checkpoint import load_checkpoint, load_network
from graphqa.inference.predictor import predict_store
from graphqa.training.manifest import hash_files
from graphqa.training.run import train_run

CKPT_NAME = re.compile(r"^epoch=(\d{3})-score=(-?\d+\.\d{4})-val_loss=(\d+\.\d{4})\.ckpt$")
RANKED = ("best.ckpt", "second_best.ckpt", "third_best.ckpt")


def history(run_dir: Path, name: str) -> list[dict[str, str]]:
    """Rows of one DVCLive series (``val/loss`` → dvclive/plots/metrics/val/loss.tsv)."""
    path = run_dir / "dvclive" / "plots" / "metrics" / f"{name}.tsv"
    with path.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def values(run_dir: Path, name: str) -> list[float]:
    key = name.rsplit("/", 1)[-1]
    return [float(row[key]) for row in history(run_dir, name)]


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("GRAPHQA_NUM_WORKERS", "GRAPHQA_PIN_MEMORY", "GRAPHQA_PREFETCH", "GRAPHQA_PROGRESS_BAR"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_ci_fast_run_learns_and_every_output_loads(learning_demo, make_params, tmp_path, clean_env):
    clean_env.setenv("GRAPHQA_NUM_WORKERS", "0")
    params = make_params("ci_fast", "trainer.max_epochs=5")
    run_dir = tmp_path / "run"
    summary = train_run(params, learning_demo.packed_dir, learning_demo.schema_path, run_dir)

    assert summary["status"] == "completed" and summary["epochs_run"] == 5
    rho = values(run_dir, "val/spearman")
    assert len(rho) == 5
    assert max(rho[1:]) > rho[0] and max(rho) > 0.4, f"validation Spearman did not rise: {rho}"

    # ranked checkpoints: names carry epoch, score and val loss; copies are byte-identical
    ckpt_dir = run_dir / "checkpoints"
    named = sorted((p for p in ckpt_dir.iterdir() if CKPT_NAME.match(p.name)),
                   key=lambda p: float(CKPT_NAME.match(p.name).group(2)))
    assert len(named) == params.checkpoint.save_top_k == 3
    for fixed, source in zip(RANKED, named, strict=True):
        assert filecmp.cmp(ckpt_dir / fixed, source, shallow=False)
    assert (ckpt_dir / "last.ckpt").is_file()
    assert summary["best"]["checkpoint"] == named[0].name

    schema = FeatureSchema.load(learning_demo.schema_path)
    for path in ckpt_dir.glob("*.ckpt"):
        checkpoint = torch.load(path, weights_only=True)  # loads without unpickling code
        assert checkpoint["graphqa"]["schema"] == schema.to_dict()
        assert params_from_dict(checkpoint["graphqa"]["params"]).result_dict() == params.result_dict()
        assert load_checkpoint(path)["graphqa"]["schema_digest"] == schema.digest()

    best = load_checkpoint(ckpt_dir / "best.ckpt")
    epoch, score, val_loss = CKPT_NAME.match(named[0].name).groups()
    ranked_on = best["graphqa"]["val_metrics"]
    assert int(epoch) == best["epoch"] == summary["best"]["epoch"]
    assert float(score) == pytest.approx(ranked_on["selection"], abs=1e-4)
    assert float(val_loss) == pytest.approx(ranked_on["loss"], abs=1e-4)
    assert summary["best"]["score"] == pytest.approx(ranked_on["selection"])

    # validation metrics are whole-set: the exported network reproduces them from the store
    model, loaded_schema, loaded_params = load_network(ckpt_dir / "best.ckpt")
    assert loaded_schema.digest() == schema.digest() and loaded_params.result_dict() == params.result_dict()
    val = PackedGraphStore.open(learning_demo.packed_dir / "val")
    pred = predict_store(model, val, batch_size=7, device="cpu")
    assert pred.shape == (len(val),)
    again = compute_metrics(pred, val.y, val.target_index)
    assert again["loss"] == pytest.approx(ranked_on["loss"], rel=1e-4)
    assert again["spearman"] == pytest.approx(ranked_on["spearman"], abs=1e-6)
    assert again["per_target_spearman"] == pytest.approx(ranked_on["per_target_spearman"], abs=1e-6)

    # summary.json, run_manifest.json, DVCLive
    assert json.loads((run_dir / "summary.json").read_text()) == json.loads(json.dumps(summary))
    context = json.loads((run_dir / "run_context.json").read_text())  # what differs between identical runs
    assert context["train_graphs_per_s"] > 0 and context["wall_time_s"] > 0 and {"commit", "dirty"} <= set(context["git"])
    assert not {"wall_time_s", "train_graphs_per_s", "git", "started_at"} & (set(summary) | set(
        json.loads((run_dir / "run_manifest.json").read_text())))
    manifest = json.loads((run_dir / "run_manifest.json").read_text())
    assert manifest["params_hash"] == params.result_digest() and manifest["params"] == params.to_dict()
    assert manifest["schema_hash"] == schema.digest()
    assert manifest["data_hash"] == hash_files(learning_demo.packed_dir)
    assert manifest["precision"] == {"requested": "32-true", "resolved": "32-true"}
    assert manifest["seed"] == params.seed and manifest["device"]["accelerator"] == "cpu"
    assert manifest["packages"]["torch"] == importlib.metadata.version("torch")
    assert manifest["env_overrides"] == {"runtime.num_workers": 0}
    live = json.loads((run_dir / "dvclive" / "metrics.json").read_text())
    assert live["val"]["spearman"] == pytest.approx(rho[-1], abs=1e-6)
    for name in ("val/loss", "val/mae", "val/pearson", "val/per_target_spearman", "val/selection",
                 "val/ranking_loss", "val/hit_rate@0.23", "val/hit_rate@0.49", "val/hit_rate@0.8",
                 "train/loss_epoch", "lr"):
        assert history(run_dir, name), name


def test_a_fresh_run_clears_stale_outputs(packed_demo, make_params, tmp_path, clean_env):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "epoch=099-score=0.0000-val_loss=0.0000.ckpt").write_bytes(b"stale")
    (run_dir / "dvclive" / "plots" / "metrics").mkdir(parents=True)
    (run_dir / "dvclive" / "plots" / "metrics" / "stale.tsv").write_text("step\tstale\n0\t1\n")
    (run_dir / "diagnostics.json").write_text("{}")
    (run_dir / "notes.txt").write_text("not a run output")
    summary = train_run(make_params("ci_fast", "trainer.max_epochs=1"), packed_demo.packed_dir,
                        packed_demo.schema_path, run_dir)
    assert summary["status"] == "completed"
    assert not (run_dir / "checkpoints" / "epoch=099-score=0.0000-val_loss=0.0000.ckpt").exists()
    assert not (run_dir / "dvclive" / "plots" / "metrics" / "stale.tsv").exists()
    assert not (run_dir / "diagnostics.json").exists()
    assert (run_dir / "notes.txt").exists()  # only what a run writes is cleared


def test_overfit_small_drives_the_training_loss_to_zero(learning_demo, make_params, tmp_path, clean_env):
    # The learning-signal check of the main loss: ranking priors off, since a softmax over sigmoid
    # scores cannot reach zero. Batches of 16 and sparse validation only keep the test fast.
    params = make_params("overfit_small", "ablation_priors_off", "trainer.max_epochs=200", "data.batch_size=16",
                         "trainer.check_val_every_n_epoch=50")
    assert params.trainer.overfit_batches == 2 and params.model.dropout == 0
    run_dir = tmp_path / "run"
    train_run(params, learning_demo.packed_dir, learning_demo.schema_path, run_dir)
    mse = values(run_dir, "train/mse")  # per epoch, over the same 2 fixed batches
    assert len(mse) == 200
    assert mse[-1] < 0.003 and mse[-1] < 0.05 * mse[0], f"no overfit: first {mse[0]:.4f}, last {mse[-1]:.4f}"


def test_profiling_writes_its_report_into_the_run_dir(packed_demo, make_params, tmp_path, clean_env):
    clean_env.setenv("GRAPHQA_NUM_WORKERS", "0")
    clean_env.setenv("GRAPHQA_PIN_MEMORY", "0")
    params = make_params("profiling", "trainer.max_epochs=1", "trainer.limit_train_batches=2")
    run_dir = tmp_path / "run"
    summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    report = run_dir / "profiler" / "fit-advanced.txt"
    assert report.is_file() and "training_step" in report.read_text()
    manifest = json.loads((run_dir / "run_manifest.json").read_text())
    assert manifest["env_overrides"] == {"runtime.num_workers": 0, "runtime.pin_memory": False}
    expected = "bf16-mixed" if torch.cuda.is_available() else "32-true"  # off CUDA it falls back (training.hardware)
    assert manifest["precision"]["resolved"] == summary["precision"] == expected


def test_diagnose_writes_grad_norms_histograms_and_residuals(packed_demo, make_params, tmp_path, clean_env):
    params = make_params("diagnose", "trainer.max_epochs=2")
    run_dir = tmp_path / "run"
    train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    report = json.loads((run_dir / "diagnostics.json").read_text())
    grads = report["grad_norm_per_layer"]
    assert len(grads) >= 2 and all(math.isfinite(v) for g in grads for v in g["norms"].values())
    assert {"model.node_encoder", "model.convs.0.lin_l", "model.readout.0"} <= set(grads[0]["norms"])
    val = PackedGraphStore.open(packed_demo.packed_dir / "val")
    validations = values(run_dir, "val/loss")
    assert len(report["prediction_histograms"]) == len(validations) >= 2  # val_check_interval 0.5
    assert all(sum(h["counts"]) == len(val) for h in report["prediction_histograms"])
    rows = report["per_target_residuals"]["per_target"]
    assert sorted(r["target"] for r in rows) == sorted(val.target_names)
    assert sum(r["n_models"] for r in rows) == len(val)


def test_the_seed_decides_the_run(packed_demo, make_params, tmp_path, clean_env):
    def best_score(seed: int, name: str) -> float:
        params = make_params("ci_fast", "trainer.max_epochs=1", f"seed={seed}")
        return train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / name)["best"]["score"]

    first = best_score(5, "a")
    torch.rand(3)  # whatever ran before must not matter
    assert best_score(5, "b") == first
    assert best_score(6, "c") != first
