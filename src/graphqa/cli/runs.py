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
    hardware = snapshot.get("hardware") or {}
    if hardware.get("used"):
        used, requested = hardware["used"], hardware["requested"]
        fallbacks = "; ".join(f"{key} {requested[key]} → {used[key]} ({why})"
                              for key, why in hardware.get("fallbacks", {}).items())
        head.add_row("precision used", f"[bold]{escape(str(used['trainer.precision']))}[/bold]"
                     + (f"  [yellow]fallback: {escape(fallbacks)}[/yellow]" if fallbacks else ""))
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
    shown = ("status", *KEY_PARAMS, "fallback")  # precision: what each run used; fallback: what it lacked
    varying = [c for c in shown if len({repr(row.get(c)) for row in rows}) > 1]
    same = "  ".join(f"{c}={_fmt(rows[0].get(c))}" for c in shown if c not in varying and rows[0].get(c) != "")
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
        table.add_row(str(row["rank"]), escape(name), *(escape(_fmt(row.get(c))) for c in columns))
    console.print(table)


def summarise_cmd(run_dir: Annotated[Path, typer.Argument(help="A run directory, e.g. runs/sweep/baseline-222.")]) -> None:
    """JSON with a run's best scores, checkpoint, precision, key params and the resolved feature schema
    (from its best checkpoint, else its manifest).

    Example: graphqa summarise runs/sweep/baseline-222 > summary.json
    """
    from graphqa.runs.inspect import summarise_run

    typer.echo(json.dumps(summarise_run(run_dir), indent=2, default=str))


def _watched_places(run_dir: Path, exp: str | None) -> tuple[list[tuple[str, Path]], list[Any]]:
    """Where ``run_dir`` is: ``(where, path)`` for this workspace and each experiment DVC runs in its own
    copy (``--temp``, the queue) that has it; and the experiments running in a copy without it yet."""
    from graphqa.compat.dvc import experiment_copies, find_dvc_root

    places: list[tuple[str, Path]] = [("workspace", run_dir)] if run_dir.is_dir() else []
    waiting: list[Any] = []
    repo = find_dvc_root()
    if repo is not None:
        try:
            relative = run_dir.resolve().relative_to(repo)
        except ValueError:  # outside the repository: no experiment copy can hold it
            relative = None
        for copy in experiment_copies(repo) if relative is not None else []:
            if copy.active and (copy.root / relative).is_dir():
                places.append((f"experiment {copy.name}", copy.root / relative))
            elif copy.active:
                waiting.append(copy)
    if exp is not None:
        places = [(w, p) for w, p in places if w in (exp, f"experiment {exp}")]
        waiting = [c for c in waiting if c.name == exp]
    return places, waiting


def _pick_place(run_dir: Path, exp: str | None, console: Any) -> tuple[str, Path] | None:
    """The one place to watch: an active one first; ``None`` if there is none yet; exits if several."""
    from graphqa.runs.inspect import monitor_snapshot

    places, _ = _watched_places(run_dir, exp)
    active = [(w, p) for w, p in places if monitor_snapshot(p)["state"] in ACTIVE_STATES]
    if len(active) > 1:
        console.print(f"{run_dir} is being trained in {len(active)} places: "
                      + "; ".join(f"{w} ({p})" for w, p in active), soft_wrap=True)
        names = [w.removeprefix("experiment ") for w, _ in active]
        console.print(f"choose one with --exp NAME (one of: {', '.join(names)})")
        raise typer.Exit(2)
    return (active or places or [None])[0]


def monitor_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory, e.g. runs/sweep/baseline-222.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep refreshing until the run ends (or Ctrl-C).")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between refreshes with --follow.")] = 5.0,
    exp: Annotated[str | None, typer.Option("--exp", help="Watch this experiment's copy of the run "
                                            "(`dvc exp run --queue`/`--temp`; `workspace` for this one).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0, help="With --follow: seconds to wait for the run to "
                                           "start anywhere before giving up (0: wait until Ctrl-C).")] = 600.0,
) -> None:
    """The current best checkpoint of a run, its path, the params that produced it and the latest
    DVCLive metrics; with --follow, refreshed while the run trains. Ctrl-C stops watching.

    Runs of `dvc exp run --queue`/`--temp` train in DVC's copies (.dvc/tmp/exps/): found there too.

    Example: graphqa monitor runs/sweep/baseline-222 --follow --interval 2
    """
    from rich.console import Console
    from rich.live import Live
    from rich.markup import escape

    from graphqa.runs.inspect import monitor_snapshot

    console = Console()
    place = _pick_place(run_dir, exp, console)
    if not follow:
        if place is None:
            raise FileNotFoundError(f"{run_dir}: run directory not found in this workspace or in a running "
                                    "experiment (use --follow to wait for it)")
        if place[0] != "workspace":
            console.print(f"{escape(run_dir.as_posix())} in {escape(place[0])}: {escape(str(place[1]))}",
                          soft_wrap=True)
        console.print(render_snapshot(monitor_snapshot(place[1])))
        return
    try:
        place = place or _wait_for_run(run_dir, exp, interval, timeout, console)
        where, path = place
        cache: dict[Path, tuple[float, dict[str, Any]]] = {}
        snapshot = monitor_snapshot(path, cache)
        if snapshot["state"] not in ACTIVE_STATES:  # already over: nothing to follow
            console.print(render_snapshot(snapshot))
            console.print(f"run {snapshot['state']}")
            return
        console.print(f"following {escape(run_dir.as_posix())} in {escape(where)}"
                      + (f" ({escape(str(path))})" if where != "workspace" else "")
                      + f" every {interval:g}s until the run ends (Ctrl-C stops watching)", soft_wrap=True)
        with Live(render_snapshot(snapshot), console=console, refresh_per_second=4) as live:
            while snapshot["state"] in ACTIVE_STATES:
                time.sleep(interval)
                if where != "workspace" and not path.is_dir():  # DVC removed the copy: the experiment ended
                    break
                snapshot = monitor_snapshot(path, cache)
                live.update(render_snapshot(snapshot))
    except KeyboardInterrupt:
        console.print("\nstopped watching (the run itself is not affected)")
        return
    if where != "workspace" and not path.is_dir():
        name = where.removeprefix("experiment ")
        console.print(f"\n{escape(where)} ended and DVC removed its copy: `dvc exp show` has its results, "
                      f"`dvc exp apply {escape(name)}` brings its outputs here", soft_wrap=True)
        return
    console.print(f"\nrun {snapshot['state']}")


def _wait_for_run(run_dir: Path, exp: str | None, interval: float, timeout: float, console: Any) -> tuple[str, Path]:
    """Wait until ``run_dir`` appears here or in an experiment's copy, saying what is awaited; exit 1 at timeout."""
    from rich.markup import escape

    _, waiting = _watched_places(run_dir, exp)
    running = f" (running now: {', '.join(c.name for c in waiting)})" if waiting else ""
    console.print(f"waiting for {escape(run_dir.as_posix())}"
                  + (f" in experiment {escape(exp)}" if exp else "")
                  + f": not in this workspace, and no experiment DVC runs in .dvc/tmp/exps has it yet{running}. "
                  f"Queued experiments start with `dvc queue start`; `dvc queue status` lists them. "
                  + (f"Giving up after {timeout:g}s" if timeout else "Ctrl-C stops waiting"), soft_wrap=True)
    deadline = time.monotonic() + timeout
    while True:
        place = _pick_place(run_dir, exp, console)
        if place is not None:
            return place
        if timeout and time.monotonic() >= deadline:
            console.print(f"{escape(run_dir.as_posix())} did not appear within {timeout:g}s; check the path "
                          "(`graphqa leaderboard` lists the runs here) and `dvc queue status`", soft_wrap=True)
            raise typer.Exit(1)
        time.sleep(min(interval, max(0.1, deadline - time.monotonic())) if timeout else interval)
