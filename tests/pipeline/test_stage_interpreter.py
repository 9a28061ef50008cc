"""Stage commands run `python` from PATH: one without graphqa fails at once, saying to activate .venv.

The situation of a user who runs `.venv/bin/dvc …` without activating the
environment: dvc imports graphqa, the stages' `python` (the system one) does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tools.stage_deps import stage_scripts
from tools.working_tree import copy_working_tree

from tests.pipeline.conftest import BIN, ROOT, Project

ACTIVATE = "source .venv/bin/activate"


def _python_without_graphqa() -> Path:
    """The interpreter the project's virtualenv was made from: a real Python without graphqa."""
    for candidate in (Path(sys.base_prefix) / "bin" / "python3", Path("/usr/bin/python3")):
        if candidate.is_file():
            probe = subprocess.run([str(candidate), "-c", "import graphqa"], capture_output=True)
            if probe.returncode != 0:
                return candidate
    pytest.skip("no Python without graphqa on this machine")


@pytest.fixture(scope="module")
def system_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH whose `python` is a system Python without graphqa, and without the virtualenv's bin/."""
    bin_dir = tmp_path_factory.mktemp("system-bin")
    (bin_dir / "python").symlink_to(_python_without_graphqa())
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != BIN.resolve()]
    return os.pathsep.join([str(bin_dir), *rest])


@pytest.fixture(scope="module")
def bare_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """This project's files in a fresh git repo (no data: the stages below need none)."""
    root = tmp_path_factory.mktemp("interpreter") / "repo"
    root.mkdir()
    copy_working_tree(root)
    project = Project(root)
    project.run("git", "init", "-q", "-b", "main")
    project.commit("test project")
    return project


def _run(project: Project, path: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=project.root, env={**project.env, "PATH": path}, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("script", [p.name for p in stage_scripts()])
def test_every_stage_script_says_to_activate_the_environment(script: str, system_path: str, tmp_path: Path) -> None:
    python = _python_without_graphqa()
    result = subprocess.run([str(python), str(ROOT / "stages" / script), "--help"], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PATH": system_path}, timeout=60)
    assert result.returncode == 1
    assert "cannot import graphqa" in result.stderr and ACTIVATE in result.stderr
    assert "Traceback" not in result.stderr


def test_dvc_repro_with_another_python_fails_at_the_first_stage(bare_project: Project, system_path: str) -> None:
    result = _run(bare_project, system_path, str(BIN / "dvc"), "repro", "check_params")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "cannot import graphqa" in output and ACTIVATE in output, output
    assert "Traceback" not in output and "ModuleNotFoundError" not in output, output
    assert not (bare_project.root / "artifacts" / "params_check.json").exists()


def test_dvc_exp_run_with_another_python_refuses_before_anything_runs(bare_project: Project, system_path: str) -> None:
    params_before = (bare_project.root / "params.yaml").read_bytes()
    result = _run(bare_project, system_path, str(BIN / "dvc"), "exp", "run", "-S", "seed=5")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "cannot import graphqa" in output and ACTIVATE in output, output
    assert "Running stage" not in output, output  # refused while composing params, before any stage
    assert (bare_project.root / "params.yaml").read_bytes() == params_before
    assert not (bare_project.root / "artifacts").exists()
    assert _run(bare_project, system_path, str(BIN / "dvc"), "exp", "list", "--all-commits").stdout.strip() == ""
