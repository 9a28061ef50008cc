"""A model that scores graphs: one checkpoint, or the mean of several (an ensemble).

The evaluate stage scores its candidates with :class:`Predictor` and exports
the final one; ``graphqa predict`` loads the export. One code path for both, so
predict reproduces evaluate's numbers.

The export is a model directory (:mod:`graphqa.inference.model_dir`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphqa.inference.model_dir import SCHEMA_FILE, checkpoint_names, model_checkpoints, write_model_spec
from graphqa.io import atomic_copy


@dataclass
class Predictor:
    """Networks loaded from checkpoints; predictions are their mean."""

    checkpoints: list[Path]
    networks: list[Any] = field(repr=False)
    schema: Any = field(repr=False)  # graphqa.data.FeatureSchema
    compile: str = "off"  # trainer.compile of the first checkpoint (graphqa.models.compile): auto compiles large stores

    @classmethod
    def from_checkpoints(cls, checkpoints: Sequence[Path | str]) -> Predictor:
        """Load each checkpoint safely; all must share one schema."""
        from graphqa.inference.checkpoint import load_network

        if not checkpoints:
            raise ValueError("a scoring model needs at least one checkpoint")
        networks, schema, compile_mode = [], None, "off"
        for path in map(Path, checkpoints):
            network, ckpt_schema, params = load_network(path)
            if schema is None:
                schema, compile_mode = ckpt_schema, params.trainer.compile
            else:
                schema.check_compatible(ckpt_schema)
            networks.append(network)
        return cls([Path(c) for c in checkpoints], networks, schema, compile_mode)

    @classmethod
    def load(cls, path: Path | str) -> Predictor:
        """From an exported model dir (``model.json``) or a single ``.ckpt``."""
        return cls.from_checkpoints(model_checkpoints(path))

    def predict(self, store: Any, batch_size: int = 128, device: str = "cpu") -> np.ndarray:
        """Predicted DockQ for every graph of ``store``, in store order (the members' mean)."""
        return ensemble_mean([predict_store(network, store, batch_size, device, compile=self.compile)
                              for network in self.networks])

    def export(self, out_dir: Path, schema_file: Path, info: dict[str, Any]) -> Path:
        """Write the export layout into ``out_dir`` (files renamed into place)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        names = checkpoint_names(len(self.checkpoints))
        for source, name in zip(self.checkpoints, names, strict=True):
            atomic_copy(source, out_dir / name)
        atomic_copy(schema_file, out_dir / SCHEMA_FILE)
        write_model_spec(out_dir, names, info)
        return out_dir


def ensemble_mean(predictions: Sequence[Any]) -> np.ndarray:
    """The members' mean, in float64 and cast once to float32 (the same arithmetic everywhere)."""
    return np.mean([np.asarray(p, dtype=np.float64) for p in predictions], axis=0).astype(np.float32)


@torch.inference_mode()
def predict_store(network: torch.nn.Module, store: Any, batch_size: int = 128,
                  device: str | torch.device = "cpu", compile: str = "off") -> np.ndarray:
    """Scores of every graph of ``store`` (a PackedGraphStore), in store order, as float32.

    ``compile``: ``trainer.compile`` (off | on | auto; auto counts the store's batches as the run's length).
    """
    from graphqa.models.compile import compile_network

    device = torch.device(device)
    compile_network(network, compile, planned_steps=-(-len(store) // batch_size), device_type=device.type)
    was_training = network.training
    network.eval().to(device)
    outputs = []
    try:
        for start in range(0, len(store), batch_size):
            indices = torch.arange(start, min(start + batch_size, len(store)))
            outputs.append(network(store.batch(indices).to(device)).float().cpu())
    finally:
        network.train(was_training)
    return (torch.cat(outputs) if outputs else torch.empty(0)).numpy()
