"""runtime.cpu_threads sets torch's intra-op threads for CPU training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphqa.compose import composed
from graphqa.config import params_from_dict
from graphqa.training.trainer import build_trainer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("threads", "expected"), [(1, 1), (0, None)])
def test_cpu_training_uses_the_configured_threads(tmp_path: Path, threads: int, expected: int | None) -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        params = params_from_dict(composed(["cpu"], [f"runtime.cpu_threads={threads}"], config_dir=ROOT / "params"))
        build_trainer(params, tmp_path / "run")
        assert torch.get_num_threads() == (expected if expected is not None else 2)
    finally:
        torch.set_num_threads(before)
