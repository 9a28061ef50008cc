"""``write_evaluation``: the headline keeps its point estimates first and adds intervals, references,
seed spread and paired differences (on the real packed demo test store; predictions are made up)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from graphqa.config import EvaluateParams, Params, SweepParams
from graphqa.data import PackedGraphStore
from graphqa.evaluation.candidates import Candidate, CandidateResult, write_evaluation
from graphqa.evaluation.metrics import compute_metrics

# The keys the headline had before intervals were added, in order: `dvc exp show` shows them first.
POINT_KEYS = ["final_candidate", "sweep_winner_val_selection", "final_val_selection", "test_loss", "test_mae",
              "test_pearson", "test_spearman", "test_per_target_spearman", "test_ranking_loss",
              "test_hit_rate@0.23", "test_hit_rate@0.49", "test_hit_rate@0.8"]


def result(name: str, pred: np.ndarray, store: PackedGraphStore, params: Params, val_selection: float) -> CandidateResult:
    metrics = compute_metrics(pred, store.y.numpy(), store.target_index.numpy(), params.evaluate.hit_thresholds,
                              params.evaluate.top_k)
    return CandidateResult(Candidate(name, (Path(f"{name}.ckpt"),)), metrics, metrics, val_selection, pred)


def test_headline_point_estimates_first_then_how_far_to_trust_them(packed_demo, tmp_path: Path) -> None:
    store = PackedGraphStore.open(packed_demo.packed_dir / "test")
    params = Params(sweep=SweepParams(overlays={"baseline": {}}), evaluate=EvaluateParams(bootstrap_resamples=300))
    true = store.y.numpy().astype(np.float64)
    rng = np.random.default_rng(0)
    results = [
        result("sweep_winner", true + rng.normal(scale=0.3, size=true.size), store, params, 0.5),
        result("phase2_seed1", true + rng.normal(scale=0.1, size=true.size), store, params, 0.2),
        result("phase2_seed2", true + rng.normal(scale=0.2, size=true.size), store, params, 0.3),
    ]
    baseline = result("untuned_baseline-222", np.full(true.size, 0.5), store, params, 0.9)  # constant: no ranking
    headline = write_evaluation(results, results[1], store, params, tmp_path, 0.5, baseline)

    text = (tmp_path / "headline.json").read_text()
    on_disk = json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} token in headline.json"))
    assert on_disk == headline and list(on_disk)[: len(POINT_KEYS)] == POINT_KEYS
    final = results[1].test_metrics
    assert headline["test_ranking_loss"] == final["ranking_loss"]
    assert headline["test_hits"] == "/".join(f"{final[f'hits@{t:g}']:.0f}" for t in (0.23, 0.49, 0.8))

    for key in ("test_ranking_loss", "test_per_target_spearman", "test_spearman", "test_pearson", "test_hits@0.23"):
        interval = headline["intervals"][key]
        assert interval["low"] <= headline[key] <= interval["high"], key
    random, oracle = headline["references"]["random"], headline["references"]["oracle"]
    assert oracle["test_ranking_loss"] == 0.0 and random["test_ranking_loss"] > headline["test_ranking_loss"]
    assert random["test_hits@0.23"] <= oracle["test_hits@0.23"]

    spread = headline["seed_spread"]
    values = [r.test_metrics["ranking_loss"] for r in results[1:]]
    assert spread["candidates"] == ["phase2_seed1", "phase2_seed2"]
    assert spread["test_ranking_loss"]["mean"] == pytest.approx(np.mean(values))
    assert spread["test_ranking_loss"]["sd"] == pytest.approx(abs(values[0] - values[1]) / math.sqrt(2))

    vs_winner = headline["paired"]["final_vs_sweep_winner"]
    assert (vs_winner["final"], vs_winner["other"]) == ("phase2_seed1", "sweep_winner")
    assert vs_winner["test_ranking_loss"]["difference"] == pytest.approx(
        final["ranking_loss"] - results[0].test_metrics["ranking_loss"])
    vs_untuned = headline["paired"]["final_vs_untuned_baseline"]["test_per_target_spearman"]
    # Constant predictions rank nothing (per-target Spearman 0): the final model is far better than that.
    assert vs_untuned["low"] > 0 and vs_untuned["within_noise"] is False

    counts = (tmp_path / "plots" / "hit_counts.csv").read_text().splitlines()
    assert counts[0] == "label,candidate,threshold,hits" and any(line.startswith("random DockQ>=0.23,") for line in counts)
    assert "untuned_baseline-222" in json.loads((tmp_path / "candidates.json").read_text())
