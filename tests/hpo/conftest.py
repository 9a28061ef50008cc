"""Fixtures of the hpo tests: a copy of the project's params/ to compose in (never the repository's own)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BIN = Path(sys.executable).parent

pytest.importorskip("optuna")  # the graphqa[hpo] extra (in the dev extra, so CI runs these)


@pytest.fixture(autouse=True)
def project_python_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment's `python` and `dvc` first on PATH, as `make` and DVC's stages have them (composing checks)."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def project_params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<tmp>/params`` (config + profiles) as the working directory's project; returns the params dir."""
    shutil.copytree(ROOT / "params", tmp_path / "params",
                    ignore=shutil.ignore_patterns("hpo_*.yaml"))  # a user's generated study profiles stay out
    monkeypatch.chdir(tmp_path)
    return tmp_path / "params"
