"""Where a study lives: ``.graphqa/hpo/<study>.db`` (SQLite) under the project root, outside git and DVC.

The driver and every trial's pruning callback open the same file. Trials run in DVC's temporary workspaces
(``<root>/.dvc/tmp/exps/<tmp>/``), so a trial finds the database by walking up from its working directory:
no absolute path is ever written into params or git (docs/ARCHITECTURE.md, "Hyper-parameter search").
"""

from __future__ import annotations

from pathlib import Path

from graphqa.config import check_study_name
from graphqa.hpo.errors import HpoError

STUDY_DIR = Path(".graphqa") / "hpo"
SQLITE_TIMEOUT_S = 60  # trials and the driver write to one SQLite file: wait for its lock rather than fail


def study_db(root: Path, study: str) -> Path:
    """The SQLite file of ``study`` in the project at ``root``."""
    return root / STUDY_DIR / f"{check_study_name(study, 'study')}.db"


def storage_url(db: Path) -> str:
    return f"sqlite:///{db.resolve()}"


def open_storage(db: Path) -> object:
    """An Optuna RDB storage on ``db`` that waits for SQLite's lock (trials report while the driver writes)."""
    from graphqa.hpo.errors import require_optuna

    optuna = require_optuna()
    db.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.RDBStorage(storage_url(db), engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT_S}})


def find_study_db(study: str, start: Path | None = None) -> Path:
    """The database of ``study`` in ``start`` or the nearest folder above it that has one."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        candidate = study_db(folder, study)
        if candidate.is_file():
            return candidate
    raise HpoError(f"{STUDY_DIR / (study + '.db')}: not found in {start} or its parents; a trial of study {study!r} "
                   "reports to it (run trials with `graphqa hpo run`)")
