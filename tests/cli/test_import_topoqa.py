"""``graphqa import-topoqa``: a TopoQA-layout checkpoint becomes a model dir that predicts as the published
network does, refuses what is unsafe or misshaped naming the key, and starts training (``model.init_from``)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import torch

from graphqa.data import GraphBatch
from graphqa.data.graph import load_graph
from graphqa.data.layout import GRAPH_METADATA
from tests.cli.conftest import ci_params
from tests.models.topoqa_reference import random_published_weights, topoqa_reference


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def released_checkpoint(path: Path, weights: dict[str, torch.Tensor], prefix: str = "model.") -> Path:
    """A Lightning-style checkpoint as the TopoQA release writes it: plain dicts and tensors."""
    torch.save({"epoch": 144, "global_step": 9000, "pytorch-lightning_version": "2.1.0",
                "state_dict": {prefix + k: v for k, v in weights.items()},
                "hyper_parameters": {"pooling_type": "mean", "num_net": 1, "hidden_dim": 32, "heads": 8}}, path)
    return path


def as_batch(graph_file: Path) -> GraphBatch:
    graph = load_graph(graph_file)
    n = graph.num_nodes
    return GraphBatch(x=graph.x, edge_index=graph.edge_index, edge_attr=graph.edge_attr,
                      batch=torch.zeros(n, dtype=torch.long), y=torch.zeros(1), target=torch.zeros(1, dtype=torch.long),
                      index=torch.zeros(1, dtype=torch.long), num_graphs=1)


@pytest.fixture(scope="module")
def two_targets(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two targets of the demo (QTopoQA layout, graph_metadata.json included): 32 graphs of 172/11 features."""
    graphs = tmp_path_factory.mktemp("topoqa") / "graphs"
    targets = sorted(p for p in (demo_dir / "graphs").iterdir() if p.is_dir())[:2]
    for target in targets:
        shutil.copytree(target, graphs / target.name)
    shutil.copy(demo_dir / "graphs" / GRAPH_METADATA, graphs / GRAPH_METADATA)
    return graphs


def test_an_imported_checkpoint_scores_graphs_as_the_published_network(cli, two_targets, tmp_path):
    weights = random_published_weights(seed=5)
    ckpt = released_checkpoint(tmp_path / "topoqa.ckpt", weights)
    model_dir = tmp_path / "topoqa_model"
    result = cli("import-topoqa", ckpt, "--out", model_dir)
    assert result.exit_code == 0, result.output
    assert f"wrote {model_dir}" in result.stdout and "conv3" in result.stdout  # the unused third conv, noted
    assert sorted(p.name for p in model_dir.iterdir()) == ["feature_metadata.json", "model.ckpt", "model.json"]

    out = tmp_path / "preds.csv"
    result = cli("predict", "--model", model_dir, "--graphs", two_targets, "--out", out, "--batch-size", "7")
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(list(two_targets.glob("*/*.pt"))) == 32
    for row in rows:
        graph_file = two_targets / row["TARGET"] / f"{row['MODEL']}.pt"
        with torch.no_grad():
            expected = float(topoqa_reference(weights, as_batch(graph_file))[0])
        assert float(row["PRED_DOCKQ"]) == pytest.approx(expected, abs=1e-5), row["MODEL"]
    assert len({row["PRED_DOCKQ"] for row in rows}) > 16  # the weights really discriminate the graphs


@pytest.mark.parametrize("prefix", ["", "model."])
def test_keys_with_or_without_the_lightning_prefix_import_the_same_weights(prefix, tmp_path):
    from graphqa.inference.checkpoint import load_network
    from graphqa.inference.topoqa_import import import_topoqa, published_name

    weights = random_published_weights(seed=2, with_conv3=False)
    imported = import_topoqa(released_checkpoint(tmp_path / "t.ckpt", weights, prefix), tmp_path / "model")
    assert imported.unused_keys == []
    network, schema, params = load_network(imported.checkpoint)
    assert params.model.arch == "topoqa" and (schema.node_dim, schema.edge_dim) == (172, 11)
    assert schema.node_columns[:3] == ["rasa", "phi", "psi"] and schema.edge_columns[0] == "distance"
    for name, tensor in network.state_dict().items():
        assert torch.equal(tensor, weights[published_name(name)]), name


def test_a_checkpoint_carrying_code_is_refused_and_never_run(cli, tmp_path, monkeypatch):
    weights = random_published_weights(seed=1)
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": weights, "hyper_parameters": {"callback": _RunsCode()}}, evil)
    monkeypatch.chdir(tmp_path)
    result = cli("import-topoqa", evil, "--out", tmp_path / "model")
    assert result.exit_code == 2
    assert "evil.ckpt: refused" in result.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "model").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda w: w.pop("conv2.0.att"), r"missing key 'conv2\.0\.att' \(expected shape \(1, 8, 32\)\)"),
    (lambda w: w.pop("conv1.0.edge_linear.bias"), r"missing key 'conv1\.0\.edge_linear\.bias'"),
    (lambda w: w.update({"fc_edge.weight": torch.zeros(8, 32)}),
     r"key 'fc_edge\.weight' has shape \(8, 32\), expected \(16, 32\)"),
    (lambda w: w.update({"embed.0.weight": torch.zeros(32, 160)}),
     r"key 'embed\.0\.weight' has shape \(32, 160\), expected \(32, 172\)"),
    (lambda w: w.update({"embed.1.weight": torch.zeros(32, 172)}), r"unexpected key 'embed\.1\.weight'"),
])
def test_a_missing_misshaped_or_foreign_key_is_named(cli, tmp_path, change, message):
    weights = random_published_weights(seed=3)
    change(weights)
    result = cli("import-topoqa", released_checkpoint(tmp_path / "bad.ckpt", weights), "--out", tmp_path / "model")
    assert result.exit_code == 2
    assert "bad.ckpt" in result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert not (tmp_path / "model").exists()


def test_training_starts_from_the_imported_weights_and_refuses_another_arch(packed_demo, tmp_path):
    from graphqa.data import FeatureSchema, SchemaMismatch
    from graphqa.inference.checkpoint import CheckpointError
    from graphqa.inference.topoqa_import import import_topoqa
    from graphqa.training.checkpoint import init_from_checkpoint
    from graphqa.training.module import GraphQAModule
    from graphqa.training.run import train_run

    model_dir = import_topoqa(released_checkpoint(tmp_path / "t.ckpt", random_published_weights(seed=4)),
                              tmp_path / "topoqa_model").out_dir
    schema = FeatureSchema.load(packed_demo.schema_path)
    params = ci_params("model.arch=topoqa", f"model.init_from={model_dir}", "trainer.max_epochs=1")

    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict())
    init_from_checkpoint(module, model_dir, schema)
    imported = torch.load(model_dir / "model.ckpt", weights_only=True)["state_dict"]
    for name, tensor in module.model.state_dict().items():
        assert torch.equal(tensor, imported[f"model.{name}"]), name

    other = GraphQAModule(schema.node_dim, schema.edge_dim, ci_params(), schema.to_dict())
    with pytest.raises(CheckpointError, match=r"model\.arch='topoqa', this run trains model\.arch='gatv2_edge'"):
        init_from_checkpoint(other, model_dir, schema)
    renamed = FeatureSchema.from_dict({**schema.to_dict(), "digest": None,
                                       "node_schema": {"dim": 172, "columns": [f"c{i}" for i in range(172)]}})
    with pytest.raises(SchemaMismatch, match=r"cannot initialise.*node column 0 'rasa' != 'c0'"):
        init_from_checkpoint(module, model_dir, renamed)

    summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / "run")
    assert summary["status"] == "completed" and summary["init_from"] == str(model_dir)
