"""``RunDir``: the one definition of a training run's directory layout.

::

    <run_dir>/
      checkpoints/     top-k ``epoch=E-score=S-val_loss=L.ckpt``, ``best.ckpt``,
                       ``second_best.ckpt``, ``third_best.ckpt``, ``last.ckpt``
      dvclive/         DVCLive's directory (metrics.json, plots/metrics/**.tsv)
      summary.json     written when the run ends (status, best scores, timings)
      run_manifest.json  what the run was: params, data and schema hashes, versions
      run_context.json when, from which git commit, how long, how fast (not a DVC output, and ignored by
                       DVC: it differs between identical runs)
      diagnostics.json, profiler/, wandb/, loggers.json   optional

Everything that reads or writes a run directory goes through this type; no
other module spells these names (docs/ARCHITECTURE.md, "Run directories").
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "run_manifest.json"
CHECKPOINT_DIR = "checkpoints"
DVCLIVE_DIR = "dvclive"
DIAGNOSTICS_FILE = "diagnostics.json"
PROFILER_DIR = "profiler"
WANDB_DIR = "wandb"
LOGGER_IDS_FILE = "loggers.json"
CONTEXT_FILE = "run_context.json"
LAST_CHECKPOINT = "last.ckpt"
RANKED_NAMES = ("best.ckpt", "second_best.ckpt", "third_best.ckpt")
# Lightning's filename template for the top-k checkpoints, and its parser:
# epoch=007-score=0.0412-val_loss=0.0518.ckpt (Lightning may add -v1 on a name clash).
CHECKPOINT_FILENAME = "epoch={epoch:03d}-score={val/selection:.4f}-val_loss={val/loss:.4f}"
_CHECKPOINT_FIELDS = re.compile(r"(epoch|score|val_loss)=(-?[0-9.]+(?:e-?[0-9]+)?|nan|inf)")
# Everything a run writes; a run that starts clean removes exactly these.
RUN_OUTPUTS = (CHECKPOINT_DIR, DVCLIVE_DIR, PROFILER_DIR, WANDB_DIR, SUMMARY_FILE, MANIFEST_FILE, DIAGNOSTICS_FILE,
               LOGGER_IDS_FILE, CONTEXT_FILE)


def parse_checkpoint_name(path: Path) -> dict[str, float] | None:
    """``epoch=007-score=0.0412-val_loss=0.0518.ckpt`` → ``{epoch: 7, score: 0.0412, val_loss: 0.0518}``."""
    fields = {key: float(value) for key, value in _CHECKPOINT_FIELDS.findall(Path(path).stem)}
    return fields if "score" in fields else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass(frozen=True)
class RunDir:
    """A training run's directory; paths and the readings every consumer shares."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def name(self) -> str:
        return self.path.name

    # ----------------------------------------------------------------- paths
    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / RANKED_NAMES[0]

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / LAST_CHECKPOINT

    @property
    def summary_file(self) -> Path:
        return self.path / SUMMARY_FILE

    @property
    def manifest_file(self) -> Path:
        return self.path / MANIFEST_FILE

    @property
    def dvclive(self) -> Path:
        return self.path / DVCLIVE_DIR

    @property
    def dvclive_metrics(self) -> Path:
        """DVCLive's latest-metrics file (rewritten at every step)."""
        return self.dvclive / "metrics.json"

    @property
    def dvclive_history(self) -> Path:
        """Folder of DVCLive's per-metric TSV histories."""
        return self.dvclive / "plots" / "metrics"

    def val_history(self, metric: str) -> Path:
        """The TSV history of ``val/<metric>``."""
        return self.dvclive_history / "val" / f"{metric}.tsv"

    @property
    def diagnostics_file(self) -> Path:
        return self.path / DIAGNOSTICS_FILE

    @property
    def profiler(self) -> Path:
        return self.path / PROFILER_DIR

    @property
    def wandb(self) -> Path:
        return self.path / WANDB_DIR

    @property
    def context_file(self) -> Path:
        return self.path / CONTEXT_FILE

    @property
    def logger_ids_file(self) -> Path:
        return self.path / LOGGER_IDS_FILE

    def ranked_checkpoints(self) -> list[Path]:
        """``best.ckpt``, ``second_best.ckpt``, ``third_best.ckpt``: those that exist."""
        return [self.checkpoints / n for n in RANKED_NAMES if (self.checkpoints / n).is_file()]

    # ----------------------------------------------------------------- readings
    def read_summary(self) -> dict[str, Any]:
        """``summary.json`` ({} when absent; an error naming it when it is not a JSON object)."""
        from graphqa.io import read_json_object

        return read_json_object(self.summary_file) if self.summary_file.is_file() else {}

    def read_manifest(self) -> dict[str, Any]:
        """``run_manifest.json`` ({} when absent; an error naming it when it is not a JSON object)."""
        from graphqa.io import read_json_object

        return read_json_object(self.manifest_file) if self.manifest_file.is_file() else {}

    def scored_checkpoints(self) -> list[tuple[Path, dict[str, float]]]:
        """Top-k checkpoints (named by score), best first; written while the run trains."""
        found = [(p, parse_checkpoint_name(p)) for p in self.checkpoints.glob("*.ckpt")] if self.checkpoints.is_dir() \
            else []
        scored = [(p, f) for p, f in found if f is not None]
        return sorted(scored, key=lambda item: (math.isnan(item[1]["score"]), item[1]["score"], item[0].name))

    def state(self) -> str:
        """``completed``/``failed``/``interrupted`` from summary.json; ``training`` while checkpoints or
        DVCLive are newer than it (or it is absent); ``not started`` when nothing is there yet."""
        activity = list(self.checkpoints.glob("*.ckpt")) if self.checkpoints.is_dir() else []
        activity.append(self.dvclive_metrics)
        newest = max((_mtime(p) for p in activity), default=0.0)
        if self.summary_file.is_file() and _mtime(self.summary_file) >= newest:
            return str(self.read_summary().get("status", "unknown"))
        return "training" if newest else "not started"

    def exists(self) -> bool:
        """Whether anything of a run is here (summary, manifest or checkpoints)."""
        return self.summary_file.is_file() or self.manifest_file.is_file() or self.checkpoints.is_dir()

    # ----------------------------------------------------------------- writing
    def clear(self) -> None:
        """Remove a previous run's outputs (only the names a run writes)."""
        for name in RUN_OUTPUTS:
            path = self.path / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()


def find_run_dirs(root: Path) -> list[RunDir]:
    """Every folder under ``root`` (itself included) that holds a ``summary.json``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: runs directory not found (the pipeline writes runs/sweep, runs/finetune)")
    return [RunDir(p.parent) for p in sorted(root.rglob(SUMMARY_FILE)) if p.is_file()]
