"""Reading checkpoints safely, and the one place a network is built from one.

Every checkpoint loads with ``torch.load(weights_only=True)``: only tensors and
primitive containers are unpickled, so a file carrying code is refused before
any of it runs. Nothing here imports Lightning: scoring starts fast.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from torch import nn

    from graphqa.config import Params
    from graphqa.data import FeatureSchema

# Key of graphqa's own block (schema, params, dims, val metrics) inside every checkpoint.
EXTRAS_KEY = "graphqa"
FORMAT_VERSION = 1
# The LightningModule holds the network as ``self.model``: its weights are ``model.*`` in the state_dict.
NETWORK_PREFIX = "model."


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


def network_weights(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The network's own state_dict out of a (Lightning) checkpoint: ``model.*`` keys, prefix dropped."""
    return {k[len(NETWORK_PREFIX):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(NETWORK_PREFIX)}


def load_network(ckpt_path: str | os.PathLike[str]) -> tuple[nn.Module, FeatureSchema, Params]:
    """``(network in eval mode, FeatureSchema, Params)`` from a graphqa checkpoint.

    The network is built by :func:`graphqa.models.build_model` from the
    checkpoint's own ``model.arch`` and dims. A checkpoint without graphqa's
    schema and params block, or whose params no longer validate, is refused
    with an error naming the file.
    """
    from graphqa.config import ParamsError, params_from_dict
    from graphqa.data import FeatureSchema
    from graphqa.models import build_model

    checkpoint = load_checkpoint(ckpt_path)
    extras = checkpoint[EXTRAS_KEY]
    try:
        params = params_from_dict(extras["params"])
        schema = FeatureSchema.from_dict(extras["schema"])
        node_dim, edge_dim = int(extras["node_dim"]), int(extras["edge_dim"])
    except (KeyError, TypeError, ParamsError, ValueError) as exc:
        raise CheckpointError(f"{ckpt_path}: graphqa block is incomplete or invalid ({exc})") from None
    network = build_model(params.model.arch, node_dim, edge_dim, params.model)
    try:
        network.load_state_dict(network_weights(checkpoint))
    except RuntimeError as exc:
        raise CheckpointError(f"{ckpt_path}: weights do not fit the network its params describe ({exc})") from None
    network.eval()
    return network, schema, params
