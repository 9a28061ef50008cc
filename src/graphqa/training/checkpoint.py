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

from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from graphqa.inference.checkpoint import EXTRAS_KEY, CheckpointError, load_checkpoint, network_weights
from graphqa.io import atomic_torch_save

log = logging.getLogger(__name__)


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O: atomic writes, ``weights_only=True`` reads (also on resume)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("storage_options are not supported by SafeCheckpointIO")
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Callable | Any = None, weights_only: bool | None = None) -> dict:
        # weights_only is forced on: a resumed run never unpickles code.
        return load_checkpoint(path, map_location=map_location or "cpu", require_extras=False)


def init_checkpoint_file(path: str | os.PathLike[str]) -> Path:
    """The checkpoint behind ``model.init_from``: a ``.ckpt`` itself, or a model dir's single checkpoint.

    A model dir is the evaluate stage's export or ``graphqa import-topoqa``'s
    output (``model.json`` naming its checkpoints); an ensemble is refused
    (which member to start from is the user's choice).
    """
    from graphqa.inference.model_dir import model_checkpoints

    try:
        checkpoints = model_checkpoints(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CheckpointError(f"model.init_from: {exc}") from None
    if len(checkpoints) != 1:
        raise CheckpointError(f"{path}: model.init_from needs one checkpoint, this model has {len(checkpoints)} "
                              f"({', '.join(p.name for p in checkpoints)}); name one of its .ckpt files instead")
    return checkpoints[0]


def init_from_checkpoint(module: Any, path: str | os.PathLike[str], schema: Any) -> dict:
    """Load only the network weights of ``path`` into ``module`` (a GraphQAModule).

    ``path`` is a ``.ckpt`` or a model directory (:func:`init_checkpoint_file`).
    The optimizer and scheduler are not touched: the caller's params build
    fresh ones, so a fine-tune learning rate really applies. The checkpoint's
    ``model.arch`` must be the module's, its schema compatible with ``schema``
    (``SchemaMismatch`` names the dims), and its network shape the module's.
    Returns the checkpoint's graphqa block.
    """
    from graphqa.data import FeatureSchema

    path = init_checkpoint_file(path)
    checkpoint = load_checkpoint(path)
    extras = checkpoint[EXTRAS_KEY]
    from graphqa.config import ModelParams

    saved_arch = (extras.get("params") or {}).get("model", {}).get("arch", ModelParams.arch)  # pre-registry: default
    arch = module.run_params.model.arch
    if saved_arch != arch:
        raise CheckpointError(f"{path}: cannot initialise from this checkpoint: its network is model.arch="
                              f"{saved_arch!r}, this run trains model.arch={arch!r}; set -S model.arch={saved_arch}")
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
