"""Where inference runs: ``auto`` | ``cpu`` | ``cuda[:N]``."""

from __future__ import annotations


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: no CUDA device is available here (use cpu or auto)")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"--device {device!r}: expected auto, cpu or cuda")
    return device
