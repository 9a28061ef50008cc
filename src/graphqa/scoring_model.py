"""A model that scores graphs: one checkpoint, or the mean of several (an ensemble).

The evaluate stage scores its candidates with it and exports the final one;
``graphqa predict`` loads the export. One code path for both, so predict
reproduces evaluate's numbers.

Export layout (``artifacts/model/``)::

    model.json              kind (single | ensemble), candidate, checkpoints, scores
    model.ckpt | member_<i>.ckpt
    feature_metadata.json   the schema the model was trained on
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphqa.io import atomic_copy, read_json, write_json

MODEL_FILE = "model.json"
SCHEMA_FILE = "feature_metadata.json"


@dataclass
class ScoringModel:
    """Networks loaded from checkpoints; predictions are their mean."""

    checkpoints: list[Path]
    networks: list[Any] = field(repr=False)
    schema: Any = field(repr=False)  # graphqa.data.FeatureSchema

    @classmethod
    def from_checkpoints(cls, checkpoints: Sequence[Path | str]) -> ScoringModel:
        """Load each checkpoint safely; all must share one schema."""
        from graphqa.training.inference import load_model

        if not checkpoints:
            raise ValueError("a scoring model needs at least one checkpoint")
        networks, schema = [], None
        for path in map(Path, checkpoints):
            network, ckpt_schema, _ = load_model(path)
            if schema is None:
                schema = ckpt_schema
            else:
                schema.check_compatible(ckpt_schema)
            networks.append(network)
        return cls([Path(c) for c in checkpoints], networks, schema)

    @classmethod
    def load(cls, path: Path | str) -> ScoringModel:
        """From an exported model dir (``model.json``) or a single ``.ckpt``."""
        path = Path(path)
        if path.is_dir():
            spec_path = path / MODEL_FILE
            if not spec_path.is_file():
                raise FileNotFoundError(f"{path}: not an exported model (no {MODEL_FILE}); "
                                        "expected the evaluate stage's artifacts/model or a .ckpt file")
            spec = read_json(spec_path)
            return cls.from_checkpoints([path / name for name in spec["checkpoints"]])
        if not path.exists():
            raise FileNotFoundError(f"{path}: model not found (expected an exported model dir or a .ckpt)")
        return cls.from_checkpoints([path])

    def predict(self, store: Any, batch_size: int = 128, device: str = "cpu") -> np.ndarray:
        """Predicted DockQ for every graph of ``store``, in store order."""
        from graphqa.training.inference import predict

        total = np.zeros(len(store), dtype=np.float64)
        for network in self.networks:
            total += predict(network, store, batch_size=batch_size, device=device).double().cpu().numpy()
        return (total / len(self.networks)).astype(np.float32)

    def export(self, out_dir: Path, schema_file: Path, info: dict[str, Any]) -> Path:
        """Write the export layout into ``out_dir`` (files renamed into place)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        names = ["model.ckpt"] if len(self.checkpoints) == 1 else [
            f"member_{i}.ckpt" for i in range(len(self.checkpoints))
        ]
        for source, name in zip(self.checkpoints, names, strict=True):
            atomic_copy(source, out_dir / name)
        atomic_copy(schema_file, out_dir / SCHEMA_FILE)
        kind = "single" if len(names) == 1 else "ensemble"
        write_json(out_dir / MODEL_FILE, {"kind": kind, "checkpoints": names, "schema": SCHEMA_FILE, **info})
        return out_dir
