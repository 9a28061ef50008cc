"""The hpo section: validated at load like every section; the space as Optuna distributions and -S overrides."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from graphqa.compose import composed, flatten
from graphqa.config import Params, ParamsError, params_from_dict
from graphqa.hpo.space import distributions, format_value, nested, overrides

SWEEP = {"seeds": [222], "variants": ["baseline", "low_lr"],
         "overlays": {"baseline": {}, "low_lr": {"optimizer": {"lr": 0.001}}}}


def _with_space(*dims: dict[str, Any], **hpo: Any) -> Params:
    return params_from_dict({"sweep": SWEEP, "hpo": {**hpo, "space": list(dims)}})


def test_the_committed_default_space_loads_and_becomes_optuna_distributions(project_params: Path) -> None:
    import optuna

    params = params_from_dict(composed((), (), project_params))
    assert params.hpo.objective == "score" and params.hpo.sampler == "tpe" and not params.hpo.pruning
    dists = distributions(params.hpo.space)
    assert isinstance(dists["optimizer.lr"], optuna.distributions.FloatDistribution) and dists["optimizer.lr"].log
    assert isinstance(dists["model.num_layers"], optuna.distributions.IntDistribution)
    assert dists["model.hidden_dim"].choices == (16, 32, 64)


@pytest.mark.parametrize(("dim", "hpo", "message"), [
    ({"key": "optimizer.lr", "type": "float", "low": 0.0, "high": 0.1, "log": True}, {}, "hpo.space[0].low: a log"),
    ({"key": "optimizer.lr", "type": "float", "low": 0.1, "high": 0.01}, {}, "low 0.1 must be below high 0.01"),
    ({"key": "optimizer.lrr", "type": "float", "low": 0.001, "high": 0.01}, {}, "optimizer.lrr: no such key"),
    ({"key": "model.topoqa", "type": "categorical", "choices": [1]}, {}, "model.topoqa is a section"),
    ({"key": "selection.spearman_weight", "type": "float", "low": 0.0, "high": 1.0}, {}, "a training section"),
    ({"key": "seed", "type": "int", "low": 1, "high": 9}, {}, "a training section"),
    ({"key": "model.init_from", "type": "categorical", "choices": ["a"]}, {}, "a path, not a hyper-parameter"),
    ({"key": "model.num_layers", "type": "int", "low": 1.5, "high": 3}, {}, "hpo.space[0].low: expected an integer"),
    ({"key": "model.arch", "type": "categorical", "choices": ["gatv2_edge", "nope"]}, {}, "model.arch='nope'"),
    ({"key": "model.arch", "type": "categorical", "choices": ["a;rm -rf"]}, {}, "expected numbers, true/false"),
    ({"key": "model.dropout", "type": "float", "low": 0.0, "high": 1.0}, {}, "model.dropout=1.0 is not valid"),
    ({"key": "model.heads", "type": "categorical", "choices": []}, {}, "expected a non-empty list of choices"),
    ({"key": "model.heads", "type": "int", "low": 1, "high": 4, "choices": [1]}, {}, "not choices"),
    ({"key": "optimizer.lr", "type": "float", "low": 0.001, "high": 0.01}, {"study": "../x"}, "hpo.study"),
    ({"key": "optimizer.lr", "type": "float", "low": 0.001, "high": 0.01}, {"study": "a.lock"}, "hpo.study"),
    ({"key": "optimizer.lr", "type": "float", "low": 0.001, "high": 0.01}, {"parallel": 0}, "hpo.parallel"),
    ({"key": "optimizer.lr", "type": "float", "low": 0.001, "high": 0.01}, {"objective": "test_loss"},
     "hpo.objective"),
])
def test_bad_space_is_refused_naming_the_key(dim: dict[str, Any], hpo: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError, match="hpo") as caught:
        _with_space(dim, **hpo)
    assert message in str(caught.value), str(caught.value)


def test_a_key_searched_twice_is_refused() -> None:
    dim = {"key": "model.heads", "type": "int", "low": 1, "high": 4}
    with pytest.raises(ParamsError, match="model.heads is searched twice"):
        _with_space(dim, dim)


def test_runtime_hpo_trial_format() -> None:
    assert params_from_dict({"sweep": SWEEP, "runtime": {"hpo_trial": "study/3"}}).runtime.hpo_trial == "study/3"
    with pytest.raises(ParamsError, match="runtime.hpo_trial"):
        params_from_dict({"sweep": SWEEP, "runtime": {"hpo_trial": "study/x; rm"}})


@pytest.mark.parametrize(("value", "text"), [
    (0.001, "0.001"), (1e-05, "1e-05"), (3.0, "3.0"), (64, "64"), (True, "true"), (None, "null"),
    ("topoqa", "'topoqa'"), ("true", "'true'"), ([1, 2], "[1,2]"),
])
def test_format_value(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_overrides_compose_back_to_the_same_values(project_params: Path) -> None:
    """What a trial passes to `dvc exp run -S` composes (as DVC composes it) to exactly the trial's values."""
    values = {"optimizer.lr": 0.0012345678901234, "model.hidden_dim": 64, "model.arch": "topoqa",
              "model.dropout": 0.0, "loss.priors.ranking": 1e-05, "model.edge_update": False}
    flat = flatten(composed(("ci_fast",), overrides(values), project_params))
    for key, value in values.items():
        assert flat[key] == value and type(flat[key]) is type(value), (key, flat[key])
    assert flat["trainer.max_epochs"] == 2  # the profile still applies


def test_format_value_refuses_what_hydra_would_reinterpret() -> None:
    from graphqa.hpo.errors import HpoError

    for bad in ("a b", "x=y", math.inf, {"a": 1}):
        with pytest.raises(HpoError):
            format_value(bad, "model.arch")


def test_nested() -> None:
    assert nested({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}


def test_a_bad_hpo_override_fails_while_composing(project_params: Path) -> None:
    """`dvc exp run -S hpo.…` / `graphqa params compose` compose through the same check (hydra_plugins)."""
    with pytest.raises(ParamsError, match=r"hpo\.space\[0\]\.key: 'optimizer\.lrr': expected|optimizer.lrr: no such key"):
        composed((), ["hpo.space=[{key:optimizer.lrr,type:float,low:0.1,high:0.2}]"], project_params)
    with pytest.raises(ParamsError, match="hpo.trials: expected an integer >= 1"):
        composed((), ["hpo.trials=0"], project_params)


@pytest.mark.parametrize(("hpo", "message"), [
    ({"member": "low_lr"}, "sweep.overlays.low_lr sets optimizer.lr itself"),
    ({"member": "topoqa"}, "hpo.member: 'topoqa' is not a sweep variant"),
])
def test_a_member_that_cannot_carry_the_search_is_refused_when_the_study_starts(hpo: dict[str, Any],
                                                                                 message: str) -> None:
    """A profile may replace sweep.variants (finetune_released): the member is checked by `hpo run`, not at load."""
    from graphqa.hpo.errors import HpoError
    from graphqa.hpo.study import check_member

    params = _with_space({"key": "optimizer.lr", "type": "float", "low": 0.001, "high": 0.01}, **hpo)
    with pytest.raises(HpoError, match=message):
        check_member(params, params.hpo)
    check_member(params, dataclasses.replace(params.hpo, member="baseline"))

