"""FeatureSchema and schema discovery on graph directories of any dims and layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphqa.data import DataError, FeatureSchema, SchemaMismatch
from graphqa.data.discover import discover, write_schema_outputs
from graphqa.data.schema import KNOWN_EDGE_COLUMNS, build_schema, parse_graph_metadata
from tests.data.builders import write_graph


def _schema(**changes) -> FeatureSchema:  # noqa: ANN003
    base = dict(node_dim=3, edge_dim=2, node_columns=["a", "b", "c"], edge_columns=["d", "h"],
                edge_module="edge/m/v1", edge_params={"cut": 10.0}, edge_feature_variant="v1")
    return FeatureSchema(**{**base, **changes})


def test_round_trip_and_digest(tmp_path: Path) -> None:
    schema = _schema(sources={"graphs": "g"}, sample_counts={"train": 5}, notes=["n"])
    path = schema.save(tmp_path / "feature_metadata.json")
    loaded = FeatureSchema.load(path)
    assert loaded == schema and FeatureSchema.load(tmp_path) == schema  # a directory works too
    assert loaded.to_dict()["node_schema"] == {"dim": 3, "columns": ["a", "b", "c"]}
    assert len(schema.digest()) == 16 and schema.digest() == loaded.digest()
    # The digest is the feature definition, not the dataset size or notes.
    assert _schema(sample_counts={"train": 999}, notes=["other"]).digest() == schema.digest()
    assert _schema(edge_params={"cut": 8.0}).digest() != schema.digest()


def test_generic_column_names_when_none_given() -> None:
    schema = FeatureSchema(node_dim=2, edge_dim=3)
    assert schema.node_columns == ["node_0", "node_1"] and schema.edge_columns == ["edge_0", "edge_1", "edge_2"]


def test_check_compatible_names_what_differs() -> None:
    _schema().check_compatible(_schema(sample_counts={"x": 1}))
    with pytest.raises(SchemaMismatch, match=r"node_dim 3 != 4.*edge_dim 2 != 5.*edge_module 'edge/m/v1' != 'edge/other/v2'"):
        _schema().check_compatible(FeatureSchema(node_dim=4, edge_dim=5, edge_module="edge/other/v2",
                                                 edge_feature_variant="v1", edge_params={"cut": 10.0}))
    with pytest.raises(SchemaMismatch, match=r"node column 1 'b' != 'B'"):
        _schema().check_compatible(_schema(node_columns=["a", "B", "c"]))
    assert issubclass(SchemaMismatch, DataError)


def test_hand_edited_schema_is_detected(tmp_path: Path) -> None:
    path = _schema().save(tmp_path / "f.json")
    data = json.loads(path.read_text())
    data["node_schema"]["columns"][0] = "zzz"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"f\.json: digest .* does not match"):
        FeatureSchema.load(path)
    path.write_text("{broken")
    with pytest.raises(DataError, match=r"f\.json: not valid JSON"):
        FeatureSchema.load(path)
    with pytest.raises(DataError, match=r"missing\.json: feature schema not found"):
        FeatureSchema.load(tmp_path / "missing.json")


def test_tensors_win_over_metadata_and_disagreement_is_noted() -> None:
    hint = parse_graph_metadata({
        "node_feature_dim": 170, "_edge_schema": {"dim": 11, "module": "edge/legacy_band/v11"},
        "T/M": {"edge_module": "edge/legacy_band/v11", "edge_params": {"distance_max": 10.0},
                "edge_metadata": {"feature_dim": 11, "edge_feature_variant": "legacy_v11"},
                "node_feature_columns": [f"c{i}" for i in range(170)]},
    }, "graph_metadata.json")
    schema = build_schema(172, 11, [hint])
    assert (schema.node_dim, schema.edge_dim) == (172, 11)
    assert schema.node_columns[0] == "node_0"  # 170 names for 172 columns: dropped
    assert schema.edge_columns == KNOWN_EDGE_COLUMNS["edge/legacy_band/v11"]
    assert schema.edge_feature_variant == "legacy_v11" and schema.edge_params == {"distance_max": 10.0}
    assert any("node feature dim 170 but the tensors have 172" in n for n in schema.notes)
    assert any("170 node column names for 172 node features" in n for n in schema.notes)


@pytest.mark.parametrize("layout", ["nested", "flat"])
@pytest.mark.parametrize("with_metadata", [True, False])
def test_discovery_with_other_dims_any_layout(build_dataset, layout: str, with_metadata: bool) -> None:  # noqa: ANN001
    metadata = {
        "_node_schema": {"dim": 64, "columns": [f"feat{i}" for i in range(64)]},
        "_edge_schema": {"dim": 24, "module": "edge/custom/v3", "columns": [f"e{i}" for i in range(24)]},
        "T00/T00_m0": {"edge_module": "edge/custom/v3", "edge_params": {"bins": 23},
                       "edge_metadata": {"feature_dim": 24, "edge_feature_variant": "custom24"}},
    } if with_metadata else None
    ds = build_dataset(layout=layout, node_dim=64, edge_dim=24, graph_metadata=metadata, as_data=layout == "nested")
    result = discover(ds.graphs, ds.labels, min_coverage=1.0)
    schema = result.schema
    assert (schema.node_dim, schema.edge_dim) == (64, 24)
    assert schema.sample_counts == {"train": 6, "val": 6, "test": 6}
    assert schema.sources["graph_files"] == 18 and schema.sources["dims_measured_from"] == "tensors"
    if with_metadata:
        assert schema.node_columns[:2] == ["feat0", "feat1"] and schema.edge_columns[-1] == "e23"
        assert (schema.edge_module, schema.edge_feature_variant, schema.edge_params) == ("edge/custom/v3", "custom24", {"bins": 23})
        assert schema.sources["graph_metadata"].endswith("graph_metadata.json")
    else:
        assert schema.node_columns[:2] == ["node_0", "node_1"] and schema.edge_columns[-1] == "edge_23"
        assert schema.edge_module is None and schema.sources["graph_metadata"] is None
    splits = result.coverage["splits"]
    assert {s: (e["labels"], e["graphs_found"], e["coverage"]) for s, e in splits.items()} == {
        "train": (6, 6, 1.0), "val": (6, 6, 1.0), "test": (6, 6, 1.0)}


def test_graph_own_metadata_is_used_without_graph_metadata_json(build_dataset) -> None:  # noqa: ANN001
    ds = build_dataset(node_dim=5, edge_dim=11)
    first = sorted(ds.files.values())[0]
    write_graph(first, node_dim=5, edge_dim=11, num_nodes=4, metadata={
        "edge_module": "edge/legacy_band/v11", "edge_params": {"distance_max": 10.0},
        "edge_info": {"feature_dim": 11, "edge_feature_variant": "legacy_v11"}})
    schema = discover(ds.graphs, ds.labels, min_coverage=1.0).schema
    assert schema.edge_module == "edge/legacy_band/v11" and schema.edge_feature_variant == "legacy_v11"
    assert schema.edge_columns[0] == "distance"


def test_inconsistent_dims_name_the_files(build_dataset, tmp_path: Path) -> None:  # noqa: ANN001
    ds = build_dataset(node_dim=64, edge_dim=24)
    odd = ds.files["T10_m1"]
    write_graph(odd, node_dim=63, edge_dim=24)
    with pytest.raises(DataError, match=r"graphs disagree on feature dims: 17 graph\(s\) with node dim 64 / edge dim 24 .*"
                                        r"1 graph\(s\) with node dim 63 / edge dim 24 \(e\.g\. .*T10_m1\.pt\)") as info:
        write_schema_outputs(ds.graphs, ds.labels, tmp_path / "out", min_coverage=0.5)
    assert info.value.kind == "dims"
    assert not (tmp_path / "out").exists()


def test_malformed_graph_metadata_json(build_dataset) -> None:  # noqa: ANN001
    ds = build_dataset()
    (ds.graphs / "graph_metadata.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match=r"graph_metadata\.json: not valid JSON"):
        discover(ds.graphs, ds.labels, min_coverage=1.0)


def test_no_graphs(tmp_path: Path) -> None:
    (tmp_path / "graphs").mkdir()
    with pytest.raises(DataError, match=r"graphs: no \.pt graph files found"):
        discover(tmp_path / "graphs", tmp_path / "labels", min_coverage=1.0)
    with pytest.raises(DataError, match=r"elsewhere: graph directory not found"):
        discover(tmp_path / "elsewhere", tmp_path / "labels", min_coverage=1.0)
