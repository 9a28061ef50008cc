"""The exported model directory: one layout for evaluate's export, ``graphqa import-topoqa`` and ``init_from``.

::

    model.json              kind (single | ensemble), checkpoints, schema, and what made it
    model.ckpt | member_<i>.ckpt
    feature_metadata.json   the schema the model was trained on
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphqa.io import read_json, write_json

MODEL_FILE = "model.json"
SCHEMA_FILE = "feature_metadata.json"


def checkpoint_names(count: int) -> list[str]:
    """File names of a model's checkpoints: ``model.ckpt``, or ``member_<i>.ckpt`` for an ensemble."""
    return ["model.ckpt"] if count == 1 else [f"member_{i}.ckpt" for i in range(count)]


def write_model_spec(out_dir: Path, names: Sequence[str], info: dict[str, Any]) -> Path:
    """``model.json`` naming the checkpoints already in ``out_dir``."""
    kind = "single" if len(names) == 1 else "ensemble"
    return write_json(Path(out_dir) / MODEL_FILE, {"kind": kind, "checkpoints": list(names), "schema": SCHEMA_FILE,
                                                    **info})


def model_checkpoints(path: Path | str) -> list[Path]:
    """The checkpoint files of a model directory (``model.json``), or ``[path]`` for a ``.ckpt``."""
    path = Path(path)
    if path.is_dir():
        spec_path = path / MODEL_FILE
        if not spec_path.is_file():
            raise FileNotFoundError(f"{path}: not an exported model (no {MODEL_FILE}); "
                                    "expected the evaluate stage's artifacts/model or a .ckpt file")
        names = read_json(spec_path).get("checkpoints")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{spec_path}: 'checkpoints' must be a non-empty list of file names, got {names!r}")
        return [path / name for name in names]
    if not path.exists():
        raise FileNotFoundError(f"{path}: model not found (expected an exported model dir or a .ckpt)")
    return [path]
