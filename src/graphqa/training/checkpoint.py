"""Checkpoints: safe loading, atomic saving, and initialisation of a new run from an old one.

Every checkpoint loads with ``torch.load(weights_only=True)``: only tensors
and primitive containers are unpickled, so a file carrying code is refused
before any of it runs. Lightning checkpoints written here keep that property
(hyper-parameters and extras are plain dicts/lists/numbers/strings).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from graphqa.io import atomic_path

log = logging.getLogger(__name__)

# Key of graphqa's own block inside every checkpoint.
EXTRAS_KEY = "graphqa"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, unsafe or does not fit the current run."""


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu", *, require_extras: bool = True) -> dict:
    """Load a checkpoint with ``weights_only=True``; refuse anything else with a clear error.

    Raises :class:`CheckpointError` naming the file when it is missing,
    truncated/corrupt, carries pickled code (refused: the code never runs), or
    (with ``require_extras``) lacks graphqa's schema/params block.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc):  # the pickle names a class or function to call: refused, never run
            raise CheckpointError(
                f"{path}: refused: the file holds pickled objects other than tensors and plain containers "
                f"(it could run code on load); only weights_only checkpoints are accepted"
            ) from None
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt or truncated): {exc}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt or truncated): {exc}") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: not a model checkpoint (expected a dict with a 'state_dict')")
    if require_extras and not isinstance(checkpoint.get(EXTRAS_KEY), Mapping):
        raise CheckpointError(f"{path}: not a graphqa checkpoint (no '{EXTRAS_KEY}' block with schema and params)")
    return checkpoint


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
    prefix = "model."
    weights = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
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
