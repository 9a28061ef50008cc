"""Trials as DVC experiments, through the ``dvc`` CLI and ``dvc.api`` only.

* queue: ``dvc exp run --queue -n <study>-<trial> -S … train@<member>``: only the training stage of one member
  (and what it needs: schema, pack; restored from the run-cache after the first trial);
* run: ``dvc queue start -j N`` (idempotent: it tops the workers up to N);
* states: ``dvc exp show --json`` (queued, running, success, failed, by experiment name);
* objective: the member's ``summary.json`` read from the finished experiment's commit with ``dvc.api.read``,
  which resolves it through that commit's ``dvc.lock`` and DVC's cache. This works whether ``summary.json`` is
  declared under ``metrics:`` or as a plain cached output, so it does not depend on dvc.yaml's metrics list
  (docs/ARCHITECTURE.md, "Hyper-parameter search").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphqa.hpo.errors import HpoError

QUEUED, RUNNING, SUCCESS, FAILED = "queued", "running", "success", "failed"


@dataclass(frozen=True)
class Experiment:
    name: str
    state: str  # queued | running | success | failed
    rev: str | None  # the experiment's commit (success)
    params: dict[str, Any]  # params.yaml as the experiment ran it (what `dvc exp show` shows)


def _dvc_executable() -> str:
    beside = Path(sys.executable).parent / "dvc"
    return str(beside) if beside.is_file() else "dvc"


class DvcExperiments:
    """The DVC experiments of the project at ``root`` (its workspace's HEAD is their baseline).

    ``lock_fd``, when given, is inherited by each ``dvc exp run --queue`` (see :mod:`graphqa.hpo.driver_lock`).
    """

    def __init__(self, root: Path, lock_fd: int | None = None) -> None:
        self.root = root
        self.dvc = _dvc_executable()
        self.lock_fd = lock_fd

    @property
    def env(self) -> dict[str, str]:
        # The queue's workers run `dvc` and the stages run `python`: both must be this environment's.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, "DVC_NO_ANALYTICS": "1"}

    def _run(self, args: Sequence[str], timeout: float = 600,
             pass_fds: Sequence[int] = ()) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.dvc, *args], cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False, pass_fds=tuple(pass_fds))

    def queue(self, name: str, overrides: Sequence[str], target: str) -> None:
        """Queue experiment ``name`` running ``target`` with ``-S`` overrides; HpoError with DVC's reason."""
        args = ["exp", "run", "--queue", "-n", name]
        for override in overrides:
            args += ["-S", override]
        # Only this command gets the lock: it writes the workspace's params.yaml and restores it. The queue's
        # workers (`dvc queue start`) outlive the driver by design and must not hold it.
        result = self._run([*args, target], pass_fds=() if self.lock_fd is None else (self.lock_fd,))
        if result.returncode != 0:
            raise HpoError(f"dvc exp run --queue -n {name}: {_last_error(result)}")

    def start_workers(self, jobs: int) -> None:
        result = self._run(["queue", "start", "-j", str(jobs)])
        if result.returncode != 0:
            raise HpoError(f"dvc queue start -j {jobs}: {_last_error(result)}")

    def experiments(self) -> dict[str, Experiment]:
        """Every named experiment of the workspace's HEAD, queued, running, finished or failed."""
        result = self._run(["exp", "show", "--json"])
        if result.returncode != 0:
            raise HpoError(f"dvc exp show --json: {_last_error(result)}")
        try:
            shown = json.loads(result.stdout or "[]")
        except ValueError as exc:
            raise HpoError(f"dvc exp show --json: not JSON ({exc})") from None
        found: dict[str, Experiment] = {}
        for commit in shown if isinstance(shown, list) else []:
            for exp in commit.get("experiments") or []:
                state = (exp.get("executor") or {}).get("state") or SUCCESS
                for rev in exp.get("revs") or []:
                    name = rev.get("name") or exp.get("name")
                    if not name:
                        continue
                    params = (((rev.get("data") or {}).get("params") or {}).get("params.yaml") or {}).get("data")
                    found[name] = Experiment(name, state, rev.get("rev") if state == SUCCESS else None, params or {})
        return found

    def read_json(self, rev: str, path: str) -> dict[str, Any]:
        """``path`` (a DVC output) as committed by experiment ``rev``."""
        import dvc.api

        try:
            text = dvc.api.read(path, repo=str(self.root), rev=rev, mode="r")
            value = json.loads(text)
        except Exception as exc:  # DVC raises its own errors (missing output, cache entry)
            raise HpoError(f"{path} at experiment {rev[:7]}: {exc}") from None
        if not isinstance(value, dict):
            raise HpoError(f"{path} at experiment {rev[:7]}: expected a JSON object")
        return value


def _last_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or [f"exit status {result.returncode}"])[-1]
