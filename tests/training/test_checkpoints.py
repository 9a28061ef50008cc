"""Checkpoint safety and initialisation from another run (fine-tuning)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from graphqa.data import FeatureSchema, SchemaMismatch
from graphqa.inference.checkpoint import CheckpointError, load_checkpoint, load_network
from graphqa.training.checkpoint import SafeCheckpointIO, init_from_checkpoint
from graphqa.training.module import GraphQAModule
from graphqa.training.resume import ResumeState, run_identity
from graphqa.training.run import train_run


class RunsCode:
    """Pickles as a call to os.system: loading it unsafely would run the command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.fixture(scope="module")
def trained(packed_demo, make_params, tmp_path_factory):
    """A finished 2-epoch ci_fast run on the shared demo data."""
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    params = make_params("ci_fast")
    train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    return run_dir, params


def test_init_from_refuses_a_schema_mismatch_naming_the_dims(trained, packed_demo):
    run_dir, params = trained
    schema = FeatureSchema.load(packed_demo.schema_path)
    other = FeatureSchema(node_dim=schema.node_dim + 3, edge_dim=schema.edge_dim - 1)
    module = GraphQAModule(other.node_dim, other.edge_dim, params, other.to_dict())
    with pytest.raises(SchemaMismatch) as info:
        init_from_checkpoint(module, run_dir / "checkpoints" / "best.ckpt", other)
    message = str(info.value)
    assert f"node_dim {schema.node_dim} != {schema.node_dim + 3}" in message
    assert f"edge_dim {schema.edge_dim} != {schema.edge_dim - 1}" in message
    assert "best.ckpt" in message


def test_init_from_refuses_a_different_network(trained, packed_demo, make_params):
    run_dir, _ = trained
    schema = FeatureSchema.load(packed_demo.schema_path)
    wider = make_params("ci_fast", "model.hidden_dim=16")
    module = GraphQAModule(schema.node_dim, schema.edge_dim, wider, schema.to_dict())
    with pytest.raises(CheckpointError, match=r"best\.ckpt: network does not match.*node_encoder\.weight"):
        init_from_checkpoint(module, run_dir / "checkpoints" / "best.ckpt", schema)


def test_init_from_loads_weights_only_and_the_new_learning_rate_applies(trained, packed_demo, make_params, tmp_path):
    run_dir, params = trained
    best = run_dir / "checkpoints" / "best.ckpt"
    schema = FeatureSchema.load(packed_demo.schema_path)
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict())
    init_from_checkpoint(module, best, schema)
    saved = load_checkpoint(best)["state_dict"]
    for key, value in module.state_dict().items():
        assert torch.equal(value, saved[key]), key

    finetune = make_params("ci_fast", "optimizer.lr=0.0007", "trainer.max_epochs=1")
    summary = train_run(finetune, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / "ft", init_from=best)
    assert summary["status"] == "completed" and summary["init_from"] == str(best)
    lr_path = tmp_path / "ft" / "dvclive" / "plots" / "metrics" / "lr.tsv"
    first_lr = float(lr_path.read_text().splitlines()[1].split("\t")[1])
    assert first_lr == pytest.approx(0.0007)  # fresh optimizer, not the checkpoint's lr=0.005 state
    manifest = (tmp_path / "ft" / "run_manifest.json").read_text()
    assert str(best) in manifest


def test_corrupt_checkpoints_are_refused_naming_the_file(trained, tmp_path):
    run_dir, _ = trained
    good = (run_dir / "checkpoints" / "best.ckpt").read_bytes()
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_text("not a checkpoint at all")
    for path in (truncated, garbage):
        with pytest.raises(CheckpointError, match=rf"{path.name}: not a readable checkpoint"):
            load_checkpoint(path)
        with pytest.raises(CheckpointError, match=path.name):
            load_network(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.ckpt")
    not_ours = tmp_path / "plain.ckpt"
    torch.save({"state_dict": {}}, not_ours)
    with pytest.raises(CheckpointError, match="not a graphqa checkpoint"):
        load_checkpoint(not_ours)


def test_code_carrying_checkpoints_are_refused_and_never_run(trained, packed_demo, make_params, tmp_path, caplog):
    run_dir, _ = trained
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.ckpt"
    payload = load_checkpoint(run_dir / "checkpoints" / "best.ckpt")
    payload["graphqa"]["note"] = RunsCode(f"touch {marker}")
    torch.save(payload, evil)

    with pytest.raises(CheckpointError, match=r"evil\.ckpt: refused"):
        load_checkpoint(evil)
    with pytest.raises(CheckpointError, match="refused"):
        load_network(evil)
    with pytest.raises(CheckpointError, match="refused"):
        SafeCheckpointIO().load_checkpoint(evil, weights_only=False)  # Lightning's resume path: still safe
    schema = FeatureSchema.load(packed_demo.schema_path)
    module = GraphQAModule(schema.node_dim, schema.edge_dim, make_params("ci_fast"), schema.to_dict())
    with pytest.raises(CheckpointError, match="refused"):
        init_from_checkpoint(module, evil, schema)

    # a run whose saved resume state holds such a last.ckpt starts clean instead
    resumed_dir = tmp_path / "run"
    params = make_params("ci_fast", "resume", "trainer.max_epochs=1")
    state = ResumeState(resumed_dir, run_identity(params, packed_demo.packed_dir, schema.digest(), None))
    (state.state / "checkpoints").mkdir(parents=True)
    shutil.copy(evil, state.state / "checkpoints" / "last.ckpt")
    (state.folder / "identity.json").write_text(json.dumps(dataclasses.asdict(state.identity)))
    assert state.usable()
    summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, resumed_dir)
    assert summary["status"] == "completed" and summary["resumed"] is False
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert not marker.exists(), "the pickled command ran"


def test_checkpoint_io_writes_atomically(tmp_path):
    target = tmp_path / "a.ckpt"
    SafeCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(2)}, "graphqa": {}}, target)
    assert load_checkpoint(target)["state_dict"]["w"].sum() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ckpt"]  # no temporary left behind


def test_every_saved_checkpoint_is_weights_only_loadable(trained):
    run_dir, _ = trained
    paths = sorted(Path(run_dir / "checkpoints").glob("*.ckpt"))
    assert {"best.ckpt", "second_best.ckpt", "last.ckpt"} <= {p.name for p in paths}
    for path in paths:
        checkpoint = torch.load(path, weights_only=True)
        assert checkpoint["optimizer_states"] and checkpoint["loops"]  # full resume state, still safe
