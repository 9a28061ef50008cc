"""GraphDataModule: loaders configured by params, schema checks, a real Lightning fit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from graphqa.config import Params, load_params
from graphqa.data import GraphBatch, GraphDataModule, SchemaMismatch

_BASE = load_params(Path(__file__).resolve().parents[2] / "params.yaml")


_RUNTIME = {"num_workers", "pin_memory", "prefetch_factor", "persistent_workers", "eval_batch_size"}


def _params(**keys) -> Params:  # noqa: ANN003
    """The repository's params with ``data``/``runtime`` keys overridden (and seed 11)."""
    overlay = {"data": {k: v for k, v in keys.items() if k not in _RUNTIME},
               "runtime": {k: v for k, v in keys.items() if k in _RUNTIME}}
    return _BASE.with_overlay(overlay, seed=11)


def test_loaders_follow_params(packed_demo) -> None:  # noqa: ANN001
    dm = GraphDataModule(packed_demo.packed_dir, _params(batch_size=10, eval_batch_size=7, shuffle=True, drop_last=True))
    dm.setup("fit")
    assert (dm.schema.node_dim, dm.schema.edge_dim) == (172, 11)
    train = list(dm.train_dataloader())
    assert [b.num_graphs for b in train] == [10] * 9 and all(isinstance(b, GraphBatch) for b in train)
    assert len({i for b in train for i in b.index.tolist()}) == 90
    val = list(dm.val_dataloader())
    assert [b.num_graphs for b in val] == [7, 7, 2]  # eval: no shuffle, no drop
    assert [i for b in val for i in b.index.tolist()] == list(range(16))
    assert sum(b.num_graphs for b in dm.test_dataloader()) == 16
    again = list(GraphDataModule(packed_demo.packed_dir, _params(batch_size=10, shuffle=True, drop_last=True)).train_dataloader())
    assert [b.index.tolist() for b in again] == [b.index.tolist() for b in train], "seeded by params.seed"


def test_loader_with_workers(packed_demo) -> None:  # noqa: ANN001
    dm = GraphDataModule(packed_demo.packed_dir, _params(batch_size=16, num_workers=2, persistent_workers=True,
                                                         prefetch_factor=3))
    loader = dm.train_dataloader()
    assert (loader.num_workers, loader.prefetch_factor, loader.persistent_workers) == (2, 3, True)
    for _ in range(2):  # persistent workers survive an epoch
        assert sorted(i for b in loader for i in b.index.tolist()) == list(range(96))


def test_repo_params_build_a_datamodule(packed_demo, repo_root: Path) -> None:  # noqa: ANN001
    params = load_params(repo_root / "params.yaml")
    batch = next(iter(GraphDataModule(packed_demo.packed_dir, params).val_dataloader()))
    assert batch.num_graphs == min(params.runtime.eval_batch_size, 16)


def test_schema_mismatch_between_store_and_schema(packed_demo, tmp_path: Path) -> None:  # noqa: ANN001
    packed = shutil.copytree(packed_demo.packed_dir, tmp_path / "packed")
    data = json.loads((packed / "feature_metadata.json").read_text())
    data["edge_schema"].update(dim=12, columns=[*data["edge_schema"]["columns"], "extra"])
    data.pop("digest")
    (packed / "feature_metadata.json").write_text(json.dumps(data))
    with pytest.raises(SchemaMismatch, match=r"train: node dim 172 / edge dim 11, but .*feature_metadata\.json says 172 / 12"):
        GraphDataModule(packed, _params()).setup("fit")


def test_lightning_fit_moves_batches_and_reshuffles_each_epoch(packed_demo, tmp_path: Path) -> None:  # noqa: ANN001
    import lightning as L

    class MeanPoolRegressor(L.LightningModule):
        def __init__(self, node_dim: int) -> None:
            super().__init__()
            self.head = torch.nn.Linear(node_dim, 1)
            self.seen: list[list[int]] = []

        def forward(self, batch: GraphBatch) -> torch.Tensor:
            pooled = torch.zeros(batch.num_graphs, batch.x.shape[1]).index_add_(0, batch.batch, batch.x)
            counts = torch.bincount(batch.batch, minlength=batch.num_graphs).clamp(min=1).unsqueeze(1)
            return torch.sigmoid(self.head(pooled / counts)).squeeze(1)

        def training_step(self, batch: GraphBatch, _: int) -> torch.Tensor:
            while len(self.seen) <= self.current_epoch:
                self.seen.append([])
            self.seen[self.current_epoch].extend(batch.index.tolist())
            loss = torch.nn.functional.mse_loss(self(batch), batch.y)
            self.log("train_loss", loss, batch_size=batch.num_graphs)
            return loss

        def validation_step(self, batch: GraphBatch, _: int) -> None:
            self.log("val_loss", torch.nn.functional.mse_loss(self(batch), batch.y), batch_size=batch.num_graphs)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=0.01)

    dm = GraphDataModule(packed_demo.packed_dir, _params(batch_size=32))
    model = MeanPoolRegressor(dm.schema.node_dim)
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", devices=1, use_distributed_sampler=False, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    trainer.fit(model, datamodule=dm)
    assert len(model.seen) == 2
    assert sorted(model.seen[0]) == sorted(model.seen[1]) == list(range(96))
    assert model.seen[0] != model.seen[1], "Lightning's set_epoch reached the sampler"
    assert torch.isfinite(trainer.callback_metrics["val_loss"])
