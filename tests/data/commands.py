"""The data commands as a user runs them, in subprocesses: ``graphqa data check`` and the schema/pack stages."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GRAPHQA = str(Path(sys.executable).with_name("graphqa"))
MINIMAL_PARAMS = "sweep:\n  overlays:\n    baseline: {}\n"  # every other key at its default


def run(args: list[str], cwd: Path, cap: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd``; with ``cap``, its address space is capped (``RLIMIT_AS``) so a big allocation fails."""

    def limit() -> None:
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, preexec_fn=limit, timeout=600)  # noqa: PLW1509


def data_check(data: Path, cwd: Path, *extra: str, cap: int | None = None) -> tuple[subprocess.CompletedProcess[str],
                                                                                     dict[str, Any]]:
    """``graphqa data check DATA --json report.json`` (params.yaml from ``cwd`` if any); the result and the report."""
    report = cwd / "report.json"
    result = run([GRAPHQA, "data", "check", str(data), "--json", str(report), *extra], cwd, cap)
    return result, json.loads(report.read_text())


def schema_stage(graphs: Path, labels: Path, out: Path, cwd: Path, cap: int | None = None
                 ) -> subprocess.CompletedProcess[str]:
    """``python stages/schema.py`` with ``cwd/params.yaml`` (the minimal params written when absent)."""
    if not (cwd / "params.yaml").is_file():
        (cwd / "params.yaml").write_text(MINIMAL_PARAMS)
    return run([sys.executable, str(ROOT / "stages" / "schema.py"), "--graphs", str(graphs), "--labels", str(labels),
                "--out", str(out), "--params", "params.yaml"], cwd, cap)


def pack_stage(schema: Path, out: Path, graphs: Path, labels: Path, cwd: Path, *prefix: str
               ) -> subprocess.CompletedProcess[str]:
    """``python [PREFIX…] stages/pack.py`` on ``schema`` (feature_metadata.json) into ``out``."""
    return run([sys.executable, *prefix, str(ROOT / "stages" / "pack.py"), "--schema", str(schema), "--out", str(out),
                "--graphs", str(graphs), "--labels", str(labels)], cwd)
