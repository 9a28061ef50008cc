"""Where graphqa relies on Lightning's private state: here and nowhere else.

* A checkpoint's ``loops.fit_loop["epoch_loop.state_dict"]["_batches_that_stepped"]``:
  the step the loggers were at when it was saved (``global_step`` counts
  optimizer steps, which differ under gradient accumulation). Read on resume to
  drop the DVCLive rows a killed run logged after its last checkpoint.
  ``tests/compat/test_upstream.py`` checks a real checkpoint still carries it.
* ``ModelCheckpoint.state_dict()``'s path entries (``dirpath``, ``best_model_path``,
  ``kth_best_model_path``, ``last_model_path`` and the keys of ``best_k_models``):
  Lightning stores them absolute, so the same run in two workspaces would write
  different checkpoint bytes. :func:`portable_checkpoint_state` stores them
  relative to the project root and :func:`local_checkpoint_state` turns them back.
* ``MLFlowLogger._tracking_uri``: the tracking URI a run logged to (no public accessor), kept for resume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_PATH_KEYS = ("dirpath", "best_model_path", "kth_best_model_path", "last_model_path")


def checkpoint_step(checkpoint: dict[str, Any]) -> int:
    """The logger step at which a Lightning checkpoint was saved."""
    loops = checkpoint.get("loops", {}).get("fit_loop", {})
    return int(loops.get("epoch_loop.state_dict", {}).get("_batches_that_stepped", checkpoint.get("global_step", 0)))


def _convert(state: dict[str, Any], convert: Any) -> dict[str, Any]:
    out = dict(state)
    for key in _PATH_KEYS:
        if out.get(key):
            out[key] = convert(out[key])
    if isinstance(out.get("best_k_models"), dict):
        out["best_k_models"] = {convert(path): score for path, score in out["best_k_models"].items()}
    return out


def portable_checkpoint_state(state: dict[str, Any], root: Path) -> dict[str, Any]:
    """A ModelCheckpoint state with its paths relative to ``root`` (those inside it)."""
    root = Path(root).resolve()

    def relative(path: str) -> str:
        resolved = Path(path).resolve()
        return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path

    return _convert(state, relative)


def local_checkpoint_state(state: dict[str, Any], root: Path) -> dict[str, Any]:
    """The inverse of :func:`portable_checkpoint_state`: absolute paths, as Lightning compares them."""
    root = Path(root).resolve()
    return _convert(state, lambda path: path if os.path.isabs(path) else str(root / path))


def mlflow_logger_tracking_uri(logger: Any) -> str | None:
    """The tracking URI of a Lightning ``MLFlowLogger`` (``None`` when it has none)."""
    return getattr(logger, "_tracking_uri", None)
