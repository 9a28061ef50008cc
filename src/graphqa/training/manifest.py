"""``run_manifest.json``: everything needed to say what a run was and to reproduce it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from graphqa.config import Params
from graphqa.io import write_json
from graphqa.runs.run_dir import RunDir

log = logging.getLogger(__name__)

PACKAGES = ("graphqa", "torch", "lightning", "torch_geometric", "numpy", "dvc", "dvclive", "mlflow-skinny",
            "mlflow", "wandb")


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository containing ``cwd``."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=True)
            return out.stdout
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status.strip()) if status is not None else None}


def hash_files(root: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``root`` (sorted)."""
    root = Path(root)
    digest = hashlib.sha256()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(root) if path != root else path.name).encode())
        digest.update(b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """Python and the installed versions of the packages a run depends on."""
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def device_info(accelerator: str) -> dict[str, Any]:
    """What the run ran on: the resolved accelerator and, on CUDA, the GPU."""
    info: dict[str, Any] = {"accelerator": accelerator, "platform": platform.platform(),
                            "processor": platform.processor() or platform.machine()}
    if accelerator == "cuda" and torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), gpu_count=torch.cuda.device_count(),
                    cuda=torch.version.cuda, bf16_supported=torch.cuda.is_bf16_supported())
    return info


def build_manifest(
    params: Params,
    *,
    packed_dir: Path,
    schema_digest: str,
    precision: str,
    accelerator: str,
    env_overrides: Mapping[str, Any],
    world_size: int = 1,
    data_hash: str | None = None,
    hardware: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest dict (docs/ARCHITECTURE.md, "Run directories").

    Nothing wall-clock here (it is a DVC output: identical runs write identical bytes);
    when, from which git commit, how long and how fast go to the run's ``run_context.json``.
    ``hardware``: requested and used precision, TF32, workers and pinning and why any differs
    (:meth:`graphqa.training.hardware.HardwareFit.to_dict`); ``tf32`` is the used value.
    """
    return {
        "data_hash": data_hash if data_hash is not None else hash_files(packed_dir),
        "packed_dir": str(packed_dir),
        "schema_hash": schema_digest,
        "params_hash": params.result_digest(),
        "params": params.to_dict(),
        "seed": params.seed,
        "device": device_info(accelerator),
        "world_size": world_size,
        "precision": {"requested": params.trainer.precision, "resolved": precision},
        "tf32": (hardware or {}).get("used", {}).get("trainer.tf32", params.trainer.tf32),
        "hardware": dict(hardware) if hardware else None,
        "deterministic": params.trainer.deterministic,
        "packages": package_versions(),
        "env_overrides": dict(env_overrides),
        "command": sys.argv,
        **(dict(extra) if extra else {}),
    }


def write_manifest(run_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``<run_dir>/run_manifest.json`` atomically."""
    return write_json(RunDir(run_dir).manifest_file, dict(manifest))
