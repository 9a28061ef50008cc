"""Compose params.yaml from params/ exactly as ``dvc exp run -S`` does.

DVC's Hydra integration calls ``dvc.utils.hydra.compose_and_dump``; calling the
same function with the same overrides writes the same bytes, so ``dvc repro``
in CI can run any profile.

``dvc exp run -S KEY=VALUE`` recomposes params.yaml from params/ with only
its own overrides, which would silently drop a profile chosen earlier with
``graphqa params compose --profile NAME``. So that command also saves the
choice in ``params/compose/saved.yaml``, an optional entry of
``params/config.yaml``'s defaults list: every later composition, DVC's
included, starts from the saved profiles; ``-S profile=...`` replaces them
(an override on the command line wins); ``graphqa params compose`` without
``--profile`` removes the file (docs/ARCHITECTURE.md, "Profiles").
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
SAVED_CHOICE = Path("compose") / "saved.yaml"  # in CONFIG_DIR: the `optional compose: saved` defaults entry
DEFAULT_PROFILE = "default"


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


def saved_choice_path(config_dir: Path | None = None) -> Path:
    """Where :func:`save_profile_choice` keeps the profiles a later ``dvc exp run -S`` starts from."""
    return (config_dir or find_config_dir()) / SAVED_CHOICE


def saved_profiles(config_dir: Path | None = None) -> list[str]:
    """The profiles saved by ``graphqa params compose --profile`` (empty: none saved, the default)."""
    path = saved_choice_path(config_dir)
    if not path.is_file():
        return []
    try:
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("defaults") or []
        [choice] = [entry["override /profile"] for entry in entries]
    except (yaml.YAMLError, AttributeError, TypeError, KeyError, ValueError) as exc:
        raise ParamsError(f"{path}: expected `defaults: [{{override /profile: [NAME, ...]}}]` as "
                          f"`graphqa params compose --profile NAME` writes it ({exc}); rewrite it with that "
                          "command, or delete it to compose from the defaults") from None
    return [str(name) for name in (choice if isinstance(choice, list) else [choice])]


def check_saved_choice(config_dir: Path | None = None, search_from_cwd: bool = False) -> None:
    """Refuse a saved choice naming a profile that no longer exists, naming the file (Hydra's own error
    names only the profile). Run by ``hydra_plugins/graphqa_params`` before DVC composes; with
    ``search_from_cwd`` and no params/ above the working directory there is nothing to check."""
    if config_dir is None:
        try:
            config_dir = find_config_dir()
        except ParamsError:
            if search_from_cwd:
                return
            raise
    known = {p.name for p in list_profiles(config_dir)}
    missing = [name for name in saved_profiles(config_dir) if name not in known]
    if missing:
        path = saved_choice_path(config_dir)
        raise ParamsError(f"{path}: saved profile {missing[0]!r} not found in {config_dir / 'profile'}; choose again "
                          "with `graphqa params compose --profile NAME`, or delete the file to compose from the defaults")


def save_profile_choice(profiles: Sequence[str], config_dir: Path | None = None) -> Path | None:
    """Save ``profiles`` as the choice later compositions start from; ``None`` (and no file) for the default."""
    path = saved_choice_path(config_dir)
    if not profiles or list(profiles) == [DEFAULT_PROFILE]:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
        return None
    text = (
        "# @package _global_\n"
        f"# Written by `graphqa params compose --profile {' --profile '.join(profiles)}`; params/config.yaml's\n"
        "# defaults list reads it: `dvc exp run -S KEY=VALUE` composes params.yaml with these profiles,\n"
        "# `-S profile=NAME` replaces them. `graphqa params compose` without --profile removes this file.\n"
        "defaults:\n"
        f"  - override /profile: [{', '.join(profiles)}]\n"
    )
    with atomic_path(path, suffix=".yaml") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _names_profile(override: str) -> bool:
    """Whether a Hydra override chooses the profile group (``profile=…``, ``+profile=…``, ``~profile``)."""
    return override.lstrip("+~").split("=", 1)[0].strip() == "profile"


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
    composition leaves the old file untouched. The profiles are exactly
    ``profiles`` (none: the default), whatever :func:`save_profile_choice` saved.
    """
    from graphqa.compat.dvc import compose_and_dump

    config_dir = (config_dir or find_config_dir()).resolve()
    _check_profiles(profiles, config_dir)
    output = Path(output)
    with atomic_path(output, suffix=".yaml") as tmp:  # DVC picks its dumper by suffix
        try:
            chosen = profile_overrides(profiles) or (
                [] if any(map(_names_profile, overrides)) else [f"profile={DEFAULT_PROFILE}"])
            compose_and_dump(tmp, config_dir, CONFIG_NAME, [*chosen, *overrides])
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
