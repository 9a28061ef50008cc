"""``graphqa leaderboard | summarise RUN_DIR | monitor RUN_DIR``: read run dirs, never a live process.

A run dir (docs/INTERFACES.md) holds ``checkpoints/`` (top-k
``epoch=E-score=S-val_loss=L.ckpt``, ``best.ckpt``, …, ``last.ckpt``),
``dvclive/``, ``summary.json`` and ``run_manifest.json``. ``summary.json`` is
written when a run ends, so a run without one (or with checkpoints newer than
it) is still training.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer

SUMMARY = "summary.json"
MANIFEST = "run_manifest.json"
CHECKPOINTS = "checkpoints"
RANKED = ("best.ckpt", "second_best.ckpt", "third_best.ckpt")
ACTIVE_STATES = ("training", "not started")
# epoch=007-score=0.0412-val_loss=0.0518.ckpt (Lightning may add -v1 on a name clash)
_CKPT_FIELDS = re.compile(r"(epoch|score|val_loss)=(-?[0-9.]+(?:e-?[0-9]+)?|nan|inf)")


# --------------------------------------------------------------------------- reading run dirs


def find_run_dirs(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds a ``summary.json``."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: runs directory not found (the pipeline writes runs/sweep, runs/finetune)")
    return sorted(p.parent for p in root.rglob(SUMMARY) if p.is_file())


def parse_checkpoint_name(path: Path) -> dict[str, float] | None:
    """``epoch=007-score=0.0412-val_loss=0.0518.ckpt`` → ``{epoch: 7, score: 0.0412, val_loss: 0.0518}``."""
    fields = {key: float(value) for key, value in _CKPT_FIELDS.findall(path.stem)}
    return fields if "score" in fields else None


def scored_checkpoints(run_dir: Path) -> list[tuple[Path, dict[str, float]]]:
    """Top-k checkpoints of a run (named by score), best first; written while the run trains."""
    folder = run_dir / CHECKPOINTS
    found = [(p, parse_checkpoint_name(p)) for p in folder.glob("*.ckpt")] if folder.is_dir() else []
    scored = [(p, f) for p, f in found if f is not None]
    return sorted(scored, key=lambda item: (math.isnan(item[1]["score"]), item[1]["score"], item[0].name))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def run_state(run_dir: Path) -> str:
    """``completed``/``failed``/``interrupted`` from summary.json, ``training`` while checkpoints
    or DVCLive are newer than it (or it is absent), ``not started`` when nothing is there yet."""
    summary_path = run_dir / SUMMARY
    activity = [p for p in (run_dir / CHECKPOINTS).glob("*.ckpt")] if (run_dir / CHECKPOINTS).is_dir() else []
    activity.append(run_dir / "dvclive" / "metrics.json")
    newest = max((_mtime(p) for p in activity), default=0.0)
    if summary_path.is_file() and _mtime(summary_path) >= newest:
        from graphqa.io import read_json

        return str(read_json(summary_path).get("status", "unknown"))
    return "training" if newest else "not started"


def checkpoint_extras(path: Path) -> dict[str, Any]:
    """graphqa's block of a checkpoint (schema, params, val metrics), loaded with weights_only=True."""
    from graphqa.training.checkpoint import EXTRAS_KEY, load_checkpoint

    return dict(load_checkpoint(path)[EXTRAS_KEY])


def key_params(params: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard's key params (lr, batch, hidden, …) of a resolved params dict."""
    from graphqa.leaderboard import KEY_PARAMS, _dotted

    return {col: _dotted(params, key) for col, key in KEY_PARAMS.items()}


def summarise_run(run_dir: Path) -> dict[str, Any]:
    """Best scores, checkpoints, precision and the resolved schema of one run dir."""
    from graphqa.io import read_json

    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: run directory not found")
    summary = read_json(run_dir / SUMMARY) if (run_dir / SUMMARY).is_file() else {}
    manifest = read_json(run_dir / MANIFEST) if (run_dir / MANIFEST).is_file() else {}
    if not summary and not manifest and not (run_dir / CHECKPOINTS).is_dir():
        raise FileNotFoundError(f"{run_dir}: not a run directory (no {SUMMARY}, {MANIFEST} or {CHECKPOINTS}/)")
    best_ckpt = run_dir / CHECKPOINTS / "best.ckpt"
    scored = scored_checkpoints(run_dir)
    schema_source = best_ckpt if best_ckpt.is_file() else (scored[0][0] if scored else None)
    schema, schema_from = None, None
    if schema_source is not None:
        extras = checkpoint_extras(schema_source)
        schema, schema_from = extras.get("schema"), str(schema_source)
    elif isinstance(manifest.get("schema"), dict):
        schema, schema_from = manifest["schema"], str(run_dir / MANIFEST)
    params = manifest.get("params", {})
    return {
        "run_dir": str(run_dir),
        "status": run_state(run_dir),
        "best": summary.get("best", {}),
        "checkpoint": str(best_ckpt) if best_ckpt.is_file() else None,
        "ranked_checkpoints": [str(run_dir / CHECKPOINTS / n) for n in RANKED if (run_dir / CHECKPOINTS / n).is_file()],
        "top_k": [{"path": str(p), **f, "epoch": int(f.get("epoch", -1))} for p, f in scored],
        "epochs_run": summary.get("epochs_run"),
        "wall_time_s": summary.get("wall_time_s"),
        "precision": manifest.get("precision", summary.get("precision")),
        "device": manifest.get("device"),
        "key_params": key_params(params) if params else {},
        "params_hash": manifest.get("params_hash", summary.get("params_digest")),
        "schema_hash": manifest.get("schema_hash"),
        "schema_from": schema_from,
        "schema": schema,
    }


def monitor_snapshot(run_dir: Path, cache: dict[Path, tuple[float, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The current best checkpoint of a (possibly training) run, its params, and the latest metrics."""
    from graphqa.io import read_json

    snapshot: dict[str, Any] = {"run_dir": str(run_dir), "state": run_state(run_dir) if run_dir.is_dir()
                                else "not started", "best": None, "latest": {}, "checkpoints": 0}
    scored = scored_checkpoints(run_dir)
    snapshot["checkpoints"] = len(scored)
    if scored:
        path, fields = scored[0]
        cache = {} if cache is None else cache
        mtime = _mtime(path)
        if path not in cache or cache[path][0] != mtime:  # load each checkpoint once
            try:
                cache[path] = (mtime, checkpoint_extras(path))
            except (ValueError, OSError):  # rotated away by top-k this instant: params shown next refresh
                cache[path] = (-1.0, {})
        extras = cache[path][1]
        snapshot["best"] = {
            "path": str(path), "epoch": int(fields.get("epoch", -1)), "score": fields["score"],
            "val_loss": fields.get("val_loss"),
            "val_spearman": (extras.get("val_metrics") or {}).get("spearman"),
            "params": key_params(extras.get("params", {})),
            "params_digest": extras.get("params_digest"),
        }
    metrics = run_dir / "dvclive" / "metrics.json"
    if metrics.is_file():
        with contextlib.suppress(ValueError):  # DVCLive rewriting it this instant: shown next time
            snapshot["latest"] = read_json(metrics)
    return snapshot


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

    from graphqa.leaderboard import KEY_PARAMS, RunRecord, leaderboard_rows, rank_runs

    dirs = find_run_dirs(runs)
    console = Console()
    if not dirs:
        console.print(f"no runs under {runs} (no {SUMMARY} found)")
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
