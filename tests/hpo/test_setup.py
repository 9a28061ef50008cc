"""What every trial of a study runs with: the workspace's profiles and the overrides its params.yaml was composed
with (a trial's own values win)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphqa.compose import compose, composed, flatten
from graphqa.hpo.errors import HpoError
from graphqa.hpo.study import experiment_name, workspace_overrides


def test_workspace_overrides_carry_what_params_yaml_was_composed_with(project_params: Path) -> None:
    root = project_params.parent
    compose(["ci_fast"], ["trainer.max_epochs=3", "model.arch=topoqa", "hpo.trials=4", "runtime.num_workers=1"],
            root / "params.yaml", project_params)
    carried = workspace_overrides(root / "params.yaml", ["ci_fast"], project_params)
    assert sorted(carried) == ["model.arch='topoqa'", "trainer.max_epochs=3"]  # not hpo, not runtime
    again = flatten(composed(["ci_fast"], carried, project_params))
    assert again["trainer.max_epochs"] == 3 and again["model.arch"] == "topoqa"
    compose(["ci_fast"], [], root / "params.yaml", project_params)
    assert workspace_overrides(root / "params.yaml", ["ci_fast"], project_params) == []


def test_a_params_yaml_missing_keys_is_refused(project_params: Path) -> None:
    root = project_params.parent
    (root / "params.yaml").write_text("seed: 1\n")
    with pytest.raises(HpoError, match="is missing; recompose it"):
        workspace_overrides(root / "params.yaml", [], project_params)


def test_experiment_name() -> None:
    assert experiment_name("lr.probe", 12) == "lr.probe-12"


def _setup(**hpo: object):
    from graphqa.config import HpoParams, SearchDimension
    from graphqa.hpo.study import StudySetup

    space = [SearchDimension(key="optimizer.lr", type="float", low=1e-4, high=1e-2, log=True),
             SearchDimension(key="model.hidden_dim", type="categorical", choices=[16, 32, 64])]
    return StudySetup(name="s", hpo=HpoParams(study="s", space=space, **hpo), target="train@baseline-222",
                      member="baseline-222", base_overrides=["profile=ci_fast"], baseline="abc")


def test_a_resumed_driver_does_not_replay_the_first_drivers_draws(tmp_path: Path) -> None:
    from graphqa.hpo.space import distributions
    from graphqa.hpo.study import open_study

    setup = _setup()
    space = distributions(setup.hpo.space)
    study, _ = open_study(tmp_path, setup, create=True)
    first = [study.ask(space).params for _ in range(2)]
    resumed, _ = open_study(tmp_path, setup, create=True)  # a new driver process, same sampler seed
    later = [resumed.ask(space).params for _ in range(2)]
    assert not any(params in first for params in later), (first, later)
    fresh, _ = open_study(tmp_path / "other", setup, create=True)  # a new study: reproducible from the seed
    assert [fresh.ask(space).params for _ in range(2)] == first


def test_a_study_refuses_to_continue_with_another_setup(tmp_path: Path) -> None:
    from graphqa.hpo.study import open_study

    open_study(tmp_path, _setup(), create=True)
    with pytest.raises(HpoError, match="was started with other objective"):
        open_study(tmp_path, _setup(objective="val_loss"), create=True)
