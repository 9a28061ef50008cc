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
* Lightning's console output (:func:`quiet_lightning_output`): the ``lightning`` package logger's own
  stream handler (it propagates too, so with a root handler every line printed twice), the
  ``lightning.*.utilities.rank_zero`` loggers its INFO lines come from, the wording of its
  adverts (``💡 Tip: … litlogger`` / ``litmodels``) and of two warnings that say nothing actionable
  here. ``tests/training/test_logs.py`` checks a real run prints none of them and each event once.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
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


LIGHTNING_PACKAGE_LOGGER = "lightning"
LIGHTNING_RANK_ZERO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
# Lines that carry no information about this run: adverts for other packages, the Trainer restating
# the defaults graphqa passes (limit_*_batches=1.0, val_check_interval=1.0), and its note that it reads
# the training loader once to count steps.
LIGHTNING_NOISE = re.compile(r"💡 Tip:|litlogger|litmodels|`Trainer\((limit_train_batches|limit_val_batches|"
                             r"val_check_interval)=1\.0\)` was configured|to estimate number of stepping batches")
# Warnings (message regexes) about Lightning's own internals, or a logging interval longer than an epoch
# (epoch means are logged regardless).
LIGHTNING_WARNINGS = (r".*isinstance\(treespec, LeafSpec\)` is deprecated", r"The number of training batches \(\d+\) is "
                      r"smaller than the logging interval")


class _DropLightningNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return LIGHTNING_NOISE.search(record.getMessage()) is None


def quiet_lightning_output() -> None:
    """One line per Lightning event and no adverts (idempotent; call before building a Trainer).

    With a root handler configured (every stage's ``setup_logging``), Lightning's own handler on the
    ``lightning`` logger is removed, so its records print once, in the stage's format.
    """
    if logging.getLogger().handlers:
        package = logging.getLogger(LIGHTNING_PACKAGE_LOGGER)
        for handler in [h for h in package.handlers if type(h) is logging.StreamHandler]:
            package.removeHandler(handler)
    for name in LIGHTNING_RANK_ZERO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropLightningNoise) for f in logger.filters):
            logger.addFilter(_DropLightningNoise())
    for message in LIGHTNING_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
