"""``graphqa import-topoqa CHECKPOINT --out DIR``: a released TopoQA checkpoint as a graphqa model directory.

The conversion is :mod:`graphqa.inference.topoqa_import`'s; this module parses
the command line and reports what was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def import_topoqa_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="The released TopoQA checkpoint (a Lightning .ckpt).")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write (model.json, model.ckpt, "
                                                    "feature_metadata.json).")],
) -> None:
    """Import the published TopoQA network's weights (loaded weights-only, every key and shape checked).

    The directory scores graphs with `graphqa predict --model DIR --graphs ...` and is a
    starting point for training: `-S model.init_from=DIR`. graphqa ships no third-party weights.
    """
    from graphqa.inference.topoqa_import import import_topoqa

    imported = import_topoqa(checkpoint, out)
    typer.echo(f"wrote {imported.out_dir} (model.arch=topoqa; source sha256 {imported.source_sha256[:16]}…)")
    if imported.unused_keys:
        typer.echo(f"not imported: {len(imported.unused_keys)} tensors of conv3, which the published "
                   "forward pass never calls")
