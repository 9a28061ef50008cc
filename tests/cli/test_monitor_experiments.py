"""``graphqa monitor`` finds a run that DVC trains in its own copy of the workspace (``dvc exp run
--temp``, the queue: ``graphqa.compat.dvc.experiment_copies``), and gives up with a hint when the run is nowhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_params import DVC, _dvc_repo

ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

# A stand-in for the train stage: a run dir mid-training (DVCLive metrics, no summary.json), then done.
MAKE_RUN = """\
import json, pathlib, time
run = pathlib.Path("runs/sweep/b-1")
(run / "dvclive").mkdir(parents=True)
(run / "dvclive" / "metrics.json").write_text(json.dumps({"train": {"loss": 0.5}, "step": 1}))
time.sleep(8)
(run / "summary.json").write_text(json.dumps({"status": "completed"}))
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", ENV["PATH"])
    repo = _dvc_repo(tmp_path)
    (repo / "make_run.py").write_text(MAKE_RUN)
    (repo / "dvc.yaml").write_text("stages:\n  train:\n    cmd: python make_run.py\n    deps: [make_run.py]\n"
                                   "    outs: [runs]\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "stage"], cwd=repo, check=True, capture_output=True)
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.slow  # a real `dvc exp run --temp` (~15 s on an idle 2-core machine)
def test_monitor_follows_a_run_training_in_a_temp_experiment(repo: Path, cli) -> None:
    run_dir = Path("runs/sweep/b-1")
    experiment = subprocess.Popen([DVC, "exp", "run", "--temp", "-n", "watched"], cwd=repo, env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        result = cli("monitor", run_dir, "--follow", "--interval", "0.3", "--timeout", "120")
    finally:
        out, _ = experiment.communicate(timeout=180)
    assert experiment.returncode == 0, out
    assert result.exit_code == 0, result.output
    assert f"waiting for {run_dir.as_posix()}" in result.stdout or "following" in result.stdout
    assert f"following {run_dir.as_posix()} in experiment watched" in result.stdout, result.stdout
    assert ".dvc/tmp/exps/" in result.stdout  # where the copy is, said
    assert "run completed" in result.stdout or "ended and DVC removed its copy" in result.stdout
    assert not (repo / run_dir).exists()  # it never was in the workspace


def test_monitor_waiting_for_a_run_that_is_nowhere_gives_up_with_a_hint(tmp_path: Path, cli, monkeypatch) -> None:
    (tmp_path / ".dvc" / "tmp" / "exps").mkdir(parents=True)  # a DVC repo running no experiment
    monkeypatch.chdir(tmp_path)
    missing = Path("runs/sweep/never-1")
    result = cli("monitor", missing, "--follow", "--interval", "0.2", "--timeout", "1")
    assert result.exit_code == 1
    assert f"waiting for {missing.as_posix()}: not in this workspace, and no experiment DVC runs in .dvc/tmp/exps " \
           "has it yet" in result.stdout
    assert "dvc queue status" in result.stdout and "did not appear within 1s" in result.stdout

    result = cli("monitor", missing)  # without --follow: at once, a clean error
    assert result.exit_code == 2
    assert "run directory not found in this workspace or in a running experiment" in result.stderr
