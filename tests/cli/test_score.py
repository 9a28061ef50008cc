"""``graphqa score``: the §5 metric set from a predictions file, in graphqa's and TopoQA's layouts."""

from __future__ import annotations

import json

import pytest

# Two targets, numbers worked out by hand:
#   T1: pred .8 .3 .5 / true .9 .1 .6 -> top-1 is the best model (ranking loss 0), Spearman +1
#   T2: pred .2 .4    / true .7 .2    -> top-1 has .2, best .7 (ranking loss .5), Spearman -1
#   pooled: MSE (.01+.04+.01+.25+.04)/5 = .07; MAE 1.1/5 = .22;
#           ranks pred 5 2 4 1 3, true 5 1 3 4 2 -> sum d^2 = 12 -> Spearman 1 - 72/120 = .4
#   hits (top 10): >= .23: T1 2 + T2 1 = 3; >= .8: T1 1 -> hit rate 1/2
TOPOQA_CSV = """TARGET, MODEL, PRED_DOCKQ, TRUE_DOCKQ
T1, T1_a, 0.8, 0.9
T1, T1_b, 0.3, 0.1
T1, T1_c, 0.5, 0.6
T2, T2_a, 0.2, 0.7
T2, T2_b, 0.4, 0.2
"""
EXPECTED = {"loss": 0.07, "mae": 0.22, "spearman": 0.4, "per_target_spearman": 0.0, "ranking_loss": 0.25,
            "hits@0.23": 3.0, "hit_rate@0.23": 1.0, "hits@0.8": 1.0, "hit_rate@0.8": 0.5}


def check_hand_worked(metrics: dict) -> None:
    for key, value in EXPECTED.items():
        assert metrics["pooled"][key] == pytest.approx(value), key
    per_target = {row["target"]: row for row in metrics["per_target"]}
    assert per_target["T1"]["spearman"] == pytest.approx(1.0) and per_target["T1"]["ranking_loss"] == pytest.approx(0)
    assert per_target["T2"]["spearman"] == pytest.approx(-1.0) and per_target["T2"]["ranking_loss"] == pytest.approx(0.5)
    assert per_target["T2"]["top1_true_dockq"] == pytest.approx(0.2)


def test_topoqa_layout_with_spaces_after_commas(cli, tmp_path):
    preds = tmp_path / "result.csv"
    preds.write_text(TOPOQA_CSV)
    out = tmp_path / "metrics.json"
    result = cli("score", "--predictions", preds, "--json", out)
    assert result.exit_code == 0, result.output
    check_hand_worked(json.loads(out.read_text()))
    assert "ranking_loss" in result.stdout and "0.2500" in result.stdout  # the rich table
    assert "5 models, 2 targets" in result.stdout


def test_lower_case_headers_and_a_labels_file_joined_by_model(cli, tmp_path):
    """TopoQA's per-target result.csv (model, pred) + a labels file with a target column."""
    preds = tmp_path / "result.csv"
    preds.write_text("model,pred_dockq\n" + "".join(
        f"{m},{p}\n" for m, p in [("T1_a", 0.8), ("T1_b", 0.3), ("T1_c", 0.5), ("T2_a", 0.2), ("T2_b", 0.4)]))
    labels = tmp_path / "labels.csv"
    labels.write_text("MODEL,dockq,capri,target\nT1_a,0.9,High,T1\nT1_b,0.1,Incorrect,T1\nT1_c,0.6,Medium,T1\n"
                      "T2_a,0.7,Medium,T2\nT2_b,0.2,Incorrect,T2\nT3_z,0.5,Medium,T3\n")
    out = tmp_path / "m.json"
    result = cli("score", "-p", preds, "--labels", labels, "--json", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    check_hand_worked(metrics)
    assert metrics["n_models"] == 5 and metrics["n_targets"] == 2


def test_scoring_predict_output_matches_the_metric_functions(trained, cli, tmp_path):
    """Score a real `graphqa predict` file; the numbers are compute_metrics on the same columns."""
    import csv

    import numpy as np

    from graphqa.evaluation.metrics import compute_metrics

    preds = tmp_path / "preds.csv"
    assert cli("predict", "-m", trained.model_dir, "-g", trained.test_graphs, "-o", preds).exit_code == 0
    out = tmp_path / "m.json"
    result = cli("score", "--predictions", preds, "--labels", trained.test_labels, "--json", out,
                 "--threshold", "0.23", "--threshold", "0.8", "--top-k", "5")
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())

    rows = list(csv.DictReader(preds.open()))
    truth = {r["MODEL"]: float(r["dockq"]) for r in csv.DictReader(trained.test_labels.open())}
    targets = sorted({r["TARGET"] for r in rows})
    expected = compute_metrics(np.array([float(r["PRED_DOCKQ"]) for r in rows]),
                               np.array([truth[r["MODEL"]] for r in rows]),
                               np.array([targets.index(r["TARGET"]) for r in rows]), thresholds=[0.23, 0.8], top_k=5)
    assert set(metrics["pooled"]) == set(expected)
    for key, value in expected.items():
        assert metrics["pooled"][key] == pytest.approx(value, nan_ok=True), key
    assert metrics["top_k"] == 5 and metrics["thresholds"] == [0.23, 0.8]


def test_a_file_without_the_needed_columns_is_named_with_what_is_missing(cli, tmp_path):
    preds = tmp_path / "preds.csv"
    preds.write_text("target,decoy_id,quality\nT1,a,0.5\n")
    result = cli("score", "--predictions", preds)
    assert result.exit_code == 2
    assert f"error: {preds}: missing column(s) MODEL, PRED_DOCKQ; found target, decoy_id, quality" in result.stderr


def test_no_truth_column_and_no_labels_says_what_to_pass(cli, tmp_path):
    preds = tmp_path / "preds.csv"
    preds.write_text("MODEL,PRED_DOCKQ\nT1_a,0.5\n")
    result = cli("score", "--predictions", preds)
    assert result.exit_code == 2
    assert f"{preds}: no TRUE_DOCKQ column" in result.stderr and "--labels" in result.stderr


def test_a_value_that_is_not_a_number_names_the_line(cli, tmp_path):
    preds = tmp_path / "preds.csv"
    preds.write_text("MODEL,PRED_DOCKQ,TRUE_DOCKQ\nT1_a,0.5,0.4\nT1_b,high,0.3\n")
    result = cli("score", "--predictions", preds)
    assert result.exit_code == 2
    assert f"{preds}: line 3: PRED_DOCKQ 'high' is not a number" in result.stderr


def test_missing_predictions_file(cli, tmp_path):
    result = cli("score", "--predictions", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "nope.csv: predictions file not found" in result.stderr


def test_ranking_loss_is_printed_with_its_interval_and_the_random_pick(cli, tmp_path):
    """Random pick by hand: T1 0.9 - mean(.9, .1, .6) = 0.3667, T2 0.7 - 0.45 = 0.25 -> 0.3083."""
    preds = tmp_path / "result.csv"
    preds.write_text(TOPOQA_CSV)
    out = tmp_path / "metrics.json"
    result = cli("score", "--predictions", preds, "--json", out, "--resamples", "200", "--seed", "3")
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    check_hand_worked(metrics)  # the point estimates do not move
    low, high = metrics["intervals"]["ranking_loss"]["low"], metrics["intervals"]["ranking_loss"]["high"]
    # Two targets with losses 0 and 0.5: every resample's mean is 0, 0.25 or 0.5.
    assert low == pytest.approx(0.0) and high == pytest.approx(0.5)
    assert metrics["references"]["random"]["ranking_loss"] == pytest.approx((0.9 - 1.6 / 3 + 0.7 - 0.45) / 2)
    assert metrics["references"]["oracle"]["ranking_loss"] == 0.0
    assert [row["hits"] for row in metrics["per_target"]] == ["2/2/1", "1/1/0"]  # TopoQA's a/b/c, per target
    assert metrics["hits"] == "3/3/1" and metrics["bootstrap"] == {"resamples": 200, "seed": 3, "level": 0.95,
                                                                   "over": "targets"}
    text = " ".join(result.stdout.split())
    assert "ranking loss 0.2500 (95% CI 0.0000 to 0.5000); a random pick per target: 0.3083, the oracle: 0" in text
    assert "top-10 hits at DockQ >= 0.23/0.49/0.8: 3/3/1" in text
    assert "NaN" not in out.read_text()


# Bad predictions files graphqa score refuses (docs/RELIABILITY.md): content, and the message after the path.
REFUSED = {
    # No TARGET column and names without '_': each model would be its own target, ranking loss 0.
    "no-targets": (b"MODEL,PRED_DOCKQ,TRUE_DOCKQ\nmodelA,0.5,0.4\nmodelB,0.2,0.9\nmodelC,0.7,0.1\n",
                   ": no targets: without a TARGET column a model's target is its name before the first '_'"),
    "dockq-0-to-100": (b"TARGET,MODEL,PRED_DOCKQ,TRUE_DOCKQ\nT1,a,0.5,45.0\nT1,b,0.2,12.5\n",
                       ": line 2: TRUE_DOCKQ is 45.0; expected a DockQ in [0, 1]"),
    "latin-1": ("TARGET,MODEL,PRED_DOCKQ,TRUE_DOCKQ\nT1,a,0.5,0.4\nT1,modèle,0.2,0.3\n".encode("latin-1"),
                ": line 3: not UTF-8 text (byte 0xe8); save the file as UTF-8"),
    "duplicated-column": (b"TARGET,MODEL,PRED_DOCKQ,dockq,DockQ\nT1,a,0.5,0.4,0.9\nT1,b,0.2,0.3,0.1\n",
                          ": column 'dockq' appears 2 times in the header; which one holds TRUE_DOCKQ is ambiguous"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_predictions_files_are_refused_naming_file_and_line(cli, tmp_path, case):
    content, message = REFUSED[case]
    preds = tmp_path / "preds.csv"
    preds.write_bytes(content)
    result = cli("score", "--predictions", preds)
    assert result.exit_code == 2
    assert f"error: {preds}{message}" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
