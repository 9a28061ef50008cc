"""What ``graphqa summarise`` and ``graphqa monitor`` read from a run directory."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from graphqa.runs.run_dir import RunDir, _mtime


def _context(run: RunDir) -> dict[str, Any]:
    """``run_context.json`` (wall time, git commit) when present and readable."""
    from graphqa.io import read_json

    try:
        return dict(read_json(run.context_file)) if run.context_file.is_file() else {}
    except (ValueError, TypeError):
        return {}


def checkpoint_extras(path: Path) -> dict[str, Any]:
    """graphqa's block of a checkpoint (schema, params, val metrics), loaded with weights_only=True."""
    from graphqa.inference.checkpoint import EXTRAS_KEY, load_checkpoint

    return dict(load_checkpoint(path)[EXTRAS_KEY])


def key_params(params: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard's key params (lr, batch, hidden, …) of a resolved params dict."""
    from graphqa.runs.leaderboard import KEY_PARAMS, dotted

    return {col: dotted(params, key) for col, key in KEY_PARAMS.items()}


def summarise_run(path: Path) -> dict[str, Any]:
    """Best scores, checkpoints, precision and the resolved schema of one run dir."""
    run = RunDir(path)
    if not run.path.is_dir():
        raise FileNotFoundError(f"{run.path}: run directory not found")
    if not run.exists():
        raise FileNotFoundError(f"{run.path}: not a run directory (no {run.summary_file.name}, "
                                f"{run.manifest_file.name} or {run.checkpoints.name}/)")
    summary, manifest = run.read_summary(), run.read_manifest()
    best_ckpt = run.best_checkpoint
    scored = run.scored_checkpoints()
    schema_source = best_ckpt if best_ckpt.is_file() else (scored[0][0] if scored else None)
    schema, schema_from = None, None
    if schema_source is not None:
        extras = checkpoint_extras(schema_source)
        schema, schema_from = extras.get("schema"), str(schema_source)
    elif isinstance(manifest.get("schema"), dict):
        schema, schema_from = manifest["schema"], str(run.manifest_file)
    params = manifest.get("params", {})
    return {
        "run_dir": str(run.path),
        "status": run.state(),
        "best": summary.get("best", {}),
        "checkpoint": str(best_ckpt) if best_ckpt.is_file() else None,
        "ranked_checkpoints": [str(p) for p in run.ranked_checkpoints()],
        "top_k": [{"path": str(p), **f, "epoch": int(f.get("epoch", -1))} for p, f in scored],
        "epochs_run": summary.get("epochs_run"),
        "wall_time_s": _context(run).get("wall_time_s"),
        "precision": manifest.get("precision", summary.get("precision")),
        "device": manifest.get("device"),
        "key_params": key_params(params) if params else {},
        "params_hash": manifest.get("params_hash", summary.get("params_digest")),
        "schema_hash": manifest.get("schema_hash"),
        "schema_from": schema_from,
        "schema": schema,
    }


def monitor_snapshot(path: Path, cache: dict[Path, tuple[float, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The current best checkpoint of a (possibly training) run, its params, and the latest metrics."""
    from graphqa.io import read_json

    run = RunDir(path)
    snapshot: dict[str, Any] = {"run_dir": str(run.path), "state": run.state() if run.path.is_dir()
                                else "not started", "best": None, "latest": {}, "checkpoints": 0}
    scored = run.scored_checkpoints()
    snapshot["checkpoints"] = len(scored)
    manifest = {}
    with contextlib.suppress(ValueError, OSError):  # written at the run's start and end (training.run)
        manifest = run.read_manifest()
    hardware = manifest.get("hardware")
    snapshot["hardware"] = hardware if isinstance(hardware, dict) else None
    if scored:
        best, fields = scored[0]
        cache = {} if cache is None else cache
        mtime = _mtime(best)
        if best not in cache or cache[best][0] != mtime:  # load each checkpoint once
            try:
                cache[best] = (mtime, checkpoint_extras(best))
            except (ValueError, OSError):  # rotated away by top-k this instant: params shown next refresh
                cache[best] = (-1.0, {})
        extras = cache[best][1]
        snapshot["best"] = {
            "path": str(best), "epoch": int(fields.get("epoch", -1)), "score": fields["score"],
            "val_loss": fields.get("val_loss"),
            "val_spearman": (extras.get("val_metrics") or {}).get("spearman"),
            "params": {**key_params(extras.get("params", {})),  # the precision it trains at, not the one asked
                       **({"precision": hardware["used"].get("trainer.precision")} if snapshot["hardware"] else {})},
            "params_digest": extras.get("params_digest"),
        }
    if run.dvclive_metrics.is_file():
        with contextlib.suppress(ValueError):  # DVCLive rewriting it this instant: shown next time
            snapshot["latest"] = read_json(run.dvclive_metrics)
    return snapshot
