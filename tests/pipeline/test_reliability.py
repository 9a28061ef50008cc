"""Faults across the whole pipeline, through the real `dvc` CLI (docs/RELIABILITY.md)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

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
    result = project.dvc("repro", "train")  # the sweep (what was killed); fine-tuning has its own tests

    resumed = project.json("runs/sweep/low_lr-222/summary.json")
    assert resumed["status"] == "completed" and resumed["resumed"] is True
    assert resumed["started_at_epoch"] >= 1, "continued from its saved state, not from epoch 0"
    # DVC committed the finished member before the kill: it is not run again.
    assert "Stage 'train@baseline-222' didn't change, skipping" in result.stdout, result.stdout
    assert (root / "runs/sweep/baseline-222/summary.json").read_bytes() == finished
    # The DVCLive history of the resumed member has each validation exactly once.
    steps = [line.split("\t")[1] for line in
             (root / "runs/sweep/low_lr-222/dvclive/plots/metrics/val/loss.tsv").read_text().splitlines()[1:]]
    assert len(steps) == len(set(steps)) == 8
    # DVC records both members as an uninterrupted sweep would: nothing left to run.
    assert project.dvc("status", "--json", "train").stdout.strip() in ("{}", "")


def _first_graph(root: Path) -> Path:
    return sorted((root / "data/graphs").rglob("*.pt"))[0]


def _rewrite_graph(root: Path, **changes: object) -> Path:
    """Re-save the first graph as a plain dict with some tensors changed (None drops a key)."""
    import torch

    from graphqa.data import load_graph

    path = _first_graph(root)
    record = load_graph(path)
    tensors = {"x": record.x, "edge_index": record.edge_index, "edge_attr": record.edge_attr, **changes}
    torch.save({k: v for k, v in tensors.items() if v is not None}, path)
    return path


def _truncate(root: Path) -> Path:
    path = _first_graph(root)
    path.write_bytes(path.read_bytes()[:100])
    return path


def _code_pickle(root: Path) -> Path:
    import pickle

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {root / 'PWNED'}",))

    path = _first_graph(root)
    path.write_bytes(pickle.dumps(RunsCode()))
    return path


def _edit_labels(root: Path, edit) -> Path:
    path = root / "data/labels/train.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _nan_features(root: Path) -> Path:
    from graphqa.data import load_graph

    record = load_graph(_first_graph(root))
    x = record.x.clone()
    x[0, 0] = float("nan")
    return _rewrite_graph(root, x=x)


def _out_of_range(root: Path) -> Path:
    from graphqa.data import load_graph

    record = load_graph(_first_graph(root))
    edges = record.edge_index.clone()
    edges[0, 0] = record.x.shape[0] + 5
    return _rewrite_graph(root, edge_index=edges)


def _other_dims(root: Path) -> Path:
    from graphqa.data import load_graph

    record = load_graph(_first_graph(root))
    return _rewrite_graph(root, x=record.x[:, :64].contiguous())


def _drop_graphs(root: Path) -> Path:
    graphs = sorted((root / "data/graphs").rglob("*.pt"))
    for path in graphs[: len(graphs) // 4]:
        path.unlink()
    return root / "data/labels"


BAD_INPUTS = {
    "truncated .pt": (_truncate, "not a readable"),
    "pickle that runs code": (_code_pickle, ""),
    "missing edge_attr": (lambda root: _rewrite_graph(root, edge_attr=None), "edge_attr"),
    "NaN features": (_nan_features, "NaN"),
    "edge_index out of range": (_out_of_range, "edge_index"),
    "node dims differ": (_other_dims, "dim"),
    "labels without dockq": (lambda root: _edit_labels(root, lambda ls: ["MODEL,score", *ls[1:]]), "dockq"),
    "NaN label": (lambda root: _edit_labels(root, lambda ls: [ls[0], ls[1].split(",")[0] + ",nan", *ls[2:]]), "nan"),
    "dockq outside [0, 1]": (lambda root: _edit_labels(root, lambda ls: [ls[0], ls[1].split(",")[0] + ",1.7",
                                                                         *ls[2:]]), "1.7"),
    "duplicate MODEL rows": (lambda root: _edit_labels(root, lambda ls: [*ls, ls[1]]), "duplicate"),
    "coverage below min_coverage": (_drop_graphs, "coverage"),
}


@pytest.fixture(scope="module")
def schema_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("baddata") / "repo")
    project.dvc("repro", "schema")
    return project


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_the_schema_stage_and_leaves_nothing_stale(schema_project: Project, case: str) -> None:
    root = schema_project.root
    # `dvc repro` re-records changed data in data.dvc: take it back from git, then the data from the cache.
    schema_project.run("git", "checkout", "-q", "--", "data.dvc")
    schema_project.dvc("checkout", "-q", "--force", "data.dvc")
    schema_project.dvc("repro", "schema")
    assert (root / "artifacts/schema/feature_metadata.json").exists()

    mutate, fragment = BAD_INPUTS[case]
    bad_file = mutate(root)
    result = schema_project.dvc("repro", "schema", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "failed to reproduce 'schema'" in output
    assert bad_file.name in output, output[-2000:]
    assert fragment.lower() in output.lower(), output[-2000:]
    assert "Traceback" not in output
    assert not (root / "PWNED").exists(), "the pickle's code did not run"
    # DVC removed the old outputs before the stage ran; the failed stage wrote none.
    assert not (root / "artifacts/schema/feature_metadata.json").exists()
    assert not (root / "artifacts/schema/dataset_coverage.json").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.precision=fp8", "trainer.precision: 'fp8' is not allowed"),
        ("+trainer.bogus=1", "trainer.bogus: unknown key"),
        ("data.batch_size=many", "data.batch_size: expected an integer"),
        ("trainer.bogus=1", "Could not override 'trainer.bogus'"),
    ],
)
def test_bad_params_fail_before_training(schema_project: Project, override: str, message: str) -> None:
    project = schema_project  # each `dvc exp run -S` composes params.yaml afresh from params/
    result = project.dvc("exp", "run", "-S", override, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not list(project.root.glob("runs/**/*.ckpt")), "nothing trained"


def test_diverging_member_fails_naming_where_and_keeps_good_checkpoints(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """NaN/inf loss (a learning rate that blows up) in the second sweep member, through dvc repro."""
    project = make_project(tmp_path_factory.mktemp("nan") / "repo", profile=None)
    project.graphqa("params", "compose", "--profile", "ci_fast", "sweep.variants=[baseline,low_lr]",
                    "sweep.overlays.low_lr.optimizer.lr=1e30")
    result = project.dvc("repro", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "failed to reproduce 'train@low_lr-222'" in output
    assert re.search(r"NaN/inf at epoch \d+, batch \d+", output), output[-2000:]
    assert project.json("runs/sweep/low_lr-222/summary.json")["status"] == "failed"

    # The member that trained before is committed by DVC and its checkpoints load.
    from graphqa.inference.checkpoint import load_network

    lock = yaml.safe_load((project.root / "dvc.lock").read_text())["stages"]
    committed = yaml.safe_load(project.run("git", "show", "HEAD:dvc.lock").stdout)["stages"]  # the repo's baseline
    assert lock["train@baseline-222"] != committed.get("train@baseline-222"), "dvc.lock records this run's member"
    for name in ("best.ckpt", "last.ckpt"):
        model, schema, _ = load_network(project.root / "runs/sweep/baseline-222/checkpoints" / name)
        assert schema.node_dim == 172
