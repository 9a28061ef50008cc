"""The ``hpo.space`` params as Optuna distributions, and a trial's values as ``dvc exp run -S`` overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from graphqa.config import SAFE_NAME, SearchDimension
from graphqa.hpo.errors import HpoError


def distributions(space: Sequence[SearchDimension]) -> dict[str, Any]:
    """``{key: optuna distribution}`` for ``hpo.space`` (already validated by graphqa.config)."""
    from graphqa.hpo.errors import require_optuna

    optuna = require_optuna()
    dist = optuna.distributions
    out: dict[str, Any] = {}
    for dim in space:
        if dim.type == "categorical":
            out[dim.key] = dist.CategoricalDistribution(list(dim.choices or []))
        elif dim.type == "int":
            out[dim.key] = dist.IntDistribution(int(dim.low), int(dim.high), log=dim.log, step=int(dim.step or 1))
        else:
            out[dim.key] = dist.FloatDistribution(float(dim.low), float(dim.high), log=dim.log,
                                                  step=None if dim.step is None else float(dim.step))
    return out


def format_value(value: Any, key: str = "value") -> str:
    """A value as Hydra's override grammar reads it back unchanged (numbers, booleans, null, quoted names, lists)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise HpoError(f"{key}: {value} is not finite")
        text = repr(value)
        return text if any(c in text for c in ".en") else f"{text}.0"
    if isinstance(value, str) and SAFE_NAME.fullmatch(value):
        return f"'{value}'"  # quoted: a name like `true` or `1e3` stays a string
    if isinstance(value, list):
        return "[" + ",".join(format_value(v, key) for v in value) + "]"
    raise HpoError(f"{key}: {value!r} cannot be passed to `dvc exp run -S`; expected numbers, true/false, null, "
                   "names of letters, digits, '_', '.' or '-', or lists of them")


def overrides(values: Mapping[str, Any]) -> list[str]:
    """``["optimizer.lr=0.003", ...]``: what ``dvc exp run -S`` (or ``graphqa params compose``) receives."""
    return [f"{key}={format_value(value, key)}" for key, value in values.items()]


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"optimizer.lr": 0.003}`` → ``{"optimizer": {"lr": 0.003}}``."""
    tree: dict[str, Any] = {}
    for key, value in values.items():
        *path, leaf = key.split(".")
        node = tree
        for name in path:
            node = node.setdefault(name, {})
        node[leaf] = value
    return tree
