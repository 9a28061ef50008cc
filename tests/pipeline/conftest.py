"""A throw-away clone of this project with small demo data, for real `dvc` runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tools.working_tree import copy_working_tree

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Small enough for CI's 2 cores, big enough that every split has several targets.
DEMO_ARGS = ["--targets", "12", "--decoys", "24", "--test-decoys", "24", "--seed", "7"]


@dataclass
class Project:
    root: Path

    @property
    def env(self) -> dict[str, str]:
        # `python` in dvc.yaml's commands must be this interpreter; no GUI pagers or prompts.
        return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1",
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@t", "GRAPHQA_PROGRESS_BAR": "0"}

    def run(self, *cmd: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, cwd=self.root, env=self.env, capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return self.run(str(BIN / "dvc"), *args, check=check, timeout=timeout)

    def graphqa(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(BIN / "graphqa"), *args, check=check)

    def json(self, relpath: str) -> dict:
        return json.loads((self.root / relpath).read_text())

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message)


def make_project(dest: Path, profile: str | None = "ci_fast") -> Project:
    """A git + DVC repo of this project with demo data tracked by data.dvc."""
    dest.mkdir(parents=True)
    copy_working_tree(dest)
    project = Project(dest)
    project.run("git", "init", "-q", "-b", "main")
    (dest / "data.dvc").unlink(missing_ok=True)
    project.graphqa("data", "demo", "--out", "data", *DEMO_ARGS)
    project.dvc("add", "-q", "data")
    if profile:
        project.graphqa("params", "compose", "--profile", profile)
    project.commit("test project")
    return project


def copy_project(source: Project, dest: Path) -> Project:
    """Another project in the state of ``source``: its git history, workspace, DVC cache and run-cache."""
    dvc_dir = source.root / ".dvc"

    def skip_dvc_tmp(directory: str, names: list[str]) -> list[str]:  # its locks and state are the source's
        return ["tmp"] if Path(directory) == dvc_dir else []

    shutil.copytree(source.root, dest, symlinks=True, ignore=skip_dvc_tmp)
    return Project(dest)


@pytest.fixture(scope="session")
def ci_reproduced(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose ci_fast pipeline has run once, committed. Never changed: tests take a ``copy_project``.

    Made once per test run: pytest-xdist's workers share it (the first to ask builds it under a file lock).
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, root = shared / "ci_reproduced", shared / "ci_reproduced" / "repo"
    with FileLock(str(shared / "ci_reproduced.lock")):
        if not (folder / "complete").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            project = make_project(root)
            project.dvc("repro")
            project.commit("ran ci_fast")
            (folder / "complete").touch()
    return Project(root)


@pytest.fixture(scope="session")
def ci_project(ci_reproduced: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of ``ci_reproduced`` shared by the pipeline tests (they run in order and may change it)."""
    return copy_project(ci_reproduced, tmp_path_factory.mktemp("pipeline") / "repo")
