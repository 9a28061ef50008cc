"""Load a trained network from a checkpoint (safely) and score a packed store."""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import Tensor

from graphqa.config import Params, ParamsError, params_from_dict
from graphqa.models.topoqa import TopoQANet
from graphqa.training.checkpoint import EXTRAS_KEY, CheckpointError, load_checkpoint


def load_model(ckpt_path: str | os.PathLike[str]) -> tuple[TopoQANet, Any, Params]:
    """``(network in eval mode, FeatureSchema, Params)`` from a graphqa checkpoint.

    Loaded with ``weights_only=True``; a checkpoint without graphqa's schema
    and params block, or whose params no longer validate, is refused with an
    error naming the file.
    """
    from graphqa.data import FeatureSchema

    checkpoint = load_checkpoint(ckpt_path)
    extras = checkpoint[EXTRAS_KEY]
    try:
        params = params_from_dict(extras["params"])
        schema = FeatureSchema.from_dict(extras["schema"])
        node_dim, edge_dim = int(extras["node_dim"]), int(extras["edge_dim"])
    except (KeyError, TypeError, ParamsError, ValueError) as exc:
        raise CheckpointError(f"{ckpt_path}: graphqa block is incomplete or invalid ({exc})") from None
    network = TopoQANet(node_dim, edge_dim, params.model)
    prefix = "model."
    weights = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
    try:
        network.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{ckpt_path}: weights do not fit the network its params describe ({exc})") from None
    network.eval()
    return network, schema, params


@torch.inference_mode()
def predict(model: TopoQANet, store: Any, batch_size: int = 128, device: str | torch.device = "cpu") -> Tensor:
    """Scores of every graph of ``store`` (a PackedGraphStore), in store order, on the CPU."""
    device = torch.device(device)
    was_training = model.training
    model.eval().to(device)
    outputs = []
    try:
        for start in range(0, len(store), batch_size):
            indices = torch.arange(start, min(start + batch_size, len(store)))
            batch = store.batch(indices).to(device)
            outputs.append(model(batch).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0)
