"""``graphqa leaderboard | summarise RUN_DIR | monitor RUN_DIR``: read run dirs, never a live process.

The readings are :mod:`graphqa.runs`'; this module renders them.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

ACTIVE_STATES = ("training", "not started")


# --------------------------------------------------------------------------- rendering


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if abs(value) >= 1e4 or 0 < abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def render_snapshot(snapshot: dict[str, Any]) -> Any:
    """A rich renderable of :func:`monitor_snapshot`."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    head = Table(box=None, show_header=False, title=escape(f"{snapshot['run_dir']}  [{snapshot['state']}]"),
                 title_justify="left")
    head.add_column(no_wrap=True)
    head.add_column(overflow="fold")
    best = snapshot["best"]
    if best is None:
        head.add_row("best checkpoint", "none yet (no validation has finished)")
    else:
        head.add_row("best checkpoint", f"[bold]{escape(best['path'])}[/bold]")
        head.add_row("epoch", str(best["epoch"]))
        head.add_row("selection score", _fmt(best["score"]))
        head.add_row("val loss", _fmt(best["val_loss"]))
        head.add_row("val spearman", _fmt(best["val_spearman"]))
        head.add_row("params", "  ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items()))
    head.add_row("kept checkpoints", str(snapshot["checkpoints"]))
    parts: list[Any] = [head]
    latest = _flatten(snapshot["latest"])
    if latest:
        table = Table("latest metric", "value", box=None)
        for key in sorted(latest):
            value = latest[key]
            counts = "hits@" in key and isinstance(value, float) and value.is_integer()
            table.add_row(key, str(int(value)) if counts else _fmt(value))
        parts.append(table)
    return Group(*parts)


# --------------------------------------------------------------------------- commands


def leaderboard_cmd(
    runs: Annotated[Path, typer.Option("--runs", help="Folder searched (recursively) for run dirs.")] = Path("runs"),
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Show only the best N runs (0: all).")] = 0,
) -> None:
    """Every run under runs/ (any folder with a summary.json), ranked by selection score
    (lower is better), with its key params.

    Example: graphqa leaderboard --runs runs/sweep --limit 5
    """
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from graphqa.runs.leaderboard import KEY_PARAMS, RunRecord, leaderboard_rows, rank_runs
    from graphqa.runs.run_dir import SUMMARY_FILE, find_run_dirs

    dirs = find_run_dirs(runs)
    console = Console()
    if not dirs:
        console.print(f"no runs under {runs} (no {SUMMARY_FILE} found)")
        return
    records = rank_runs(RunRecord.from_run_dir(d) for d in dirs)[: limit or None]
    rows = leaderboard_rows(records)
    # Status and key params that differ between the runs get a column; the rest go into the caption.
    varying = [c for c in ("status", *KEY_PARAMS) if len({repr(row[c]) for row in rows}) > 1]
    same = "  ".join(f"{c}={_fmt(rows[0][c])}" for c in ("status", *KEY_PARAMS) if c not in varying)
    table = Table(title=f"{len(dirs)} run(s) under {escape(str(runs))}, best first (lower selection score is better)",
                  title_justify="left", caption=f"all shown runs: {same}" if same else None, caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    headers = {"selection_score": "selection\nscore", "val_loss": "val\nloss", "val_spearman": "val\nspearman",
               "best_epoch": "best\nepoch"}
    columns = [*headers, *varying]
    names = [r.name if r.run_dir == runs else r.run_dir.relative_to(runs).as_posix() for r in records]
    table.add_column("#", justify="right")
    table.add_column("run", overflow="fold", min_width=min(40, max(len(n) for n in names)))
    for column in columns:
        table.add_column(headers.get(column, column), justify="left" if column == "status" else "right")
    for name, row in zip(names, rows, strict=True):
        table.add_row(str(row["rank"]), escape(name), *(_fmt(row[c]) for c in columns))
    console.print(table)


def summarise_cmd(run_dir: Annotated[Path, typer.Argument(help="A run directory, e.g. runs/sweep/baseline-222.")]) -> None:
    """JSON with a run's best scores, checkpoint, precision, key params and the resolved feature schema
    (from its best checkpoint, else its manifest).

    Example: graphqa summarise runs/sweep/baseline-222 > summary.json
    """
    from graphqa.runs.inspect import summarise_run

    typer.echo(json.dumps(summarise_run(run_dir), indent=2, default=str))


def monitor_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory, e.g. runs/sweep/baseline-222.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep refreshing until the run ends (or Ctrl-C).")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between refreshes with --follow.")] = 5.0,
) -> None:
    """The current best checkpoint of a run, its path, the params that produced it and the latest
    DVCLive metrics; with --follow, refreshed while the run trains. Ctrl-C stops watching.

    Example: graphqa monitor runs/sweep/baseline-222 --follow --interval 2
    """
    from rich.console import Console
    from rich.live import Live
    from rich.markup import escape

    from graphqa.runs.inspect import monitor_snapshot

    console = Console()
    if not follow:
        if not run_dir.is_dir():
            raise FileNotFoundError(f"{run_dir}: run directory not found (use --follow to wait for it)")
        console.print(render_snapshot(monitor_snapshot(run_dir)))
        return
    cache: dict[Path, tuple[float, dict[str, Any]]] = {}
    snapshot = monitor_snapshot(run_dir, cache)
    if snapshot["state"] not in ACTIVE_STATES:  # already over: nothing to follow
        console.print(render_snapshot(snapshot))
        console.print(f"run {snapshot['state']}")
        return
    console.print(f"following {escape(str(run_dir))} every {interval:g}s until the run ends (Ctrl-C stops watching)",
                  soft_wrap=True)
    try:
        with Live(render_snapshot(snapshot), console=console, refresh_per_second=4) as live:
            while snapshot["state"] in ACTIVE_STATES:
                time.sleep(interval)
                snapshot = monitor_snapshot(run_dir, cache)
                live.update(render_snapshot(snapshot))
    except KeyboardInterrupt:
        console.print("\nstopped watching (the run itself is not affected)")
        return
    console.print(f"\nrun {snapshot['state']}")
