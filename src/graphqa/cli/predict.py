"""``graphqa predict`` (score new graphs with an exported model) and ``graphqa score`` (metrics of a CSV)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from graphqa.config import EvaluateParams

# The evaluate section's defaults: one definition (graphqa.config), without importing numpy here.
DEFAULT_THRESHOLDS = EvaluateParams().hit_thresholds
DEFAULT_TOP_K = EvaluateParams().top_k
DEFAULT_RESAMPLES = EvaluateParams().bootstrap_resamples
DEFAULT_BOOTSTRAP_SEED = EvaluateParams().bootstrap_seed

ThresholdOption = Annotated[list[float] | None, typer.Option(
    "--threshold", help=f"DockQ hit threshold; repeat for several (default {', '.join(map(str, DEFAULT_THRESHOLDS))}).")]
TopKOption = Annotated[int, typer.Option("--top-k", min=1, help="Top-k models per target for hit counts.")]


# Short per-target headers so the table fits 80 columns.
_SHORT = {"n_models": "models", "ranking_loss": "rank\nloss", "best_true_dockq": "best\nDockQ",
          "top1_true_dockq": "top-1\nDockQ"}


def _fmt(key: str, value: Any) -> str:
    """Counts as integers, everything else with 4 decimals; ``nan`` spelled out."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if isinstance(value, float):
        return f"{value:.0f}" if key.startswith(("hits@", "n_")) else f"{value:.4f}"
    return str(value)


def _interval(report: Any, key: str) -> str:
    interval = report.uncertainty.get("intervals", {}).get(key)
    if not interval or interval["low"] is None or math.isnan(interval["low"]):
        return ""
    return f"{_fmt(key, float(interval['low']))} to {_fmt(key, float(interval['high']))}"


def reference_lines(report: Any) -> list[str]:
    """Where the model sits between chance and perfect: ranking loss and hit counts with the references."""
    refs = report.uncertainty.get("references")
    if not refs:
        return []
    loss, ci = report.pooled["ranking_loss"], _interval(report, "ranking_loss")
    thresholds = "/".join(f"{t:g}" for t in report.thresholds)
    return [
        f"ranking loss {_fmt('ranking_loss', loss)}" + (f" (95% CI {ci})" if ci else "")
        + f"; a random pick per target: {_fmt('ranking_loss', refs['random']['ranking_loss'])}, the oracle: 0",
        f"top-{report.top_k} hits at DockQ >= {thresholds}: {report.hits}; a random top-{report.top_k}: "
        f"{refs['random']['hits']}, the oracle: {refs['oracle']['hits']}",
        f"95% intervals: {report.uncertainty['bootstrap']['resamples']} bootstrap resamples of the targets "
        f"(seed {report.uncertainty['bootstrap']['seed']})",
    ]


def print_report(report: Any, per_target_limit: int = 50) -> None:
    """Pooled metrics (with 95% intervals), the references and the per-target table of a
    :class:`graphqa.evaluation.report.ScoreReport`."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    title = f"{report.source}: {report.n_models} models, {report.n_targets} targets"
    if report.n_unlabelled:
        title += f" ({report.n_unlabelled} unlabelled, not scored)"
    console.print(escape(title), soft_wrap=True)
    pooled = Table("metric (pooled)", "value", "95% CI")
    for key, value in report.pooled.items():
        pooled.add_row(key, _fmt(key, value), _interval(report, key))
    console.print(pooled)
    for line in reference_lines(report):
        console.print(escape(line), soft_wrap=True)
    rows = report.per_target
    if not rows:
        return
    thresholds = "/".join(f"{t:g}" for t in report.thresholds)
    table = Table(title=f"per target (hits: models with DockQ ≥ {thresholds} among the top {report.top_k})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    keys = [k for k in rows[0] if not k.startswith("hits@")]  # the counts are in "hits", TopoQA's a/b/c
    for key in keys:
        table.add_column(_SHORT.get(key, key), justify="left" if key == "target" else "right", no_wrap=True)
    for row in rows[:per_target_limit]:
        table.add_row(*(_fmt(k, row[k]) for k in keys))
    console.print(table)
    if len(rows) > per_target_limit:
        console.print(f"… {len(rows) - per_target_limit} more targets in the JSON output")


def check_output_path(path: Path, option: str) -> None:
    """Refuse, before any work, an output path that cannot be written: a directory, a file where a
    folder is needed, a read-only folder. Nothing is created here."""
    if path.is_dir():
        raise IsADirectoryError(f"{option} {path}: is a directory; expected the path of a file to write")
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"{option} {path}: {folder} is a file, so {path.parent} cannot be created")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{option} {path}: {folder} is not writable")


def predict_cmd(
    model: Annotated[Path, typer.Option("--model", "-m", help="Exported model dir (artifacts/model) or a .ckpt file.")],
    graphs: Annotated[Path, typer.Option("--graphs", "-g", help="Graph dir (<TARGET>/<MODEL>.pt or flat <MODEL>.pt) or one .pt file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions CSV to write.")],
    labels: Annotated[Path | None, typer.Option("--labels", "-l", help="Labels CSV (MODEL, dockq[, target]): adds TRUE_DOCKQ and metrics.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Graphs per forward pass.")] = 128,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    metrics_json: Annotated[Path | None, typer.Option("--metrics", help="Metrics JSON (with --labels; default: OUT with .metrics.json).")] = None,
    threshold: ThresholdOption = None,
    top_k: TopKOption = DEFAULT_TOP_K,
) -> None:
    """Score new graphs with an exported model: writes TARGET, MODEL, PRED_DOCKQ (and TRUE_DOCKQ with
    --labels) and RANK within target. Graphs whose schema differs from the model's are refused.
    Every input and output path is checked before the first graph is loaded.

    Example: graphqa predict --model artifacts/model --graphs new_graphs --out preds.csv --labels labels.csv
    """
    from graphqa.data.progress import progress_bar
    from graphqa.evaluation.report import prediction_csv
    from graphqa.inference.graphs import predict_graphs
    from graphqa.io import write_json, write_text

    if metrics_json is not None and labels is None:
        raise ValueError(f"--metrics {metrics_json}: metrics need true DockQ values; add --labels LABELS.csv")
    check_output_path(out, "--out")
    if labels is not None:
        check_output_path(metrics_json or out.with_suffix(".metrics.json"), "--metrics")
    result = predict_graphs(model, graphs, labels=labels, batch_size=batch_size, device=device,
                            thresholds=threshold or DEFAULT_THRESHOLDS, top_k=top_k, progress=progress_bar)
    write_text(out, prediction_csv(result.rows))
    typer.echo(f"wrote {out}: {len(result.rows)} models of {len(result.targets)} targets"
               + (f" ({len(result.skipped)} empty graph(s) skipped)" if result.skipped else ""))
    if result.report is not None:
        print_report(result.report)
        metrics_path = metrics_json or out.with_suffix(".metrics.json")
        write_json(metrics_path, result.report.to_dict())
        typer.echo(f"wrote {metrics_path}")


def score_cmd(
    predictions: Annotated[Path, typer.Option("--predictions", "-p", help="Predictions CSV (TARGET, MODEL, PRED_DOCKQ[, TRUE_DOCKQ]).")],
    labels: Annotated[Path | None, typer.Option("--labels", "-l", help="Labels CSV (MODEL, dockq[, target]) to join.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the metrics as JSON here.")] = None,
    threshold: ThresholdOption = None,
    top_k: TopKOption = DEFAULT_TOP_K,
    resamples: Annotated[int, typer.Option("--resamples", min=1, help="Bootstrap resamples of the targets for the 95% intervals.")] = DEFAULT_RESAMPLES,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed of the bootstrap resamples.")] = DEFAULT_BOOTSTRAP_SEED,
) -> None:
    """Metrics of a predictions file, pooled and per target: loss, MAE, Pearson, Spearman, per-target
    Spearman, ranking loss, top-k hits at DockQ thresholds (TopoQA's a/b/c counts), each headline figure
    with a 95% bootstrap interval over targets, beside what a random pick and a perfect ranking would get.
    Accepts graphqa's and TopoQA's layouts (`TARGET, MODEL, PRED_DOCKQ, TRUE_DOCKQ`, any case, spaces
    after commas).

    Example: graphqa score --predictions preds.csv --labels data/labels/test.csv --json metrics.json
    """
    from graphqa.evaluation.report import score_predictions
    from graphqa.io import write_json

    report = score_predictions(predictions, labels, threshold or DEFAULT_THRESHOLDS, top_k, resamples, seed)
    print_report(report)
    if json_out is not None:
        write_json(json_out, report.to_dict())
        typer.echo(f"wrote {json_out}")
