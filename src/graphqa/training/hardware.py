"""What a run asks of the machine against what the machine has: the values a run really uses.

One mechanism for every hardware-dependent setting (docs/ARCHITECTURE.md,
"Profiles"): a profile may ask for what this machine lacks (bf16/fp16 mixed
precision or TF32 without a CUDA GPU, pinned memory without an accelerator,
data-loader workers without an accelerator or beyond the usable CPUs).
:func:`fit_to_machine` says what fits instead and why; the run warns once, in one line
(:meth:`HardwareFit.warning`), uses the fitted values and records requested
and used values in its manifest. ``graphqa doctor`` shows the same answer.

``trainer.hardware_fallback: false`` (the ``bf16_strict`` profile) turns a
precision or TF32 mismatch into an error instead: a run meant for bit-stable
bf16 comparisons must not quietly train in fp32. Workers and pinning never
change results, so they always fall back.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from graphqa.config import Params

LEGACY_PRECISION = {"32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed", "64": "64-true"}
CUDA_ACCELERATORS = ("gpu", "cuda")


class HardwareUnavailable(RuntimeError):
    """The run asked for hardware this machine lacks and ``trainer.hardware_fallback`` is false."""


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def device_kind(accelerator: str, *, cuda_available: bool | None = None) -> str:
    """The device kind ``trainer.accelerator`` means here: ``cuda``, ``cpu``, ``mps`` or ``tpu``."""
    import torch

    cuda = torch.cuda.is_available() if cuda_available is None else cuda_available
    if accelerator == "auto":
        if cuda:
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    return "cuda" if accelerator in CUDA_ACCELERATORS else accelerator


@dataclass(frozen=True)
class Machine:
    """The parts of this machine a run's settings depend on."""

    device: str  # cuda | cpu | mps | tpu (the accelerator param resolved)
    cuda_bf16: bool = False  # the CUDA GPU computes in bf16 (Ampere or newer)
    cuda_tf32: bool = False  # the CUDA GPU has TF32 tensor cores (compute capability >= 8.0)
    cpus: int = 1

    @classmethod
    def detect(cls, accelerator: str = "auto") -> Machine:
        import torch

        device = device_kind(accelerator)
        bf16 = tf32 = False
        if device == "cuda" and torch.cuda.is_available():
            bf16 = bool(torch.cuda.is_bf16_supported())
            tf32 = torch.cuda.get_device_capability(0)[0] >= 8
        return cls(device=device, cuda_bf16=bf16, cuda_tf32=tf32, cpus=usable_cpus())

    def describe(self) -> str:
        gpu = "CUDA GPU" + ("" if self.cuda_bf16 else " without bf16") if self.device == "cuda" else "no CUDA GPU"
        return f"{self.device}, {gpu}, {self.cpus} usable CPU{'s' if self.cpus != 1 else ''}"


def fit_precision(precision: str, machine: Machine) -> tuple[str, str | None]:
    """The Lightning precision ``trainer.precision`` runs at on ``machine``, and why it differs (or None).

    ``auto``: ``bf16-mixed`` on CUDA with bf16, ``16-mixed`` on other CUDA,
    ``32-true`` elsewhere (that is a choice, not a fallback). Legacy spellings
    (``32``, ``16``, ``bf16``) are normalised. Mixed precision off CUDA falls
    back to ``32-true``: fp16 AMP cannot run there, and bf16 autocast on a CPU
    trains several times more slowly than fp32 (README, "Logs and hardware fallbacks";
    ``benchmarks/precision_fallback.py``).
    """
    precision = LEGACY_PRECISION.get(precision, precision)
    if precision == "auto":
        if machine.device != "cuda":
            return "32-true", None
        return ("bf16-mixed" if machine.cuda_bf16 else "16-mixed"), None
    if precision in ("16-mixed", "bf16-mixed") and machine.device != "cuda":
        return "32-true", f"needs a CUDA GPU; this run is on {machine.device}"
    if precision == "bf16-mixed" and not machine.cuda_bf16:
        return "16-mixed", "this GPU has no bf16 (needs Ampere or newer)"
    return precision, None


@dataclass(frozen=True)
class HardwareFit:
    """Requested and used values of the hardware-dependent settings, and why each used one differs."""

    machine: Machine
    requested: dict[str, Any]
    used: dict[str, Any]
    reasons: dict[str, str] = field(default_factory=dict)  # dotted key -> why the used value differs
    refused: str | None = None  # why the run must not start (trainer.hardware_fallback false and a mismatch)

    @property
    def fell_back(self) -> bool:
        return bool(self.reasons)

    def warning(self) -> str | None:
        """The one line a run logs when anything fell back (None when everything fits)."""
        if not self.reasons:
            return None
        changes = "; ".join(f"{key} {_show(self.requested[key])} → {_show(self.used[key])} ({why})"
                            for key, why in self.reasons.items())
        return f"hardware fallback on this machine ({self.machine.describe()}): {changes}"

    def require(self) -> HardwareFit:
        """``self``, or :class:`HardwareUnavailable` when falling back is not allowed."""
        if self.refused:
            raise HardwareUnavailable(self.refused)
        return self

    def apply_runtime(self, params: Params) -> Params:
        """``params`` with the used runtime knobs (workers, pinning); they never change results or digests."""
        runtime = dataclasses.replace(params.runtime, num_workers=self.used["runtime.num_workers"],
                                      pin_memory=self.used["runtime.pin_memory"])
        return dataclasses.replace(params, runtime=runtime)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``hardware`` block."""
        return {"requested": dict(self.requested), "used": dict(self.used), "fallbacks": dict(self.reasons),
                "refused": self.refused, "machine": dataclasses.asdict(self.machine)}


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def fit_to_machine(params: Params, machine: Machine | None = None) -> HardwareFit:
    """What ``params`` gets on ``machine`` (default: this one). Pure apart from detecting the machine; logs nothing.

    When precision or TF32 would fall back and ``trainer.hardware_fallback`` is
    false, ``refused`` says why and :meth:`HardwareFit.require` raises.
    """
    t, runtime = params.trainer, params.runtime
    machine = machine or Machine.detect(t.accelerator)
    requested = {"trainer.precision": t.precision, "trainer.tf32": t.tf32,
                 "runtime.pin_memory": runtime.pin_memory, "runtime.num_workers": runtime.num_workers}
    used = dict(requested)
    reasons: dict[str, str] = {}

    used["trainer.precision"], why = fit_precision(t.precision, machine)
    if why:
        reasons["trainer.precision"] = why
    if t.tf32 and not (machine.device == "cuda" and machine.cuda_tf32):
        used["trainer.tf32"] = False
        reasons["trainer.tf32"] = ("this GPU has no TF32 (needs Ampere or newer)" if machine.device == "cuda"
                                   else "TF32 is a CUDA GPU feature")
    strict = {key: why for key, why in reasons.items() if key.startswith("trainer.")}
    refused = None
    if strict and not t.hardware_fallback:
        changes = "; ".join(f"{key}={_show(requested[key])} {why}" for key, why in strict.items())
        refused = (f"params.yaml: {changes} (machine: {machine.describe()}), and trainer.hardware_fallback is false "
                   "(bf16_strict: no quiet fp32); run it on such a GPU, or drop that profile or set "
                   "trainer.hardware_fallback=true to train with what this machine has")
    if runtime.pin_memory and machine.device != "cuda":
        used["runtime.pin_memory"] = False
        reasons["runtime.pin_memory"] = "pinned memory only speeds up copies to a GPU"
    # Workers overlap batch loading with accelerator compute. Without an accelerator they only take cores
    # from training: the packed store assembles a batch in well under a millisecond in the training process,
    # and 2 workers make an epoch of batches 11-25x slower than 0 (benchmarks/results/latest.md, "Data path").
    if runtime.num_workers and machine.device == "cpu":
        used["runtime.num_workers"] = 0
        reasons["runtime.num_workers"] = "no accelerator to overlap loading with; workers only take cores from training"
    elif runtime.num_workers > machine.cpus:
        used["runtime.num_workers"] = machine.cpus
        reasons["runtime.num_workers"] = f"{machine.cpus} usable CPU{'s' if machine.cpus != 1 else ''}"
    return HardwareFit(machine, requested, used, reasons, refused)
