"""What this machine offers a graphqa run: versions, devices, and what ``auto`` resolves to.

``graphqa doctor`` prints it; the answers come from the same functions the
trainer uses (precision resolution, environment overrides), so what doctor
says is what a run would do. It also looks for a DVC repository state that
breaks every ``dvc`` command (see docs/ARCHITECTURE.md): an empty or damaged
``.dvc/tmp/rwlock``, left by a dvc process killed while it rewrote that file.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Always listed, "missing" when not installed.
REQUIRED = ("graphqa", "torch", "lightning", "torch_geometric", "dvc", "dvclive", "numpy")


@dataclass
class DeviceInfo:
    """One accelerator as torch sees it."""

    index: int
    name: str
    capability: str
    memory_gib: float
    bf16: bool
    tf32: bool


@dataclass
class DoctorReport:
    """Everything ``graphqa doctor`` shows."""

    python: str
    platform: str
    versions: dict[str, str | None]
    cpu_count: int
    cuda_available: bool
    cuda_build: str | None
    cudnn: int | None
    mps_available: bool
    devices: list[DeviceInfo] = field(default_factory=list)
    params_source: str = "defaults"
    accelerator: str = "cpu"
    precision_auto: str = "32-true"
    precision_requested: str = "auto"
    precision_resolved: str = "32-true"  # what a run here uses (after any hardware fallback)
    tf32_param: bool = False
    num_workers: int = 0  # requested (params + GRAPHQA_* overrides); the used values are in `hardware`
    pin_memory: bool = False
    hardware: dict[str, Any] = field(default_factory=dict)  # requested/used/fallbacks (training.hardware)
    env_overrides: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # things that will make commands fail, with the fix

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def package_versions() -> dict[str, str | None]:
    """Python and package versions as run manifests record them; required ones ``None`` when absent."""
    from graphqa.training.manifest import package_versions as manifest_versions

    versions: dict[str, str | None] = dict(manifest_versions())
    for name in REQUIRED:
        versions.setdefault(name, None)
    return versions


def cuda_devices() -> list[DeviceInfo]:
    """Every visible CUDA device with its capability, memory, bf16 and TF32 support."""
    import torch

    devices = []
    if not torch.cuda.is_available():
        return devices
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        major, minor = props.major, props.minor
        with torch.cuda.device(index):
            bf16 = bool(torch.cuda.is_bf16_supported())
        devices.append(DeviceInfo(index, props.name, f"{major}.{minor}", round(props.total_memory / 2**30, 1),
                                  bf16, tf32=major >= 8))  # TF32 tensor cores: Ampere (8.0) and later
    return devices


def dvc_lock_problems(start: Path | None = None) -> list[str]:
    """Problems with the DVC repository lock of the project containing ``start`` (default: cwd).

    DVC rewrites ``.dvc/tmp/rwlock`` in place (truncate, then write). A dvc process killed in between (for
    example at the end of the ``select`` stage) leaves it empty, and from then on every ``dvc status`` /
    ``repro`` / ``exp run`` fails with ``Unable to read RWLock-file '.dvc/tmp/rwlock'. JSON structure is
    corrupted``, until the file is deleted.
    """
    start = (start or Path.cwd()).resolve()
    repo = next((folder for folder in (start, *start.parents) if (folder / ".dvc").is_dir()), None)
    if repo is None:
        return []
    rwlock = repo / ".dvc" / "tmp" / "rwlock"
    if not rwlock.is_file():
        return []
    try:
        text = rwlock.read_text(encoding="utf-8")
        content = json.loads(text)
        damaged = "empty" if not text.strip() else (None if isinstance(content, dict) else "not a JSON object")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        damaged = "empty" if rwlock.stat().st_size == 0 else "not valid JSON"
    if damaged is None:
        return []
    return [
        f"{rwlock}: DVC's repository lock is {damaged} (a dvc process was killed while writing it), so every dvc "
        f"command fails with \"Unable to read RWLock-file\". To recover: check no dvc command is still running "
        f"(ps -ef | grep dvc), then delete the file: rm {rwlock} (dvc recreates it)"
    ]


def load_doctor_params(path: Path | None) -> tuple[Any, str]:
    """The params a run here would start from, and where they came from.

    ``path``, else ./params.yaml, else the defaults of the project's params/
    (as ``graphqa params compose`` writes them), else the built-in defaults.
    """
    from graphqa.compose import composed, find_config_dir
    from graphqa.config import PARAMS_FILE, Params, ParamsError, SweepParams, load_params, params_from_dict

    if path is not None:
        return load_params(path), str(path)
    if PARAMS_FILE.is_file():
        return load_params(PARAMS_FILE), str(PARAMS_FILE)
    try:
        config_dir = find_config_dir()
    except ParamsError:
        # Outside a project: the typed defaults (one baseline sweep member, so they validate).
        return Params(sweep=SweepParams(overlays={"baseline": {}})), "built-in defaults (no params.yaml or params/ here)"
    return params_from_dict(composed([], config_dir=config_dir)), f"defaults of {config_dir} (no params.yaml here)"


def diagnose(params_path: Path | None = None, environ: Mapping[str, str] | None = None) -> DoctorReport:
    """Collect the report. ``params_path`` defaults to ./params.yaml, else the built-in defaults."""
    import torch

    from graphqa.config import apply_env_overrides
    from graphqa.training.hardware import fit_to_machine, usable_cpus
    from graphqa.training.trainer import resolve_accelerator, resolve_precision

    params, source = load_doctor_params(params_path)
    params, applied = apply_env_overrides(params, environ)
    accelerator = resolve_accelerator(params.trainer.accelerator)
    hardware = fit_to_machine(params)  # the same answer a run here gets (docs/ARCHITECTURE.md, "Profiles")
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    mps = getattr(torch.backends, "mps", None)
    return DoctorReport(
        python=sys.version.split()[0],
        platform=platform.platform(),
        versions=package_versions(),
        cpu_count=usable_cpus(),
        cuda_available=torch.cuda.is_available(),
        cuda_build=torch.version.cuda,
        cudnn=cudnn,
        mps_available=bool(mps is not None and mps.is_available()),
        devices=cuda_devices(),
        params_source=source,
        accelerator=accelerator,
        precision_auto=resolve_precision("auto", accelerator),
        precision_requested=params.trainer.precision,
        precision_resolved=hardware.used["trainer.precision"],
        tf32_param=params.trainer.tf32,
        num_workers=params.runtime.num_workers,
        pin_memory=params.runtime.pin_memory,
        hardware=hardware.to_dict(),
        env_overrides=applied,
        problems=dvc_lock_problems() + ([hardware.refused] if hardware.refused else []),
    )
