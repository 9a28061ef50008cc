"""Structures -> graphs -> schema -> pack -> train (ci_fast), all through the real code paths."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from .conftest import REPO, needs_structures_extra

needs_structures_extra()


@pytest.mark.slow
def test_structures_to_trained_model(built, tmp_path):
    from graphqa.compose import composed
    from graphqa.config import params_from_dict
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.pack import pack_dataset
    from graphqa.data.schema import FEATURE_METADATA, FeatureSchema
    from graphqa.training.run import train_run

    data, _ = built
    schema_dir = tmp_path / "schema"
    write_schema_outputs(data / "graphs", data / "labels", schema_dir, min_coverage=0.95)
    schema = FeatureSchema.load(schema_dir / FEATURE_METADATA)
    assert (schema.node_dim, schema.edge_dim) == (172, 11)
    assert schema.node_columns[0] == "res_A" and schema.edge_columns[-1] == "hist_10_inf"
    assert schema.edge_module == "edge/topoqa_spec/v1"
    pack_dataset(schema_dir / FEATURE_METADATA, tmp_path / "packed")
    raw = composed(["ci_fast"], ["data.batch_size=2"], config_dir=REPO / "params")
    summary = train_run(params_from_dict(raw), tmp_path / "packed", schema_dir / FEATURE_METADATA, tmp_path / "run")
    assert (tmp_path / "run" / "checkpoints" / "best.ckpt").is_file()
    assert summary["status"] == "completed" and summary["error"] is None
    assert math.isfinite(summary["best"]["val_loss"]), summary["best"]
    assert Path(tmp_path / "run" / "summary.json").is_file()
