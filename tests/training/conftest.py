"""Fixtures for training tests: params composed from the real params/, a demo set big enough to learn on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from graphqa.compose import composed
from graphqa.config import Params, params_from_dict

CONFIG_DIR = Path(__file__).resolve().parents[2] / "params"


@pytest.fixture(scope="session")
def make_params() -> Callable[..., Params]:
    """``make_params("ci_fast", "trainer.max_epochs=3")``: profiles then Hydra overrides, validated."""

    def make(*items: str) -> Params:
        profiles: Sequence[str] = [i for i in items if "=" not in i]
        overrides = [i for i in items if "=" in i]
        raw = composed(profiles, overrides, config_dir=CONFIG_DIR)
        raw["runtime"]["progress_bar"] = False
        return params_from_dict(raw)

    return make


@pytest.fixture(scope="session")
def learning_demo(tmp_path_factory: pytest.TempPathFactory):
    """12 targets x 24 decoys (train 192, val 48 graphs over 2 targets), schema + packed: enough to learn on.

    ``packed_demo`` (the shared fixture) has a single validation target of 16
    graphs, too few for a learning-signal check.
    """
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.pack import pack_dataset
    from graphqa.data.schema import FEATURE_METADATA
    from graphqa.demo.generate import generate_demo

    root = tmp_path_factory.mktemp("learning_demo")
    generate_demo(root / "data", targets=12, decoys=24, seed=7, workers=1)
    write_schema_outputs(root / "data" / "graphs", root / "data" / "labels", root / "schema", min_coverage=0.95)
    pack_dataset(root / "schema" / FEATURE_METADATA, root / "packed")

    class Demo:
        schema_path = root / "schema" / FEATURE_METADATA
        packed_dir = root / "packed"

    return Demo


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: the graphs are tiny, and on a busy 2-core runner two spinning
    OpenMP threads per process make every step an order of magnitude slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
