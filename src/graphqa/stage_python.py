"""The interpreter dvc.yaml's stage commands run: ``python`` on PATH must be one that imports graphqa.

Every stage command is ``python stages/<name>.py …``, so the stages run
whichever ``python`` comes first on PATH, not the one running dvc. Called with
``.venv/bin/dvc`` and the environment not activated, that is the system Python,
which lacks graphqa. Two guards (docs/ARCHITECTURE.md, "Pipeline"):

* each stage script first imports ``stages/_guard.py``, which catches the failed
  ``import graphqa`` and exits with that instruction (it cannot import this
  module) before the stage does anything; DVC has removed that stage's
  outputs by then (it does so before running a command; they stay in its cache);
* ``dvc exp run -S …`` checks earlier, while DVC composes params.yaml
  (``hydra_plugins/graphqa_params``, in the ``dvc`` command's process only:
  :func:`running_dvc_cli`), so nothing is removed at all: :func:`stage_python_problem`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ACTIVATE = "source .venv/bin/activate"
_PROBE = "import importlib.util, sys; sys.exit(importlib.util.find_spec('graphqa') is None)"


def running_dvc_cli(argv: list[str] | None = None) -> bool:
    """Whether this process is the ``dvc`` command (which runs stages next), not graphqa or a test composing."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]) if argv else Path()
    return script.name == "dvc" or (script.name == "__main__.py" and script.parent.name == "dvc")


def stages_run_python(start: Path | None = None) -> bool:
    """Whether a stage of the ``dvc.yaml`` nearest above ``start`` (default: cwd) runs ``python …``."""
    import yaml

    start = (start or Path.cwd()).resolve()
    dvc_yaml = next((d / "dvc.yaml" for d in (start, *start.parents) if (d / "dvc.yaml").is_file()), None)
    if dvc_yaml is None:
        return False
    try:
        stages = (yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}).get("stages") or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        return False
    for stage in stages.values() if isinstance(stages, dict) else ():
        body = stage.get("do", stage) if isinstance(stage, dict) else {}
        cmds = body.get("cmd", []) if isinstance(body, dict) else []
        if any(str(cmd).split()[:1] == ["python"] for cmd in ([cmds] if isinstance(cmds, str) else cmds)):
            return True
    return False


def stage_python_problem(environ: Mapping[str, str] | None = None, start: Path | None = None) -> str | None:
    """Why the stages' ``python`` (first on ``environ``'s PATH) cannot run them, or None when it can
    (or when no stage of the project runs ``python``)."""
    environ = os.environ if environ is None else environ
    if not stages_run_python(start):
        return None
    python = shutil.which("python", path=environ.get("PATH", os.defpath))
    if python is None:
        return (f"no `python` on PATH, which dvc.yaml's stage commands run; activate the project's environment "
                f"({ACTIVATE}; make repro creates it) and run the command again")
    try:
        found = subprocess.run([python, "-c", _PROBE], capture_output=True, timeout=60, env=dict(environ),
                               stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the stages' `python` ({python}) does not run ({exc}); activate the project's environment ({ACTIVATE})"
    if found:
        return None
    return (f"the stages' `python` ({python}, first on PATH) cannot import graphqa (dvc itself runs from "
            f"{sys.executable}); activate the project's environment ({ACTIVATE}; make repro creates it) and run the "
            "command again. Nothing was run or removed")
