"""``model.arch`` → network: the registry is the one place networks are built."""

from __future__ import annotations

import pytest
import torch

from graphqa.config import ModelParams, ParamsError
from graphqa.models import ARCHS, build_model
from tests.models.test_gatv2_edge import random_batch


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_every_arch_builds_and_scores_one_value_per_graph(arch: str) -> None:
    network = build_model(arch, 7, 3, ModelParams(arch=arch)).eval()
    with torch.no_grad():
        out = network(random_batch([5, 3, 4]))
    assert out.shape == (3,) and torch.isfinite(out).all()


def test_unknown_arch_is_refused_naming_the_key() -> None:
    with pytest.raises(ParamsError, match=r"model\.arch.*gatv2_edge"):
        ModelParams(arch="transformer")
    with pytest.raises(ValueError, match=r"model\.arch: unknown network 'transformer'"):
        build_model("transformer", 7, 3, ModelParams())
