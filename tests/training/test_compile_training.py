"""trainer.compile=on through the real training path: Lightning trains the compiled network, its checkpoints are an
eager network's, and scoring the compiled network matches scoring the eager one within float tolerance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from graphqa.data import PackedGraphStore
from graphqa.inference.checkpoint import load_network
from graphqa.inference.predictor import predict_store
from graphqa.models import build_model
from graphqa.models.compile import CompileFallbackWarning
from graphqa.training.run import train_run


@pytest.mark.slow
def test_a_compiled_run_trains_and_its_checkpoint_scores_like_eager(packed_demo, make_params, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHQA_NUM_WORKERS", "0")
    params = make_params("ci_fast", "trainer.compile=on", "trainer.max_epochs=1", "trainer.limit_train_batches=3",
                         "trainer.limit_val_batches=2")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)  # a silent fallback would make this test vacuous
        summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / "run")
    assert summary["status"] == "completed"

    network, _, saved = load_network(tmp_path / "run" / "checkpoints" / "best.ckpt")
    assert saved.trainer.compile == "on"
    eager = build_model(saved.model.arch, network.node_dim, network.edge_dim, saved.model)
    assert list(network.state_dict()) == list(eager.state_dict())  # no compile wrapper in the weights' names
    eager.load_state_dict(network.state_dict())

    store = PackedGraphStore.open(packed_demo.packed_dir / "val")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)
        compiled_scores = predict_store(network, store, batch_size=16, compile="on")
    eager_scores = predict_store(eager, store, batch_size=16, compile="off")
    np.testing.assert_allclose(compiled_scores, eager_scores, rtol=1e-5, atol=1e-6)
