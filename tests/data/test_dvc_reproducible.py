"""``dvc add data`` after regenerating the demo data gives the same hash (real git + dvc CLIs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from graphqa.demo.generate import generate_demo

DVC = Path(sys.executable).with_name("dvc")


def _run(*args: str, cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_dvc_hash_of_regenerated_demo_data_is_identical(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _run("git", "init", "-q", cwd=repo)
    _run(str(DVC), "init", "-q", cwd=repo)
    generate_demo(repo / "data", targets=3, decoys=4, seed=222, workers=1)
    _run(str(DVC), "add", "-q", "data", cwd=repo)
    first = yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]
    assert first["md5"].endswith(".dir") and first["nfiles"] == 12 + 1 + 3 + 1

    shutil.rmtree(repo / "data")
    generate_demo(repo / "data", targets=3, decoys=4, seed=222, workers=2)
    assert "Data and pipelines are up to date" in _run(str(DVC), "status", cwd=repo)
    _run(str(DVC), "add", "-q", "data", cwd=repo)
    assert yaml.safe_load((repo / "data.dvc").read_text())["outs"][0] == first
