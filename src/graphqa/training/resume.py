"""Resume state outside DVC's outputs, keyed by everything a run depends on.

DVC deletes a stage's outputs before it runs it again, and only a stage without
persisted outputs can be restored from DVC's run-cache. So a run's own
directory holds only what it produces, and what an interrupted run needs to
continue (``last.ckpt``, the kept top-k checkpoints, DVCLive's history) is
mirrored after every checkpoint save into an ignored scratch folder,
``.graphqa/resume/<run>/`` (``$GRAPHQA_SCRATCH`` moves it), beside an ``identity.json`` that says what the run
was: its result-relevant params, the packed data, the feature schema, the
checkpoint it started from and graphqa's code. A later run of the same
directory resumes from it only when every part matches (and says which part
differs otherwise); a completed run removes it (docs/ARCHITECTURE.md,
"Dependency tracking").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphqa.runs.run_dir import CHECKPOINT_DIR, DVCLIVE_DIR, LAST_CHECKPOINT, RunDir

log = logging.getLogger(__name__)

SCRATCH_ENV = "GRAPHQA_SCRATCH"  # where graphqa keeps state outside DVC's outputs (default: .graphqa in the project)


def scratch_root() -> Path:
    """``$GRAPHQA_SCRATCH/resume``, else ``.graphqa/resume`` in the working directory (the DVC project root)."""
    return Path(os.environ.get(SCRATCH_ENV) or ".graphqa") / "resume"
IDENTITY_FILE = "identity.json"
STATE_DIR = "state"


def code_digest() -> str:
    """SHA-256 of graphqa's own source files (names and bytes): the code version a run was made with."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class RunIdentity:
    """What a run's results depend on; resume requires every field to match."""

    params: str  # digest of the run's result-relevant params (runtime knobs excluded)
    packed_data: str  # hash of the packed stores
    schema: str  # feature schema digest
    init_from: str | None  # hash of the checkpoint the weights started from (fine-tuning), if any
    code: str  # graphqa's source

    LABELS = {"params": "params", "packed_data": "packed data (graphs or labels)", "schema": "feature schema",
              "init_from": "initial checkpoint", "code": "graphqa code"}

    def differences(self, other: RunIdentity) -> list[str]:
        """Human names of the fields that differ."""
        return [self.LABELS[f.name] for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(other, f.name)]


def _slug(run_dir: Path) -> str:
    """A folder name for a run directory: ``runs/sweep/baseline-222`` → ``runs-sweep-baseline-222``."""
    text = run_dir.as_posix() if not run_dir.is_absolute() else run_dir.resolve().as_posix()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "run"


class ResumeState:
    """The scratch copy of one run directory's resume state."""

    def __init__(self, run_dir: Path, identity: RunIdentity, root: Path | None = None) -> None:
        self.run = RunDir(run_dir)
        self.identity = identity
        self.folder = Path(root or scratch_root()) / _slug(Path(run_dir))

    @property
    def state(self) -> Path:
        return self.folder / STATE_DIR

    def usable(self) -> bool:
        """Whether a saved state exists for exactly this identity (logs why not, when one exists)."""
        identity_file, last = self.folder / IDENTITY_FILE, self.state / CHECKPOINT_DIR / LAST_CHECKPOINT
        if not identity_file.is_file() or not last.is_file():
            log.info("resume: no saved state for %s; starting from the beginning", self.run.path)
            return False
        try:
            saved = RunIdentity(**{k: v for k, v in json.loads(identity_file.read_text()).items()
                                   if k in RunIdentity.LABELS})
        except (ValueError, TypeError) as exc:
            log.warning("resume: %s is unreadable (%s); starting from the beginning", identity_file, exc)
            return False
        changed = saved.differences(self.identity)
        if changed:
            log.warning("resume: the saved state of %s was made with other %s; starting from the beginning",
                        self.run.path, ", ".join(changed))
            return False
        return True

    def save(self) -> None:
        """Mirror the run's checkpoints and DVCLive history into scratch (a kill leaves the previous copy)."""
        from graphqa.io import write_json

        def copy_run(incoming: Path) -> None:
            for source in (self.run.checkpoints, self.run.dvclive):
                if source.is_dir():
                    shutil.copytree(source, incoming / source.name)

        self.folder.mkdir(parents=True, exist_ok=True)
        _replace_dir(self.state, copy_run)
        write_json(self.folder / IDENTITY_FILE, dataclasses.asdict(self.identity))

    def save_history(self) -> None:
        """Refresh the mirrored DVCLive history alone (the checkpoints are unchanged since :meth:`save`)."""
        if self.state.is_dir() and self.run.dvclive.is_dir():
            _replace_dir(self.state / self.run.dvclive.name, lambda incoming: shutil.copytree(self.run.dvclive, incoming))

    def restore(self) -> Path:
        """Put the saved checkpoints and history back into the run directory; the ``last.ckpt`` to resume from."""
        self.run.clear()
        for saved in (self.state / CHECKPOINT_DIR, self.state / DVCLIVE_DIR):
            if saved.is_dir():
                shutil.copytree(saved, self.run.path / saved.name)
        return self.run.last_checkpoint

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _replace_dir(target: Path, build: Any) -> None:
    """Build ``target``'s new content beside it, then swap it in: a kill at any point leaves one whole copy."""
    incoming, previous = target.with_name(target.name + ".new"), target.with_name(target.name + ".old")
    shutil.rmtree(incoming, ignore_errors=True)
    build(incoming)
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    incoming.rename(target)
    shutil.rmtree(previous, ignore_errors=True)


def run_identity(params: Any, packed_dir: Path, schema_digest: str, init_from: Path | str | None) -> RunIdentity:
    """The identity of a run about to start."""
    from graphqa.training.manifest import hash_files

    return RunIdentity(params=params.result_digest(), packed_data=hash_files(packed_dir), schema=schema_digest,
                       init_from=hash_files(Path(init_from)) if init_from else None, code=code_digest())


def seed_epoch(seed: int, epoch: int) -> None:
    """Reseed Python, numpy and torch (all devices) for ``epoch``: an epoch's random draws (dropout, attention
    dropout) then depend on the seed and the epoch only, so a resumed run draws exactly what an uninterrupted
    one would, with no RNG state to save or restore."""
    import random

    import numpy as np
    import torch

    derived = int(hashlib.sha256(f"{seed}:{epoch}".encode()).hexdigest()[:8], 16)  # < 2**32
    random.seed(derived)
    np.random.seed(derived)
    torch.manual_seed(derived)
