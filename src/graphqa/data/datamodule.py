"""LightningDataModule over the packed stores of ``artifacts/packed/<split>/``."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader, Dataset

from graphqa.config import Params
from graphqa.data.batch import GraphBatch
from graphqa.data.errors import SchemaMismatch
from graphqa.data.sampler import GraphBatchSampler
from graphqa.data.schema import FEATURE_METADATA, FeatureSchema
from graphqa.data.store import PackedGraphStore


class BatchView(Dataset):
    """A dataset whose items are whole batches: ``view[[i, j, k]] -> store.batch([i, j, k])``.

    Used with ``DataLoader(view, sampler=GraphBatchSampler(...), batch_size=None)``, so the
    loader (and its workers) build each batch with one gather from the store.
    """

    def __init__(self, store: PackedGraphStore) -> None:
        self.store = store

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, indices: list[int]) -> GraphBatch:
        return self.store.batch(indices)


class GraphDataModule(L.LightningDataModule):
    """Train / val / test loaders over packed stores, configured by ``params.data``, ``params.runtime`` and ``params.seed``.

    Example::

        dm = GraphDataModule("artifacts/packed", load_params())
        dm.setup("fit"); next(iter(dm.train_dataloader()))   # GraphBatch
        dm.schema.node_dim
    """

    def __init__(self, packed_dir: str | Path, params: Params, schema_path: str | Path | None = None) -> None:
        super().__init__()
        self.packed_dir = Path(packed_dir)
        self.params = params
        self.schema_path = Path(schema_path) if schema_path is not None else self.packed_dir / FEATURE_METADATA
        self._schema: FeatureSchema | None = None
        self._stores: dict[str, PackedGraphStore] = {}

    @property
    def schema(self) -> FeatureSchema:
        """The feature schema of the packed data."""
        if self._schema is None:
            self._schema = FeatureSchema.load(self.schema_path)
        return self._schema

    def store(self, split: str) -> PackedGraphStore:
        """The opened store of ``split`` (opened once; its dims are checked against the schema)."""
        if split not in self._stores:
            store = PackedGraphStore.open(self.packed_dir / split)
            schema = self.schema
            if (store.node_dim, store.edge_dim) != (schema.node_dim, schema.edge_dim):
                raise SchemaMismatch(
                    f"{store.directory}: node dim {store.node_dim} / edge dim {store.edge_dim}, but "
                    f"{self.schema_path} says {schema.node_dim} / {schema.edge_dim}; re-run the pack stage"
                )
            if store.schema_digest and store.schema_digest != schema.digest():
                raise SchemaMismatch(
                    f"{store.directory}: packed with schema {store.schema_digest}, but {self.schema_path} is "
                    f"{schema.digest()}; re-run the pack stage"
                )
            self._stores[split] = store
        return self._stores[split]

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ("test",)}
        for split in splits.get(stage or "", ("train", "val", "test")):
            self.store(split)

    def loader(self, split: str, *, train: bool) -> DataLoader:
        """A DataLoader of :class:`GraphBatch` over ``split`` (training order and batch size if ``train``)."""
        data, runtime = self.params.data, self.params.runtime
        store = self.store(split)
        sampler = GraphBatchSampler(
            len(store),
            data.batch_size if train else runtime.eval_batch_size,
            shuffle=data.shuffle if train else False,
            drop_last=data.drop_last if train else False,
            seed=self.params.seed,
        )
        workers = runtime.num_workers
        return DataLoader(
            BatchView(store),
            sampler=sampler,
            batch_size=None,
            num_workers=workers,
            pin_memory=runtime.pin_memory,
            prefetch_factor=runtime.prefetch_factor if workers > 0 else None,
            persistent_workers=runtime.persistent_workers if workers > 0 else False,
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self.loader("test", train=False)

    def predict_dataloader(self) -> DataLoader:
        return self.loader("test", train=False)
