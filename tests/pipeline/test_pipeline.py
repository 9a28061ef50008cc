"""End-to-end: the real `dvc` CLI runs the whole pipeline in a throw-away repo."""

from __future__ import annotations

import csv
import json
import time

import pytest

from tests.pipeline.conftest import Project, make_project

pytestmark = pytest.mark.slow

TRAIN_STAGES = {"schema", "pack", "train@baseline-222", "select"}
FINETUNE_STAGES = {"finetune_phase1", "finetune_phase2@101", "evaluate"}


def test_repro_writes_every_output(ci_project: Project) -> None:
    root = ci_project.root
    for path in [
        "artifacts/schema/feature_metadata.json", "artifacts/schema/dataset_coverage.json",
        "artifacts/packed/train", "runs/sweep/baseline-222/checkpoints/best.ckpt",
        "runs/sweep/baseline-222/summary.json", "runs/sweep/baseline-222/run_manifest.json",
        "artifacts/selection/winner.json", "artifacts/selection/leaderboard.md", "artifacts/selection/curves.csv",
        "runs/finetune/phase1/checkpoints/best.ckpt", "runs/finetune/phase2/101/checkpoints/best.ckpt",
        "eval/headline.json", "eval/candidates.json", "eval/predictions.csv", "eval/per_target.csv",
        "eval/metrics.json", "eval/plots/training_curves.csv",
        "artifacts/model/model.json", "artifacts/model/feature_metadata.json",
    ]:
        assert (root / path).exists(), path
    headline = ci_project.json("eval/headline.json")
    assert headline["final_candidate"] in {"sweep_winner", "phase1", "phase2_seed101"}
    # the metrics `dvc exp show` reads are this run's headline
    assert ci_project.json("eval/metrics.json")["test_spearman"] == headline["test_spearman"]
    for key in ("test_loss", "test_spearman", "test_ranking_loss", "test_hit_rate@0.23", "sweep_winner_val_selection"):
        assert isinstance(headline[key], float), key
    with (root / "eval/predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"TARGET", "MODEL", "PRED_DOCKQ", "TRUE_DOCKQ", "RANK"}
    assert all(0.0 <= float(r["PRED_DOCKQ"]) <= 1.0 for r in rows)
    assert {r["RANK"] for r in rows if r["TARGET"] == rows[0]["TARGET"]} >= {"1", "2"}


def test_second_repro_changes_nothing(ci_project: Project) -> None:
    result = ci_project.dvc("repro")
    assert "Data and pipelines are up to date." in result.stdout
    assert ci_project.dvc("status", "--json").stdout.strip() in ("{}", "")


def test_dvc_plots_show_renders_every_plot(ci_project: Project) -> None:
    result = ci_project.dvc("plots", "show", "--json")
    shown = json.loads(result.stdout)
    assert not shown.get("errors"), shown["errors"]
    names = " ".join(name for name, renders in shown["data"].items() if renders)
    for expected in ["Training loss per epoch", "Validation loss per epoch", "Validation Spearman per epoch",
                     "Predicted vs true", "Ranking loss per test target", "hit counts"]:
        assert expected in names, (expected, list(shown["data"]))
    assert "dvclive" not in names, "DVCLive's per-run files are outputs, not charts"
    html = ci_project.dvc("plots", "show", "-o", "plots_html")
    assert "error" not in html.stderr.lower(), html.stderr
    page = (ci_project.root / "plots_html" / "index.html").read_text()
    assert "Validation loss per epoch" in page and "Predicted vs true DockQ" in page


def test_finetune_params_rerun_only_finetune_and_evaluate(ci_project: Project) -> None:
    ci_project.graphqa("params", "compose", "--profile", "ci_fast", "finetune.phase1.optimizer.lr=0.0002")
    # dvc status names the stages whose own inputs changed; the rest follow from their outputs.
    stale = json.loads(ci_project.dvc("status", "--json").stdout)
    assert set(stale) == {"check_params", "finetune_phase1"}  # check_params reads every section (cheap, no output change)
    assert "finetune.phase1" in json.dumps(stale["finetune_phase1"])
    result = ci_project.dvc("repro")
    for stage in TRAIN_STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in result.stdout, stage
    for stage in FINETUNE_STAGES:
        assert f"Running stage '{stage}'" in result.stdout, stage


def _wait_for_queue(project: Project, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = project.dvc("queue", "status").stdout
        if not any(state in status for state in ("Queued", "Running")):
            return status
        time.sleep(5)
    raise AssertionError(f"queue still busy after {timeout}s:\n{status}")


def _experiments(project: Project) -> list[dict]:
    shown = json.loads(project.dvc("exp", "show", "--json").stdout)
    return [exp for commit in shown for exp in (commit.get("experiments") or [])]


def test_queued_experiments_in_parallel(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`dvc exp run --queue` with a seed grid (a bad override refused at once), run with `dvc queue start -j 2`."""
    project = make_project(tmp_path_factory.mktemp("queue") / "repo")
    project.dvc("exp", "run", "--queue", "-S", "profile=ci_fast", "-S", "seed=1,2")
    # a bad value is refused while queueing (params are checked as DVC composes them), not after a worker started
    refused = project.dvc("exp", "run", "--queue", "-n", "bad-lr", "-S", "profile=ci_fast", "-S", "optimizer.lr=-1",
                          check=False)
    assert refused.returncode != 0
    assert "optimizer.lr: expected a learning rate > 0" in refused.stdout + refused.stderr
    project.dvc("queue", "start", "-j", "2")
    status = _wait_for_queue(project)
    assert status.count("Success") == 2 and "Failed" not in status, status

    rows = {}
    for exp in _experiments(project):
        for rev in exp.get("revs", []):
            data = (rev.get("data") or {})
            params = data.get("params", {}).get("params.yaml", {}).get("data", {})
            metrics = data.get("metrics", {}).get("eval/metrics.json", {}).get("data", {})
            if params.get("seed") in (1, 2):
                rows[params["seed"]] = (params, metrics)
    assert set(rows) == {1, 2}, rows
    baseline = json.loads(project.run("git", "show", "HEAD:eval/metrics.json").stdout)  # the committed demo run's
    for seed, (params, metrics) in rows.items():
        assert params["profiles"] == {"ci_fast": True}
        assert params["sweep"]["seeds"] == [seed]
        assert isinstance(metrics["test_spearman"], float) and isinstance(metrics["test_ranking_loss"], float)
        assert metrics["test_spearman"] != baseline["test_spearman"], "the experiment's own evaluate wrote them"
