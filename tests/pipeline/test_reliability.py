"""Faults across the whole pipeline, through the real `dvc` CLI (docs/RELIABILITY.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipeline.conftest import BIN, Project, make_project

pytestmark = pytest.mark.slow

SWEEP = ["sweep.variants=[baseline,low_lr]", "trainer.max_epochs=8", "trainer.limit_train_batches=6"]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"dvc repro ended ({proc.returncode}) before {path} appeared"
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout}s"
        time.sleep(0.2)


def test_killed_sweep_resumes_unfinished_members_only(tmp_path_factory: pytest.TempPathFactory) -> None:
    project = make_project(tmp_path_factory.mktemp("killed") / "repo", profile=None)
    project.graphqa("params", "compose", "--profile", "ci_fast", *SWEEP)
    project.commit("two-member sweep")
    root = project.root

    proc = subprocess.Popen([str(BIN / "dvc"), "repro"], cwd=root, env=project.env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(root / "runs/sweep/baseline-222/summary.json", proc)
        _wait_for(root / "runs/sweep/low_lr-222/checkpoints/last.ckpt", proc)
        time.sleep(1.0)  # into a later epoch of the second member
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process tree, as a scheduler would
        proc.wait()
    assert not (root / "runs/sweep/low_lr-222/summary.json").exists(), "killed before the member finished"
    finished = (root / "runs/sweep/baseline-222/summary.json").read_bytes()

    project.graphqa("params", "compose", "--profile", "ci_fast", "--profile", "resume", *SWEEP)
    project.dvc("repro")

    resumed = project.json("runs/sweep/low_lr-222/summary.json")
    assert resumed["status"] == "completed"
    assert resumed["resumed_from"] and resumed["resumed_from"].endswith("last.ckpt")
    assert resumed["started_at_epoch"] >= 1, "continued from the checkpoint, not from epoch 0"
    # DVC re-links cached files, so mtimes say nothing; a retrain would rewrite the summary (wall time…).
    assert (root / "runs/sweep/baseline-222/summary.json").read_bytes() == finished, \
        "the finished member was not retrained"
    # The DVCLive history of the resumed member has each validation exactly once.
    steps = [line.split("\t")[1] for line in
             (root / "runs/sweep/low_lr-222/dvclive/plots/metrics/val/loss.tsv").read_text().splitlines()[1:]]
    assert len(steps) == len(set(steps)) == 8
    # Same structure as an uninterrupted run.
    for path in ["artifacts/selection/winner.json", "eval/headline.json", "artifacts/model/model.json"]:
        assert (root / path).exists(), path
    assert project.dvc("status", "--json").stdout.strip() in ("{}", "")


def _corrupt_first_graph(project: Project) -> Path:
    graph = sorted((project.root / "data/graphs").rglob("*.pt"))[0]
    graph.chmod(0o644)
    graph.write_bytes(graph.read_bytes()[:100])  # truncated
    return graph


def test_bad_graph_fails_the_schema_stage_and_leaves_nothing_stale(tmp_path_factory: pytest.TempPathFactory) -> None:
    project = make_project(tmp_path_factory.mktemp("badgraph") / "repo")
    project.dvc("repro", "schema")
    assert (project.root / "artifacts/schema/feature_metadata.json").exists()

    graph = _corrupt_first_graph(project)
    result = project.dvc("repro", "schema", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "failed to reproduce 'schema'" in output
    assert graph.name in output
    assert "Traceback" not in output
    # DVC removed the old outputs before the stage ran; the failed stage wrote none.
    assert not (project.root / "artifacts/schema/feature_metadata.json").exists()
    assert not (project.root / "artifacts/schema/dataset_coverage.json").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.precision=fp8", "trainer.precision: 'fp8' is not allowed"),
        ("+trainer.bogus=1", "trainer.bogus: unknown key"),
        ("data.batch_size=many", "data.batch_size: expected an integer"),
        ("trainer.bogus=1", "Could not override 'trainer.bogus'"),
    ],
)
def test_bad_params_fail_before_training(tmp_path_factory: pytest.TempPathFactory, override: str,
                                         message: str) -> None:
    project = make_project(tmp_path_factory.mktemp("badparams") / "repo")
    result = project.dvc("exp", "run", "-S", override, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not list(project.root.glob("runs/**/*.ckpt")), "nothing trained"
