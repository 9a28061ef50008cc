"""Two-process DDP on CPU (torchrun, gloo): validation metrics are gathered over the whole validation set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graphqa.compose import composed
from graphqa.data import PackedGraphStore
from graphqa.evaluation.metrics import compute_metrics
from graphqa.inference.checkpoint import load_checkpoint, load_network
from graphqa.inference.predictor import predict_store

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import sys\n"
    "from graphqa.config import load_params\n"
    "from graphqa.training.run import train_run\n"
    "train_run(load_params(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])\n"
)


def _assert_best_metrics_match_single_process(run_dir: Path, packed_dir: Path, batch_size: int) -> None:
    """The best checkpoint's validation metrics (gathered over ranks) equal one process evaluating it."""
    best = run_dir / "checkpoints" / "best.ckpt"
    ranked_on = load_checkpoint(best)["graphqa"]["val_metrics"]
    model, _, _ = load_network(best)
    val = PackedGraphStore.open(packed_dir / "val")
    single = compute_metrics(predict_store(model, val, batch_size=batch_size), val.y, val.target_index)
    assert single["loss"] == pytest.approx(ranked_on["loss"], rel=1e-4)
    assert single["spearman"] == pytest.approx(ranked_on["spearman"], abs=1e-6)


@pytest.mark.slow
def test_ddp_with_torchrun_gathers_whole_set_validation(packed_demo, tmp_path):
    raw = composed(["ci_fast", "ddp"], ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.max_epochs=2",
                                        "runtime.num_workers=0", "data.batch_size=16"], config_dir=ROOT / "params")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "train.py").write_text(SCRIPT)
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "train.py",
         "params.yaml", str(packed_demo.packed_dir), str(packed_demo.schema_path), str(run_dir)],
        cwd=tmp_path, capture_output=True, text=True, timeout=420,
        env={**os.environ, "OMP_NUM_THREADS": "1", "GRAPHQA_PROGRESS_BAR": "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert json.loads((run_dir / "run_manifest.json").read_text())["world_size"] == 2

    # each rank validated half of the set; the logged metrics are those of the whole set
    _assert_best_metrics_match_single_process(run_dir, packed_demo.packed_dir, batch_size=5)


@pytest.mark.slow
def test_ddp_training_stage_spawned_by_lightning(packed_demo, tmp_path):
    """The real train stage with the ddp profile on 2 CPU processes that Lightning launches itself."""
    raw = composed(["ci_fast", "ddp"], ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.max_epochs=3",
                                        "runtime.num_workers=0", "data.batch_size=16"], config_dir=ROOT / "params")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    run_dir = tmp_path / "runs" / "baseline-222"
    result = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "train.py"), "--variant", "baseline", "--seed", "222",
         "--packed", str(packed_demo.packed_dir), "--schema", str(packed_demo.schema_path),
         "--out", str(run_dir), "--params", "params.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=420,
        env={**os.environ, "OMP_NUM_THREADS": "1", "GRAPHQA_PROGRESS_BAR": "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run_dir / "run_manifest.json").read_text())["world_size"] == 2
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"

    # only rank 0 logged: one validation row per epoch, no duplicates
    rows = (run_dir / "dvclive/plots/metrics/val/loss.tsv").read_text().splitlines()[1:]
    assert len(rows) == 3 and len({r.split("\t")[1] for r in rows}) == 3

    _assert_best_metrics_match_single_process(run_dir, packed_demo.packed_dir, batch_size=64)
