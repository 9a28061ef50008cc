"""Compose params.yaml from params/ exactly as ``dvc exp run -S`` does.

DVC's Hydra integration calls ``dvc.utils.hydra.compose_and_dump``; calling the
same function with the same overrides writes the same bytes, so ``dvc repro``
in CI can run any profile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from graphqa.config import ParamsError, params_from_dict, read_params_yaml
from graphqa.io import atomic_path

log = logging.getLogger(__name__)

CONFIG_DIR = Path("params")
CONFIG_NAME = "config"


@dataclass(frozen=True)
class Profile:
    name: str
    purpose: str
    path: Path


def find_config_dir(start: Path | None = None) -> Path:
    """The ``params/`` folder of the project containing ``start`` (default: cwd)."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_DIR / f"{CONFIG_NAME}.yaml").is_file():
            return folder / CONFIG_DIR
    raise ParamsError(f"{CONFIG_DIR / (CONFIG_NAME + '.yaml')}: not found in {start} or its parents")


def list_profiles(config_dir: Path | None = None) -> list[Profile]:
    """Every profile overlay with the one-line purpose from its header comment."""
    folder = (config_dir or find_config_dir()) / "profile"
    profiles = []
    for path in sorted(folder.glob("*.yaml")):
        comments = [line[1:].strip() for line in path.read_text().splitlines() if line.startswith("#")]
        purpose = next((c for c in comments if not c.startswith("@package")), "")
        profiles.append(Profile(path.stem, purpose, path))
    return profiles


def profile_overrides(profiles: Sequence[str]) -> list[str]:
    """The override DVC receives for ``-S profile=...`` (stacked: ``profile=[a,b]``)."""
    if not profiles:
        return []
    if len(profiles) == 1:
        return [f"profile={profiles[0]}"]
    return [f"profile=[{','.join(profiles)}]"]


def _check_profiles(profiles: Sequence[str], config_dir: Path) -> None:
    known = [p.name for p in list_profiles(config_dir)]
    for name in profiles:
        if name not in known:
            raise ParamsError(f"profile {name!r} not found in {config_dir / 'profile'}; available: {', '.join(known)}")


def compose(
    profiles: Sequence[str] = (),
    overrides: Sequence[str] = (),
    output: Path | str = "params.yaml",
    config_dir: Path | None = None,
) -> Path:
    """Write ``output`` as the composition of params/ with profiles and ``KEY=VALUE`` overrides.

    The result is validated before it replaces ``output``; an invalid
    composition leaves the old file untouched.
    """
    from graphqa.compat.dvc import compose_and_dump

    config_dir = (config_dir or find_config_dir()).resolve()
    _check_profiles(profiles, config_dir)
    output = Path(output)
    with atomic_path(output, suffix=".yaml") as tmp:  # DVC picks its dumper by suffix
        try:
            compose_and_dump(tmp, config_dir, CONFIG_NAME, [*profile_overrides(profiles), *overrides])
        except Exception as exc:  # Hydra's errors are precise; keep their text
            raise ParamsError(f"composing {config_dir}: {exc}") from exc
        params_from_dict(read_params_yaml(tmp.read_text(encoding="utf-8"), str(output)) or {})
    return output


def composed(profiles: Sequence[str] = (), overrides: Sequence[str] = (),
             config_dir: Path | None = None) -> dict[str, Any]:
    """The composition as a dict, without touching params.yaml."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = compose(profiles, overrides, Path(tmp) / "params.yaml", config_dir)
        return yaml.safe_load(out.read_text())


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists stay values)."""
    if not isinstance(tree, dict) or not tree:
        return {prefix: tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def profile_changes(name: str, config_dir: Path | None = None) -> list[tuple[str, Any, Any]]:
    """``(key, default value, profile value)`` for each key the profile changes."""
    base = flatten(composed((), (), config_dir))
    new = flatten(composed((name,), (), config_dir))
    keys = [k for k in new if not k.startswith("profiles.") and base.get(k, "<absent>") != new[k]]
    return [(k, base.get(k, "<absent>"), new[k]) for k in keys]
