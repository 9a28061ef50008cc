"""``graphqa hpo best``: the best trial as a profile overlay, ``params/profile/hpo_<study>.yaml``.

The overlay holds everything the best trial ran with that differs from the defaults: the study's base
profiles' changes plus the searched values. So ``dvc exp run -S profile=hpo_<study>`` reruns the whole pipeline
(sweep → select → fine-tune → evaluate) with them, alone, without stacking the base profiles
(docs/ARCHITECTURE.md, "Hyper-parameter search").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from graphqa.compose import composed, flatten
from graphqa.hpo.space import nested, overrides
from graphqa.io import write_text

# Not copied into the overlay: bookkeeping of composition and of the study itself.
_SKIPPED = ("profiles.", "params_check", "hpo.", "runtime.hpo_trial")


def profile_name(study: str) -> str:
    """``hpo_<study>`` with dots as underscores (a Hydra option name is a file name without its suffix)."""
    return "hpo_" + study.replace(".", "_")


def best_overlay(config_dir: Path, base_overrides: Sequence[str], values: dict[str, Any]) -> dict[str, Any]:
    """The keys the best trial's composition sets differently from the defaults, nested as params.yaml has them."""
    default = flatten(composed((), (), config_dir))
    best = flatten(composed((), [*base_overrides, *overrides(values)], config_dir))
    changed = {key: value for key, value in best.items()
               if not key.startswith(_SKIPPED) and default.get(key, "<absent>") != value}
    return nested(changed)


def profile_text(name: str, *, study: str, trial: int, objective: str, direction: str, value: float,
                 base_overrides: Sequence[str], overlay: dict[str, Any], date: datetime | None = None) -> str:
    date = date or datetime.now(UTC)
    base = ", ".join(o.partition("=")[2] for o in base_overrides if o.startswith("profile=")) or "none"
    header = [
        "# @package _global_",
        f"# Best trial of Optuna study {study}: trial {trial}, {objective} {value:.6g} ({direction}), "
        f"{date.strftime('%Y-%m-%d')}",
        f"# Written by `graphqa hpo best --study {study}`; base profiles: {base}. Rerun the whole pipeline with",
        f"# `dvc exp run -S profile={name}`. Generated: rewrite it with `graphqa hpo best` rather than by hand.",
    ]
    body = yaml.safe_dump({"profiles": {name: True}, **overlay}, sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + body


def write_profile(config_dir: Path, name: str, text: str) -> Path:
    """Write ``params/profile/<name>.yaml`` atomically and check it composes (a bad one is removed)."""
    from graphqa.config import ParamsError

    path = config_dir / "profile" / f"{name}.yaml"
    write_text(path, text)
    try:
        composed((name,), (), config_dir)
    except ParamsError:
        path.unlink(missing_ok=True)
        raise
    return path


def write_best_profile(root: Path, study_name: str) -> tuple[Path, Any]:
    """Write the best trial of ``study_name`` as ``params/profile/hpo_<study>.yaml``; the path and the trial."""
    from graphqa.hpo.study import SETUP_ATTR, best_trial, load_existing_study

    study = load_existing_study(root, study_name)
    best = best_trial(study)
    setup = study.user_attrs.get(SETUP_ATTR) or {}
    base = list(setup.get("base_overrides") or [])
    config_dir = root / "params"
    name = profile_name(study_name)
    overlay = best_overlay(config_dir, base, dict(best.params))
    direction = "minimize" if study.direction.name == "MINIMIZE" else "maximize"
    text = profile_text(name, study=study_name, trial=best.number, objective=str(setup.get("objective", "value")),
                        direction=direction, value=float(best.value), base_overrides=base, overlay=overlay)
    return write_profile(config_dir, name, text), best
