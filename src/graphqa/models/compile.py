"""``trainer.compile``: the network compiled with dynamic shapes, or eager (docs/ARCHITECTURE.md, "Compilation").

``compile_network(network, mode, planned_steps=...)`` compiles the network's
``forward`` in place with ``torch.compile(dynamic=True)`` (one graph serves
every batch size and graph size; parameters and ``state_dict`` keys are
untouched, so checkpoints of a compiled and an eager run are interchangeable).

* ``off``: eager.
* ``on``: compiled.
* ``auto``: compiled when the run is long enough to repay the compilation:
  ``planned_steps >= AUTO_MIN_STEPS`` on a CPU, where ``AUTO_MIN_STEPS`` is
  the compile time divided by the time one step saves, both measured by
  ``make bench`` (``train_step`` group, "compile" rows) and rounded up. Scoring
  a store (inference) passes its batch count as ``planned_steps``. Unknown
  device kinds other than CPU and CUDA stay eager.

Compilation happens lazily, at the first call. Where it fails (no C++
compiler for the CPU backend, an operator the backend lacks, ...) the network
falls back to eager for good with one warning; an input that eager execution
rejects too raises eager's own error, with no warning.

Compilation changes float rounding only (fused kernels sum in another order);
results match eager within float tolerance (tests/training/test_compile.py).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

COMPILE_MODES = ("off", "on", "auto")

# Break-even = compile time / time a compiled step saves, both measured by `make bench` ("Compiled training step";
# benchmarks/results/latest.md). Measured: 431 steps on quiet cores (11 s to compile, 26 ms saved per step at
# batch 32), 441 at load ~10 (86 s, 194 ms), ~2400 in one earlier run. 3000 stays on the side of not compiling
# short runs (ci_fast ~100 steps, a default sweep member on the demo ~750).
AUTO_MIN_STEPS = 3000


class CompileFallbackWarning(UserWarning):
    """Compilation failed; the network runs eagerly."""


def compile_decision(mode: str, *, planned_steps: int | None, device_type: str = "cpu") -> tuple[bool, str]:
    """``(compile?, why)`` for ``trainer.compile`` = ``mode`` (docs in the module string)."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"trainer.compile: expected one of {', '.join(COMPILE_MODES)}, got {mode!r}")
    if mode == "off":
        return False, "trainer.compile=off"
    if mode == "on":
        return True, "trainer.compile=on"
    if device_type not in ("cpu", "cuda"):
        return False, f"trainer.compile=auto: eager on {device_type}"
    if planned_steps is None:
        return False, "trainer.compile=auto: run length unknown, eager"
    if planned_steps >= AUTO_MIN_STEPS:
        return True, f"trainer.compile=auto: {planned_steps} planned steps >= {AUTO_MIN_STEPS} repay compilation"
    return False, f"trainer.compile=auto: {planned_steps} planned steps < {AUTO_MIN_STEPS}, compilation would not pay"


def is_compiled(network: Any) -> bool:
    """Whether ``network``'s forward is currently the compiled one."""
    return isinstance(network.__dict__.get("forward"), _GuardedForward) and not network.forward.failed


def compile_network(network: Any, mode: str = "on", *, planned_steps: int | None = None, device_type: str = "cpu",
                    backend: str | Callable[..., Any] = "inductor") -> bool:
    """Compile ``network.forward`` in place when ``mode`` says so; return whether it was compiled.

    Idempotent: a network compiled already is left as it is. ``backend`` is
    torch.compile's (tests pass a failing one to exercise the fallback).
    """
    wanted, why = compile_decision(mode, planned_steps=planned_steps, device_type=device_type)
    if is_compiled(network):
        return True
    if not wanted:
        log.info("network eager (%s)", why)
        return False
    import torch

    eager = network.forward  # the bound method of the class
    network.forward = _GuardedForward(eager, torch.compile(eager, dynamic=True, backend=backend), network)
    log.info("network compiled with dynamic shapes (%s)", why)
    return True


def uncompile_network(network: Any) -> None:
    """Back to the class's eager forward (a no-op on an eager network)."""
    network.__dict__.pop("forward", None)


class _GuardedForward:
    """The compiled forward; on a compilation failure, eager from then on, with one warning."""

    def __init__(self, eager: Callable[..., Any], compiled: Callable[..., Any], network: Any) -> None:
        self.eager, self.compiled, self.failed = eager, compiled, False
        self._network_name = type(network).__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.failed:
            return self.eager(*args, **kwargs)
        try:
            return self.compiled(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any backend failure; eager decides below whether the input is bad
            out = self.eager(*args, **kwargs)  # an input eager rejects too raises eager's own error here
            self.failed = True
            reason = " ".join(str(exc).split())[:300]  # dynamo's message names the backend and its own error
            warnings.warn(f"trainer.compile: compiling {self._network_name} failed ({type(exc).__name__}: {reason}); "
                          "running eagerly instead (set trainer.compile=off to skip the attempt)",
                          CompileFallbackWarning, stacklevel=2)
            return out

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # a deep copy of the network (EMA/SWA callbacks) gets the eager forward; compile it again if wanted
        return self.eager.__func__.__get__(memo.get(id(self.eager.__self__), self.eager.__self__))

    def __reduce__(self) -> Any:
        raise TypeError("a compiled network is not picklable; uncompile_network() first")
