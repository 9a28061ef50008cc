"""Convert a released TopoQA checkpoint into a graphqa model directory (``graphqa import-topoqa``).

The released file is a Lightning checkpoint whose ``state_dict`` holds one
sub-network of the published model (docs/ARCHITECTURE.md, "Models"):
``embed.0`` (node encoder), ``edge_embed.0``, ``conv{1,2,3}.0`` (GATv2 with
edge features plus ``edge_linear``), ``fc_edge``, ``protein_fc_1.0``, ``fc1``
and ``out``; keys may carry a ``model.`` prefix. It is read with
``weights_only=True`` (a file that needs anything else is refused, never run),
every key the published forward pass uses is checked for presence and shape,
and the weights are renamed onto :class:`graphqa.models.topoqa.TopoQANet`.
``conv3`` is stored but never called by the published forward pass: it is
noted and left out.

The output is :class:`graphqa.inference.predictor.Predictor`'s export layout
(``model.json``, ``model.ckpt`` with graphqa's block, ``feature_metadata.json``
with TopoQA's 172 node and 11 edge columns), so ``graphqa predict --model DIR``
scores with it and ``model.init_from: DIR`` trains from it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphqa.inference.checkpoint import (
    EXTRAS_KEY,
    FORMAT_VERSION,
    NETWORK_PREFIX,
    CheckpointError,
    load_checkpoint,
)
from graphqa.io import atomic_torch_save, ensure_writable_dir

log = logging.getLogger(__name__)

# TopoQANet weight prefix -> the released checkpoint's (inside a layer the names are PyG's GATv2Conv's:
# lin_l, lin_r, lin_edge, att, bias; the edge update is the conv's sibling ``edge_linear``).
PUBLISHED_NAMES: dict[str, str] = {
    "node_embed.": "embed.0.",
    "edge_embed.": "edge_embed.0.",
    "layers.0.conv.": "conv1.0.",
    "layers.0.edge_linear.": "conv1.0.edge_linear.",
    "layers.1.conv.": "conv2.0.",
    "layers.1.edge_linear.": "conv2.0.edge_linear.",
    "edge_summary.": "fc_edge.",
    "combine.": "protein_fc_1.0.",
    "hidden2.": "fc1.",
    "out.": "out.",
}
UNUSED_PREFIX = "conv3.0."  # stored in the released checkpoint, never called by its forward pass
PUBLISHED_NODE_DIM, PUBLISHED_EDGE_DIM = 172, 11


@dataclass(frozen=True)
class ImportedModel:
    """What :func:`import_topoqa` wrote, and what it left out."""

    out_dir: Path
    checkpoint: Path
    source_sha256: str
    unused_keys: list[str]


def published_params() -> Any:
    """Params of the published network: ``model.arch=topoqa`` with every width at its published default."""
    from graphqa.config import params_from_dict

    return params_from_dict({"model": {"arch": "topoqa"}, "sweep": {"overlays": {"baseline": {}}}})


def topoqa_schema() -> Any:
    """The QTopoQA feature layout the released model was trained on (172 node, 11 edge columns)."""
    from graphqa.data import FeatureSchema
    from graphqa.demo.interface_features import EDGE_COLUMNS, EDGE_MODULE, EDGE_PARAMS, EDGE_VARIANT, NODE_COLUMNS

    return FeatureSchema(
        node_dim=len(NODE_COLUMNS), edge_dim=len(EDGE_COLUMNS), node_columns=list(NODE_COLUMNS),
        edge_columns=list(EDGE_COLUMNS), edge_module=EDGE_MODULE, edge_params=dict(EDGE_PARAMS),
        edge_feature_variant=EDGE_VARIANT, sources={"imported": "TopoQA released checkpoint"},
    )


def published_name(name: str) -> str:
    """The released checkpoint's key for the TopoQANet weight ``name``."""
    for ours, published in PUBLISHED_NAMES.items():
        if name.startswith(ours):
            return published + name[len(ours):]
    raise KeyError(f"{name}: no released-checkpoint name")  # a TopoQANet weight the table misses: a bug here


def _published_weights(state_dict: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """The state_dict with a ``model.`` prefix (LightningModule wrapper) removed when every key has one."""
    keys = list(state_dict)
    if keys and all(k.startswith(NETWORK_PREFIX) for k in keys):
        state_dict = {k[len(NETWORK_PREFIX):]: v for k, v in state_dict.items()}
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise CheckpointError(f"{path}: state_dict entry {not_tensors[0]!r} is not a tensor")
    return dict(state_dict)


def convert_weights(state_dict: dict[str, Any], path: Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """TopoQANet weights from a released state_dict, and the stored keys left out (``conv3``).

    Raises :class:`CheckpointError` naming the first missing or misshaped key
    (with the shape expected) and any key the published network does not have.
    """
    from graphqa.models import build_model

    published = _published_weights(state_dict, path)
    params = published_params()
    expected = build_model("topoqa", PUBLISHED_NODE_DIM, PUBLISHED_EDGE_DIM, params.model).state_dict()
    weights: dict[str, torch.Tensor] = {}
    for name, reference in expected.items():
        key = published_name(name)
        if key not in published:
            raise CheckpointError(f"{path}: missing key {key!r} (expected shape {tuple(reference.shape)}); "
                                  "not a TopoQA-layout checkpoint")
        tensor = published[key]
        if tuple(tensor.shape) != tuple(reference.shape):
            raise CheckpointError(f"{path}: key {key!r} has shape {tuple(tensor.shape)}, "
                                  f"expected {tuple(reference.shape)} (the published TopoQA network)")
        if not tensor.is_floating_point():
            raise CheckpointError(f"{path}: key {key!r} holds {tensor.dtype}, expected floating-point weights")
        weights[name] = tensor.detach().to(torch.float32).clone()
    used = {published_name(name) for name in expected}
    unused = sorted(k for k in published if k.startswith(UNUSED_PREFIX))
    unknown = sorted(k for k in published if k not in used and not k.startswith(UNUSED_PREFIX))
    if unknown:
        raise CheckpointError(f"{path}: unexpected key {unknown[0]!r}"
                              f"{f' (and {len(unknown) - 1} more)' if len(unknown) > 1 else ''}; "
                              "the published TopoQA network (one sub-network) has no such weight")
    return weights, unused


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_topoqa(checkpoint_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> ImportedModel:
    """Write a graphqa model directory for the TopoQA checkpoint at ``checkpoint_path``.

    Raises :class:`CheckpointError` (a ValueError) naming the file and key when
    the file is unsafe, unreadable or not the published network's layout.
    """
    from importlib.metadata import PackageNotFoundError, version

    from graphqa.inference.model_dir import SCHEMA_FILE, checkpoint_names, write_model_spec

    path = Path(checkpoint_path)
    released = load_checkpoint(path, require_extras=False)
    if not isinstance(released["state_dict"], dict):
        raise CheckpointError(f"{path}: 'state_dict' is a {type(released['state_dict']).__name__}, expected a dict")
    weights, unused = convert_weights(released["state_dict"], path)
    if unused:
        log.info("%s: %d stored tensors of %s (%s) are never called by the published forward pass; not imported",
                 path, len(unused), UNUSED_PREFIX.rstrip("."), ", ".join(k[len(UNUSED_PREFIX):] for k in unused))

    params, schema = published_params(), topoqa_schema()
    try:
        graphqa_version = version("graphqa")
    except PackageNotFoundError:
        graphqa_version = "unknown"
    source_sha256 = _sha256(path)
    checkpoint = {
        "state_dict": {NETWORK_PREFIX + name: tensor for name, tensor in weights.items()},
        "epoch": int(released["epoch"]) if isinstance(released.get("epoch"), int) else -1,
        EXTRAS_KEY: {
            "format_version": FORMAT_VERSION,
            "graphqa_version": graphqa_version,
            "node_dim": schema.node_dim,
            "edge_dim": schema.edge_dim,
            "schema": schema.to_dict(),
            "params": params.to_dict(),
            "params_digest": params.digest(),
            "schema_digest": schema.digest(),
            "val_metrics": {},
            "imported_from": {"file": path.name, "sha256": source_sha256, "unused_keys": unused},
        },
    }
    out = ensure_writable_dir(Path(out_dir))
    (name,) = checkpoint_names(1)
    atomic_torch_save(checkpoint, out / name)
    schema.save(out / SCHEMA_FILE)
    write_model_spec(out, [name], {"arch": "topoqa", "imported_from": {"file": str(path), "sha256": source_sha256},
                                   "unused_keys": unused})
    log.info("%s: imported as %s (model.arch=topoqa, %d tensors)", path, out, len(weights))
    return ImportedModel(out, out / name, source_sha256, unused)
