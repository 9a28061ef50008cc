"""Where DVC runs experiments outside the workspace: here and nowhere else (DVC internals).

``dvc exp run --temp`` and the queue (``dvc exp run --queue`` + ``dvc queue start``)
run each experiment in a full copy of the workspace under ``.dvc/tmp/exps/``
(``standalone/tmpXXXX`` for ``--temp``, ``tmpXXXX`` for queue workers) and
record it in an executor info file, ``.dvc/tmp/exps/[standalone/]run/<rev>/<rev>.run``:
JSON with ``root_dir`` (the copy), ``name`` (the experiment's name) and
``status`` (``dvc.repo.experiments.executor.base.TaskStatus``: 0 pending,
1 preparing, 2 running, 3 success, 4 failed, 5 canceled, 6 finished). DVC
removes the copy when the experiment ends. A queued experiment that no worker
has picked up yet has no copy. ``tests/cli/test_monitor_experiments.py`` runs
a real ``dvc exp run --temp`` against this reading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EXPS_DIR = Path(".dvc") / "tmp" / "exps"
INFO_GLOBS = ("run/*/*.run", "standalone/run/*/*.run")
STATUS_NAMES = {0: "queued", 1: "preparing", 2: "running", 3: "success", 4: "failed", 5: "canceled", 6: "finished"}
ACTIVE_STATUS = {"queued", "preparing", "running"}


@dataclass(frozen=True)
class ExperimentCopy:
    """One experiment DVC runs in its own copy of the workspace."""

    name: str  # the experiment's name (`dvc exp show`), else its stash revision
    root: Path  # the copy of the workspace
    status: str  # a STATUS_NAMES value

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUS and self.root.is_dir()


def find_dvc_root(start: Path | None = None) -> Path | None:
    """The DVC repository (a folder with ``.dvc/``) containing ``start`` (default: cwd)."""
    start = (start or Path.cwd()).resolve()
    return next((d for d in (start, *start.parents) if (d / ".dvc").is_dir()), None)


def experiment_copies(repo: Path) -> list[ExperimentCopy]:
    """Every experiment DVC has recorded as run outside the workspace ``repo``, one per copy, by name."""
    found: dict[Path, ExperimentCopy] = {}
    rank = {name: code for code, name in STATUS_NAMES.items()}
    for pattern in INFO_GLOBS:
        for info_file in (repo / EXPS_DIR).glob(pattern):
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
                root = Path(info["root_dir"])
                status = STATUS_NAMES.get(int(info.get("status", -1)), "unknown")
            except (OSError, ValueError, KeyError, TypeError):  # being written this instant, or not DVC's
                continue
            copy = ExperimentCopy(str(info.get("name") or info_file.stem), root, status)
            known = found.get(root)  # the same copy can be recorded twice (queue and standalone dirs)
            if known is None or rank.get(status, -1) > rank.get(known.status, -1):
                found[root] = copy
    return sorted(found.values(), key=lambda c: c.name)
