"""A profile chosen with ``graphqa params compose --profile`` survives a later ``dvc exp run -S KEY=VALUE``.

DVC recomposes params.yaml from params/ with only the ``-S`` overrides; the
saved choice (params/compose/saved.yaml, an optional defaults-list entry) is
what keeps the profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graphqa.compat.dvc import compose_and_dump
from graphqa.compose import SAVED_CHOICE, compose, saved_profiles
from graphqa.config import ParamsError
from tests.test_params import CONFIG_DIR, DVC, ROOT, _dvc_repo

# As a user with the project's environment activated: its python first on PATH, a git identity.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def _graphqa(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphqa", *args], cwd=repo, capture_output=True, text=True, env=ENV)


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DVC, *args], cwd=repo, capture_output=True, text=True, env=ENV)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's params/, hydra_plugins/ and params.yaml: all that composing reads (no git, no DVC)."""
    monkeypatch.setenv("PATH", ENV["PATH"])  # in-process compositions too: the activated environment
    repo = tmp_path / "repo"
    shutil.copytree(CONFIG_DIR, repo / "params", ignore=shutil.ignore_patterns("compose"))  # nothing saved yet
    shutil.copytree(ROOT / "hydra_plugins", repo / "hydra_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "params.yaml", repo / "params.yaml")
    return repo


@pytest.fixture
def dvc_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git + DVC repo with the project's params and one stage that copies params.yaml (tests/test_params.py)."""
    monkeypatch.setenv("PATH", ENV["PATH"])
    repo = _dvc_repo(tmp_path)
    (repo / "params" / SAVED_CHOICE).unlink(missing_ok=True)  # whatever this checkout has saved is not the test's
    return repo


def _dvc_composes(repo: Path, *overrides: str) -> dict:
    """params.yaml as ``dvc exp run -S OVERRIDES`` writes it (DVC's own compose_and_dump), read back."""
    out = repo / "dvc_params.yaml"
    compose_and_dump(out, repo / "params", "config", list(overrides))
    return yaml.safe_load(out.read_text())


@pytest.mark.slow  # two real `dvc exp run`s (~10 s each on an idle 2-core machine)
def test_dvc_exp_run_set_param_keeps_the_composed_profile(dvc_repo: Path, tmp_path: Path) -> None:
    repo = dvc_repo
    composed = _graphqa(repo, "params", "compose", "--profile", "ampere_bf16", "--profile", "low_vram")
    assert composed.returncode == 0, composed.stderr
    assert "a later `dvc exp run -S KEY=VALUE` keeps ampere_bf16, low_vram" in composed.stdout
    assert saved_profiles(repo / "params") == ["ampere_bf16", "low_vram"]

    run = _dvc(repo, "exp", "run", "--temp", "-n", "keeps", "-S", "optimizer.lr=0.003")
    assert run.returncode == 0, run.stderr + run.stdout
    applied = _dvc(repo, "exp", "apply", "keeps")
    assert applied.returncode == 0, applied.stderr
    seen = yaml.safe_load((repo / "seen.yaml").read_text())  # what the stage read in DVC's temp dir
    assert list(seen["profiles"]) == ["ampere_bf16", "low_vram"]
    assert seen["optimizer"]["lr"] == 0.003 and seen["trainer"]["precision"] == "16-mixed"
    expected = compose(["ampere_bf16", "low_vram"], ["optimizer.lr=0.003"], tmp_path / "want.yaml", CONFIG_DIR)
    assert (repo / "params.yaml").read_bytes() == expected.read_bytes()

    # A saved profile deleted since: DVC refuses naming the saved file, and choosing again repairs it.
    (repo / "params" / SAVED_CHOICE).write_text("# @package _global_\ndefaults:\n  - override /profile: [gone]\n")
    before = (repo / "params.yaml").read_bytes()
    failed = _dvc(repo, "exp", "run", "-S", "seed=3")
    assert failed.returncode != 0
    assert "compose/saved.yaml: saved profile 'gone' not found" in failed.stderr + failed.stdout
    assert (repo / "params.yaml").read_bytes() == before
    again = _graphqa(repo, "params", "compose", "--profile", "cpu")  # what the message says to do
    assert again.returncode == 0, again.stderr
    assert "removed the saved choice" in again.stderr and saved_profiles(repo / "params") == ["cpu"]


def test_set_profile_replaces_the_saved_choice_and_compose_without_profile_removes_it(repo: Path) -> None:
    assert _graphqa(repo, "params", "compose", "--profile", "ampere_bf16").returncode == 0
    assert list(_dvc_composes(repo, "seed=5")["profiles"]) == ["ampere_bf16"]
    assert list(_dvc_composes(repo, "profile=ci_fast")["profiles"]) == ["ci_fast"]  # -S on the command line wins
    assert list(_dvc_composes(repo, "profile=[ci_fast,debug]")["profiles"]) == ["ci_fast", "debug"]

    reset = _graphqa(repo, "params", "compose", "seed=9")
    assert reset.returncode == 0, reset.stderr
    assert "removed params/compose/saved.yaml" in reset.stdout
    assert "seed=9 is in params.yaml only" in reset.stderr  # overrides are not saved: said, not silent
    assert not (repo / "params" / SAVED_CHOICE).exists() and not (repo / "params" / "compose").exists()
    assert list(_dvc_composes(repo, "seed=5")["profiles"]) == ["default"]
    assert yaml.safe_load((repo / "params.yaml").read_text())["seed"] == 9


def test_composing_another_file_leaves_the_saved_choice_alone(repo: Path) -> None:
    assert _graphqa(repo, "params", "compose", "--profile", "cpu").returncode == 0
    other = _graphqa(repo, "params", "compose", "--profile", "ci_fast", "-o", "other.yaml")
    assert other.returncode == 0, other.stderr
    assert saved_profiles(repo / "params") == ["cpu"]
    # The library call composes exactly what it is asked, whatever is saved.
    assert list(yaml.safe_load(compose((), (), repo / "plain.yaml", repo / "params").read_text())["profiles"]) \
        == ["default"]


def test_a_damaged_saved_choice_is_named(repo: Path) -> None:
    saved = repo / "params" / SAVED_CHOICE
    saved.parent.mkdir()
    saved.write_text("defaults: 3\n")
    with pytest.raises(ParamsError, match=r"compose/saved\.yaml: expected `defaults: \[\{override /profile"):
        saved_profiles(repo / "params")
