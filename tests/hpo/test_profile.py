"""``graphqa hpo best``: the best trial as a profile overlay that composes to exactly what the trial ran."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graphqa.compose import composed, flatten, list_profiles
from graphqa.hpo.profile import profile_name, write_best_profile
from graphqa.hpo.storage import open_storage, study_db
from graphqa.hpo.study import SETUP_ATTR

BIN = Path(sys.executable).parent


def _finished_study(root: Path, name: str) -> None:
    """A study as `graphqa hpo run` leaves it: base profiles recorded, three trials told (one failed)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    study = optuna.create_study(storage=open_storage(study_db(root, name)), study_name=name, direction="minimize")
    study.set_user_attr(SETUP_ATTR, {"base_overrides": ["profile=ci_fast"], "objective": "score"})
    space = {"optimizer.lr": FloatDistribution(1e-4, 1e-2, log=True),
             "model.arch": CategoricalDistribution(["gatv2_edge", "topoqa"])}
    for lr, arch, value in [(0.004, "gatv2_edge", 0.2), (0.00123, "topoqa", 0.1), (0.009, "gatv2_edge", None)]:
        study.add_trial(optuna.trial.create_trial(
            params={"optimizer.lr": lr, "model.arch": arch}, distributions=space, value=value,
            state=optuna.trial.TrialState.COMPLETE if value is not None else optuna.trial.TrialState.FAIL))


def test_best_profile_composes_to_the_best_trial_with_its_base_profile(project_params: Path) -> None:
    root = project_params.parent
    _finished_study(root, "lr.probe")
    path, best = write_best_profile(root, "lr.probe")
    assert best.number == 1 and path == project_params / "profile" / "hpo_lr_probe.yaml"
    text = path.read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header[0] == "# @package _global_"
    assert "study lr.probe: trial 1, score 0.1 (minimize)" in header[1] and "base profiles: ci_fast" in text
    body = yaml.safe_load(text)
    assert body["profiles"] == {"hpo_lr_probe": True} and body["optimizer"] == {"lr": 0.00123}
    assert "hpo" not in body and "params_check" not in body
    # composing the profile alone gives what the best trial ran: ci_fast's changes plus the searched values
    ran = flatten(composed(("hpo_lr_probe",), (), project_params))
    trial = flatten(composed(("ci_fast",), ("optimizer.lr=0.00123", "model.arch='topoqa'"), project_params))
    assert {k: v for k, v in ran.items() if not k.startswith("profiles.")} == \
        {k: v for k, v in trial.items() if not k.startswith("profiles.")}
    assert ran["profiles.hpo_lr_probe"] is True and ran["trainer.max_epochs"] == 2 and ran["model.arch"] == "topoqa"
    purpose = {p.name: p.purpose for p in list_profiles(project_params)}["hpo_lr_probe"]
    assert purpose.startswith("Best trial of Optuna study lr.probe")


def test_profile_name() -> None:
    assert profile_name("abc-1.v2") == "hpo_abc-1_v2"


def _graphqa(root: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})}
    return subprocess.run([str(BIN / "graphqa"), *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_cli_best_show_and_refusals(project_params: Path) -> None:
    root = project_params.parent
    (root / "dvc.yaml").write_text("stages: {}\n")
    _finished_study(root, "s1")
    shown = _graphqa(root, "hpo", "show", "--study", "s1")
    assert shown.returncode == 0, shown.stderr
    assert "s1-1" in shown.stdout and "fail" in shown.stdout and "best: trial 1 (s1-1), value 0.1" in shown.stdout
    assert "importances" in shown.stdout
    best = _graphqa(root, "hpo", "best", "--study", "s1")
    assert best.returncode == 0, best.stderr
    assert "dvc exp run -S profile=hpo_s1" in best.stdout and (project_params / "profile" / "hpo_s1.yaml").is_file()
    missing = _graphqa(root, "hpo", "best", "--study", "nope")
    assert missing.returncode == 2 and "no study 'nope' here" in missing.stderr and "Traceback" not in missing.stderr


def test_without_optuna_one_clear_message(tmp_path: Path) -> None:
    """The extra missing: one line saying how to install it, exit 2, no traceback."""
    blocker = tmp_path / "no_optuna"
    (blocker / "optuna").mkdir(parents=True)
    (blocker / "optuna" / "__init__.py").write_text("raise ImportError('optuna is not installed')\n")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    result = _graphqa(tmp_path, "hpo", "show", "--study", "s", extra_env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 2
    assert "graphqa hpo needs Optuna, an optional extra: pip install 'graphqa[hpo]'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("study", ["a", "x_1.b-2"])
def test_study_names_accepted(study: str) -> None:
    from graphqa.config import check_study_name

    assert check_study_name(study) == study


@pytest.mark.parametrize("study", ["../x", ".a", "-a", "a b", "a.lock", "a/b", "a" * 65])
def test_study_names_refused(study: str) -> None:
    from graphqa.config import ParamsError, check_study_name

    with pytest.raises(ParamsError, match="--study: .* is not a study name"):
        check_study_name(study, "--study")
