"""Where graphqa relies on DVC's internals: here and nowhere else.

* ``dvc.utils.hydra.compose_and_dump(output_file, config_dir, config_module,
  config_name, plugins_path, overrides)``: the function ``dvc exp run -S``
  composes params.yaml with, so ``graphqa params compose`` writes the same
  bytes. Called by keyword; ``tests/compat/test_upstream.py`` checks the
  signature.
* ``.dvc/tmp/rwlock`` (JSON: ``{"write": {path: {"pid", "cmd"}}, "read": {path: [{"pid", "cmd"}]}}``):
  the stages' output locks of running dvc commands. :func:`running_dvc_commands`
  reads it so composing params.yaml can refuse while another dvc command runs
  in the same workspace (it would change the params under that run).
* ``.dvc/tmp/exps/[standalone/]run/<rev>/<rev>.run`` (JSON: ``root_dir``, ``name``,
  ``status`` as ``dvc.repo.experiments.executor.base.TaskStatus``: 0 pending,
  1 preparing, 2 running, 3 success, 4 failed, 5 canceled, 6 finished): the
  executor info of each experiment DVC runs in its own copy of the workspace
  (``dvc exp run --temp``: ``.dvc/tmp/exps/standalone/tmpXXXX``; queue workers:
  ``.dvc/tmp/exps/tmpXXXX``), removed with the copy when it ends; a queued
  experiment no worker has picked up has no copy. :func:`experiment_copies`
  reads them so ``graphqa monitor`` finds a run training there
  (``tests/cli/test_monitor_experiments.py`` runs a real ``dvc exp run --temp``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def compose_and_dump(output: Path, config_dir: Path, config_name: str, overrides: Sequence[str]) -> None:
    """Compose ``config_dir/config_name`` with ``overrides`` into ``output`` exactly as DVC does."""
    from dvc.utils.hydra import compose_and_dump as dvc_compose_and_dump  # heavy: import only here

    from graphqa.compat.hydra import register_params_check

    register_params_check()  # DVC's own process gets it from hydra_plugins/; this one may not have scanned it

    dvc_compose_and_dump(output_file=output, config_dir=str(config_dir), config_module=None,
                         config_name=config_name, plugins_path=str(config_dir.parent), overrides=list(overrides))


def running_dvc_commands(start: Path | None = None) -> list[tuple[int, str]]:
    """``(pid, command)`` of live processes other than this one holding DVC locks in the workspace of ``start``."""
    import psutil  # a dependency of DVC

    folder = (start or Path.cwd()).resolve()
    repo = next((d for d in (folder, *folder.parents) if (d / ".dvc").is_dir()), None)
    if repo is None:
        return []
    try:
        lock = json.loads((repo / ".dvc" / "tmp" / "rwlock").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no lock file, or DVC rewriting it this instant
        return []
    if not isinstance(lock, dict):
        return []
    infos = [*((lock.get("write") or {}).values()),
             *(info for infos in (lock.get("read") or {}).values() for info in infos)]
    ours = {os.getpid(), os.getppid()}
    live = {(int(i["pid"]), str(i.get("cmd", "")))
            for i in infos if isinstance(i, dict) and isinstance(i.get("pid"), int)
            and i["pid"] not in ours and psutil.pid_exists(i["pid"])}
    return sorted(live)


EXPS_DIR = Path(".dvc") / "tmp" / "exps"
EXECUTOR_INFO_GLOBS = ("run/*/*.run", "standalone/run/*/*.run")
EXECUTOR_STATUS = {0: "queued", 1: "preparing", 2: "running", 3: "success", 4: "failed", 5: "canceled", 6: "finished"}
ACTIVE_EXECUTOR_STATUS = {"queued", "preparing", "running"}


@dataclass(frozen=True)
class ExperimentCopy:
    """One experiment DVC runs in its own copy of the workspace."""

    name: str  # the experiment's name (`dvc exp show`), else its stash revision
    root: Path  # the copy of the workspace
    status: str  # an EXECUTOR_STATUS value

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_EXECUTOR_STATUS and self.root.is_dir()


def find_dvc_root(start: Path | None = None) -> Path | None:
    """The DVC repository (a folder with ``.dvc/``) containing ``start`` (default: cwd)."""
    start = (start or Path.cwd()).resolve()
    return next((d for d in (start, *start.parents) if (d / ".dvc").is_dir()), None)


def experiment_copies(repo: Path) -> list[ExperimentCopy]:
    """Every experiment DVC has recorded as run outside the workspace ``repo``, one per copy, by name."""
    found: dict[Path, ExperimentCopy] = {}
    rank = {name: code for code, name in EXECUTOR_STATUS.items()}
    for pattern in EXECUTOR_INFO_GLOBS:
        for info_file in (repo / EXPS_DIR).glob(pattern):
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
                root = Path(info["root_dir"])
                status = EXECUTOR_STATUS.get(int(info.get("status", -1)), "unknown")
            except (OSError, ValueError, KeyError, TypeError):  # being written this instant, or not DVC's
                continue
            copy = ExperimentCopy(str(info.get("name") or info_file.stem), root, status)
            known = found.get(root)  # the same copy can be recorded twice (queue and standalone dirs)
            if known is None or rank.get(status, -1) > rank.get(known.status, -1):
                found[root] = copy
    return sorted(found.values(), key=lambda c: c.name)
