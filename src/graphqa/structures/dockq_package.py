"""Running the DockQ package (the field's reference implementation) from its own environment.

DockQ 2.1.3 pins ``numpy<2`` and graphqa needs numpy 2, so the package never enters
graphqa's environment: ``make install`` puts it in ``.make/dockq`` (a separate virtual
environment, ``pip install DockQ==2.1.3`` with its own pinned dependencies) and this
module runs its ``DockQ`` command with an argument list, chains mapped by ID
(``--mapping AB:AB``, what :mod:`graphqa.structures.dockq` does), reading ``--json``.
It is used to check graphqa's DockQ (tests, the example's agreement table), never to
make labels.

The executable is, in order: ``$GRAPHQA_DOCKQ``, ``<repo>/.make/dockq/bin/DockQ``,
``DockQ`` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

VERSION = "2.1.3"


def find_dockq_executable(repo: Path | None = None) -> str | None:
    """Path of the DockQ package's command, or ``None`` when it is not installed."""
    env = os.environ.get("GRAPHQA_DOCKQ")
    if env and Path(env).is_file():
        return env
    repo = repo or Path(__file__).resolve().parents[3]
    local = repo / ".make" / "dockq" / "bin" / "DockQ"
    if local.is_file():
        return str(local)
    return shutil.which("DockQ")


def package_dockq(model: str | Path, native: str | Path, chains: list[str], executable: str) -> dict:
    """GlobalDockQ and per-interface numbers from the DockQ package for ``model`` vs ``native``."""
    mapping = "".join(chains) if all(len(c) == 1 for c in chains) else ",".join(chains)
    with tempfile.TemporaryDirectory(prefix="graphqa-dockq-") as tmp:
        out = Path(tmp) / "dockq.json"
        proc = subprocess.run([executable, str(model), str(native), "--mapping", f"{mapping}:{mapping}",
                               "--json", str(out), "--short"], capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"DockQ package failed on {model} vs {native}: {(proc.stderr or proc.stdout)[-400:]}")
        data = json.loads(out.read_text())
    return {"dockq": float(data["GlobalDockQ"]),
            "interfaces": {k: {"dockq": v["DockQ"], "irmsd": v["iRMSD"], "lrmsd": v["LRMSD"], "fnat": v["fnat"]}
                           for k, v in data["best_result"].items()}}
