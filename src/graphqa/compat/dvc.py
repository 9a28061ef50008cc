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
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
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
