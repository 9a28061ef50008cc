"""Checkpoints during training: atomic saving, safe resume, and initialising a run from another's weights.

Reading is :mod:`graphqa.inference.checkpoint`'s (``weights_only=True``, also on
resume). Lightning checkpoints written here keep that property: hyper-parameters
and extras are plain dicts/lists/numbers/strings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from graphqa.inference.checkpoint import EXTRAS_KEY, CheckpointError, load_checkpoint, network_weights
from graphqa.io import atomic_path

log = logging.getLogger(__name__)


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename onto it."""
    with atomic_path(path, suffix=".tmp") as tmp:
        torch.save(obj, tmp)
    return Path(path)


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O: atomic writes, ``weights_only=True`` reads (also on resume)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("storage_options are not supported by SafeCheckpointIO")
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Callable | Any = None, weights_only: bool | None = None) -> dict:
        # weights_only is forced on: a resumed run never unpickles code.
        return load_checkpoint(path, map_location=map_location or "cpu", require_extras=False)


def init_from_checkpoint(module: Any, path: str | os.PathLike[str], schema: Any) -> dict:
    """Load only the network weights of ``path`` into ``module`` (a GraphQAModule).

    The optimizer and scheduler are not touched: the caller's params build
    fresh ones, so a fine-tune learning rate really applies. The checkpoint's
    schema must be compatible with ``schema`` (``SchemaMismatch`` names the
    dims), and its network shape with the module's. Returns the checkpoint's
    graphqa block.
    """
    from graphqa.data import FeatureSchema

    path = Path(path)
    checkpoint = load_checkpoint(path)
    extras = checkpoint[EXTRAS_KEY]
    saved = FeatureSchema.from_dict(extras["schema"])
    try:
        saved.check_compatible(schema)
    except ValueError as exc:
        raise type(exc)(f"{path}: cannot initialise from this checkpoint: {exc}") from None
    weights = network_weights(checkpoint)
    current = module.model.state_dict()
    problems = [
        f"{k}: checkpoint {tuple(weights[k].shape)} vs model {tuple(v.shape)}"
        for k, v in current.items() if k in weights and weights[k].shape != v.shape
    ]
    missing = sorted(set(current) - set(weights))
    unexpected = sorted(set(weights) - set(current))
    if problems or missing or unexpected:
        detail = "; ".join(problems[:5] + [f"missing {m}" for m in missing[:5]] + [f"unexpected {u}" for u in unexpected[:5]])
        raise CheckpointError(f"{path}: network does not match the current model params ({detail})")
    module.model.load_state_dict(weights)
    log.info("initialised weights from %s (fresh optimizer and scheduler)", path)
    return dict(extras)
