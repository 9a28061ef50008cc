"""Every training run's curves in one table: the data of the plots page's overlaid training charts.

DVCLive writes one TSV per metric per run (``dvclive/plots/metrics/**.tsv``, indexed by global
step); declared as plots they gave ~20 charts per run, titled by file path. The plots page
instead draws one chart per key metric with every run (sweep members, fine-tune phase 1,
each phase-2 seed) as a colour, from this table: one row per run and validation, with the
epoch as a whole number from 1 (docs/ARCHITECTURE.md, "Plots").
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from graphqa.runs.run_dir import RunDir

# column -> the DVCLive series it is read from (relative to dvclive/plots/metrics, without .tsv)
SERIES = {
    "train_loss": "train/loss_epoch",
    "val_loss": "val/loss",
    "val_spearman": "val/spearman",
    "val_ranking_loss": "val/ranking_loss",
    "val_selection": "val/selection",
    "lr": "lr",
}
COLUMNS = ("run", "stage", "epoch", *SERIES)


def _read_series(tsv: Path) -> dict[int, float]:
    """step -> value of one DVCLive history (the last row of a step wins); empty when absent."""
    if not tsv.is_file():
        return {}
    with tsv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        column = tsv.stem
        return {int(float(row["step"])): float(row[column]) for row in reader if row.get(column) not in (None, "")}


def _at_or_before(series: Mapping[int, float], step: int) -> float:
    """The value logged last at or before ``step`` (step-wise series such as the learning rate)."""
    earlier = [s for s in series if s <= step]
    return series[max(earlier)] if earlier else math.nan


def run_curves(run_dir: Path, run: str, stage: str) -> list[dict[str, object]]:
    """One row per validation of ``run_dir``: its epoch (from 1) and the SERIES at that step."""
    history = RunDir(run_dir).dvclive_history
    series = {column: _read_series(history / f"{name}.tsv") for column, name in SERIES.items()}
    epochs = _read_series(history / "epoch.tsv")
    rows = []
    for index, step in enumerate(sorted(series["val_loss"])):
        epoch = int(epochs[step]) + 1 if step in epochs else index + 1
        row: dict[str, object] = {"run": run, "stage": stage, "epoch": epoch}
        for column, values in series.items():
            value = _at_or_before(values, step) if column == "lr" else values.get(step, math.nan)
            row[column] = "" if math.isnan(value) else value
        rows.append(row)
    return rows


def pipeline_runs(sweep: Path, phase1: Path, phase2: Path, members: Iterable[str],
                  phase2_seeds: Iterable[int]) -> list[tuple[Path, str, str]]:
    """(run dir, run label, stage) of the pipeline's runs, in pipeline order: sweep members, phase 1, phase-2 seeds."""
    runs = [(Path(sweep) / m, f"sweep {m}", "sweep") for m in members]
    runs.append((Path(phase1), "phase1", "finetune_phase1"))
    runs += [(Path(phase2) / str(s), f"phase2 seed {s}", "finetune_phase2") for s in phase2_seeds]
    return runs


def training_curves_csv(runs: Iterable[tuple[Path, str, str]]) -> str:
    """The CSV text of every run's curves (the header alone when no run logged a validation)."""
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for run_dir, run, stage in runs:
        writer.writerows(run_curves(run_dir, run, stage))
    return out.getvalue()
