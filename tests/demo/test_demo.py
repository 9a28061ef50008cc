"""The demo dataset: DockQ maths, builder format, split by target, real signal, byte-identical re-runs."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from graphqa.data import capri_class, load_graph
from graphqa.demo.complexes import TIERS, make_decoy, make_target, random_rotation
from graphqa.demo.defaults import DEFAULT_DECOYS, DEFAULT_SEED, DEFAULT_TARGETS, DEFAULT_TEST_DECOYS
from graphqa.demo.dockq import DockQReference, dockq_score, kabsch, superposed_rmsd
from graphqa.demo.generate import (
    DIFFICULTY_SHARES,
    generate_demo,
    split_targets,
    target_difficulties,
    target_names,
    tier_schedule,
)
from graphqa.demo.interface_features import EDGE_COLUMNS, NODE_COLUMNS


def test_dockq_formula_by_hand() -> None:
    assert dockq_score(1.0, 0.0, 0.0) == pytest.approx(1.0)
    assert dockq_score(0.0, 1.5, 8.5) == pytest.approx(1 / 3)  # each RMS term is 1/2 at its scale
    assert dockq_score(0.5, 3.0, 17.0) == pytest.approx((0.5 + 0.2 + 0.2) / 3)


def test_kabsch_recovers_a_rotation() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20, 3)) * 5
    rotation = random_rotation(rng)
    moved = points @ rotation.T + np.array([1.0, -2.0, 3.0])
    r, t = kabsch(points, moved)
    assert np.allclose(r, rotation, atol=1e-8) and np.allclose(points @ r.T + t, moved, atol=1e-8)
    assert superposed_rmsd(moved, points) == pytest.approx(0.0, abs=1e-8)


def test_dockq_of_native_and_of_a_displaced_ligand() -> None:
    target = make_target("1ABC", np.random.default_rng(3))
    rec, lig = target.receptor, target.ligand
    ref = DockQReference.from_native(rec.atoms, rec.mask, lig.atoms, lig.mask)
    assert ref.contacts.sum() > 10 and len(ref.interface_receptor) > 5
    native = ref.score(rec.atoms, rec.mask, lig.atoms, lig.mask)
    assert (native.fnat, native.dockq, native.capri) == (1.0, pytest.approx(1.0), "High")
    assert native.irms == pytest.approx(0.0, abs=1e-6) and native.lrms == pytest.approx(0.0, abs=1e-6)
    away = np.where(lig.mask[..., None], lig.atoms + np.array([40.0, 0.0, 0.0]), 0.0)
    far = ref.score(rec.atoms, rec.mask, away, lig.mask)
    assert far.fnat == 0.0 and far.lrms == pytest.approx(40.0, rel=1e-6)
    assert far.dockq == pytest.approx(dockq_score(0.0, far.irms, 40.0)) and far.capri == "Incorrect"


def test_decoy_tiers_spread_quality() -> None:
    rng = np.random.default_rng(11)
    target = make_target("2XYZ", rng)
    ref = DockQReference.from_native(target.receptor.atoms, target.receptor.mask, target.ligand.atoms, target.ligand.mask)
    means = {}
    for tier in TIERS:
        decoys = [make_decoy(target, tier, rng) for _ in range(6)]
        scores = [ref.score(rec.atoms, rec.mask, lig.atoms, lig.mask).dockq for rec, lig in decoys]
        means[tier] = float(np.mean(scores))
    assert means["near_native"] > means["close"] > means["nearby"] > means["misdocked"] > means["wrong_site"]
    assert means["near_native"] > 0.8 and means["wrong_site"] < 0.23


def test_split_and_schedule_helpers() -> None:
    names = target_names(12, 5)
    assert len(set(names)) == 12 and all("_" not in n and len(n) == 4 for n in names)
    assert names == target_names(12, 5) and names != target_names(12, 6)
    splits = split_targets(names, 5)
    assert sorted(t for ts in splits.values() for t in ts) == sorted(names)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [8, 2, 2]
    # Easy pool of 13: shares .1 .15 .25 .2 .3 give 1.3 1.95 3.25 2.6 3.9; the three largest remainders round up.
    schedule = tier_schedule(13, "easy", np.random.default_rng(0))
    assert len(schedule) == 13 and {t: schedule.count(t) for t in TIERS} == {
        "near_native": 1, "close": 2, "nearby": 3, "misdocked": 3, "wrong_site": 4}
    assert set(tier_schedule(13, "failed", np.random.default_rng(0))) == {"wrong_site"}


def test_default_demo_has_enough_test_targets_of_every_difficulty() -> None:
    """90 targets: 75 train/val targets of 13 decoys, 15 test targets of 40; each split holds the same mix."""
    splits = split_targets(target_names(DEFAULT_TARGETS, DEFAULT_SEED), DEFAULT_SEED)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [60, 15, 15]
    assert 75 * DEFAULT_DECOYS + 15 * DEFAULT_TEST_DECOYS == 1575
    difficulty = target_difficulties(splits, DEFAULT_SEED)
    # 15 targets at shares .25 .3 .25 .2: 3.75 4.5 3.75 3 -> 3 4 3 3, the two largest remainders (.75) round up.
    for split in ("val", "test"):
        counts = {d: sum(difficulty[t] == d for t in splits[split]) for d in DIFFICULTY_SHARES}
        assert counts == {"easy": 4, "medium": 4, "hard": 4, "failed": 3}, split


def _labels(data_dir: Path) -> dict[str, list[dict[str, str]]]:
    return {s: list(csv.DictReader((data_dir / "labels" / f"{s}.csv").open())) for s in ("train", "val", "test")}


def test_demo_layout_labels_and_metadata(demo_dir: Path) -> None:
    labels = _labels(demo_dir)
    assert [len(labels[s]) for s in ("train", "val", "test")] == [96, 16, 16]
    assert list(labels["train"][0]) == ["MODEL", "dockq", "capri"]
    targets_by_split = {s: {r["MODEL"].split("_")[0] for r in rows} for s, rows in labels.items()}
    assert not (targets_by_split["train"] & targets_by_split["val"]) and not (targets_by_split["val"] & targets_by_split["test"])
    assert not (targets_by_split["train"] & targets_by_split["test"]), "split by target"
    for rows in labels.values():
        for row in rows:
            assert capri_class(float(row["dockq"])) == row["capri"]
            assert (demo_dir / "graphs" / row["MODEL"].split("_")[0] / f"{row['MODEL']}.pt").is_file()
    every = [float(r["dockq"]) for rows in labels.values() for r in rows]
    assert {capri_class(q) for q in every} == {"Incorrect", "Acceptable", "Medium", "High"}
    best = defaultdict(float)
    for rows in labels.values():
        for r in rows:
            best[r["MODEL"].split("_")[0]] = max(best[r["MODEL"].split("_")[0]], float(r["dockq"]))
    # Difficulty shows in the best decoys: a failed target has nothing acceptable, an easy one a near-native pose.
    difficulty = json.loads((demo_dir / "demo.json").read_text())["difficulty"]
    assert sorted(difficulty.values()) == ["easy", "easy", "failed", "hard", "medium", "medium", "medium", "medium"]
    assert all(best[t] < 0.23 for t, d in difficulty.items() if d == "failed")
    assert all(best[t] >= 0.49 for t, d in difficulty.items() if d in ("easy", "medium"))
    assert 0 < sum(q >= 0.80 for q in best.values()) < 8, "not every target has a high-quality decoy"

    meta = json.loads((demo_dir / "graphs" / "graph_metadata.json").read_text())
    entry = meta[f"{labels['val'][0]['MODEL'].split('_')[0]}/{labels['val'][0]['MODEL']}"]
    assert entry["edge_module"] == "edge/legacy_band/v11" and entry["node_feature_columns"] == NODE_COLUMNS
    assert entry["edge_metadata"]["feature_dim"] == 11 and entry["edge_metadata"]["edge_feature_variant"] == "legacy_v11"
    assert meta["_node_schema"] == {"dim": 172, "columns": NODE_COLUMNS}
    assert meta["_edge_schema"]["columns"] == EDGE_COLUMNS and meta["edge_feature_dim"] == 11
    assert sum(1 for k in meta if not k.startswith("_") and "/" in k) == 128


def test_demo_graphs_in_builder_format(demo_dir: Path) -> None:
    from torch_geometric.data.data import Data, DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    first = sorted((demo_dir / "graphs").rglob("*.pt"))[0]
    with torch.serialization.safe_globals([Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]):
        data = torch.load(first, weights_only=True)
    assert isinstance(data, Data) and set(data.metadata) >= {"edge_module", "edge_params", "edge_info"}
    for path in sorted((demo_dir / "graphs").rglob("*.pt"))[::9]:
        g = load_graph(path)
        assert g.node_dim == 172 and g.edge_dim == 11 and g.num_nodes >= 2 and g.num_edges >= 2
        assert float(g.x.min()) >= 0.0 and float(g.x.max()) <= 1.0
        assert float(g.edge_attr.min()) == 0.0 and float(g.edge_attr.max()) == 1.0  # min-max per graph
        for block in (slice(3, 11), slice(11, 32)):  # SS8 and AA one-hots
            assert torch.equal(g.x[:, block].sum(1), torch.ones(g.num_nodes))
        pairs = set(map(tuple, g.edge_index.t().tolist()))
        assert pairs == {(b, a) for a, b in pairs}, "both directions"
        assert g.edge_index[0].tolist() == sorted(g.edge_index[0].tolist())


def test_features_carry_signal_about_dockq(demo_dir: Path) -> None:
    """A ridge regression on mean-pooled features, fit on train, predicts val+test DockQ."""
    def pooled(split: str) -> tuple[np.ndarray, np.ndarray]:
        rows = _labels(demo_dir)[split]
        feats = []
        for r in rows:
            g = load_graph(demo_dir / "graphs" / r["MODEL"].split("_")[0] / f"{r['MODEL']}.pt")
            feats.append(np.concatenate([g.x.mean(0).numpy(), g.edge_attr.mean(0).numpy()]))
        return np.array(feats), np.array([float(r["dockq"]) for r in rows])

    x_train, y_train = pooled("train")
    x_eval, y_eval = (np.concatenate(parts) for parts in zip(pooled("val"), pooled("test"), strict=True))
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6

    def design(x: np.ndarray) -> np.ndarray:
        return np.c_[(x - mu) / sd, np.ones(len(x))]

    a = design(x_train)
    w = np.linalg.solve(a.T @ a + 30 * np.eye(a.shape[1]), a.T @ y_train)
    assert np.corrcoef(design(x_eval) @ w, y_eval)[0, 1] > 0.3


def _tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", targets=3, decoys=4, seed=9, workers=1)
    generate_demo(tmp_path / "b", targets=3, decoys=4, seed=9, workers=2)
    first = _tree_digest(tmp_path / "a")
    assert len(first) == 12 + 1 + 3 + 1 and first == _tree_digest(tmp_path / "b")
    generate_demo(tmp_path / "a", targets=3, decoys=4, seed=9, workers=1)  # over an existing dataset
    assert _tree_digest(tmp_path / "a") == first
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["demo.json", "graphs", "labels"]
    generate_demo(tmp_path / "c", targets=3, decoys=4, seed=10, workers=1)
    assert _tree_digest(tmp_path / "c")["labels/train.csv"] != first["labels/train.csv"]


def test_test_targets_get_their_own_pool_size(tmp_path: Path) -> None:
    """``test_decoys`` grows only the test targets' pools; train and val stay at ``decoys``."""
    summary = generate_demo(tmp_path, targets=3, decoys=4, test_decoys=7, seed=9, workers=1)
    assert summary.stats["graphs_per_split"] == {"train": 4, "val": 4, "test": 7} and summary.graphs == 15
    test_target = summary.splits["test"][0]
    assert len(list((tmp_path / "graphs" / test_target).glob("*.pt"))) == 7
    with pytest.raises(ValueError, match="test: 3"):
        generate_demo(tmp_path / "x", targets=3, decoys=4, test_decoys=3, seed=9, workers=1)
