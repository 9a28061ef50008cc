"""The targets of issues 7 and 18, checked against the measurements, and the markdown report."""

from __future__ import annotations

from pathlib import Path
from statistics import median
from typing import Any

# Thresholds (issue 7). "Linear" pack time: per-graph time at the largest size at most 1.25x the smallest's.
PACKED_SPEEDUP_MIN = 20.0
ASSEMBLY_SHARE_MAX = 0.05
EPOCH_RATIO_MAX = 0.5
NOOP_REPRO_MAX_S = 2.0
STAGE_START_MAX_S = 1.5
PACK_LINEAR_MAX = 1.25
PACK_RSS_MAX = 2.0
TRAIN_RSS_GROWTH_MAX = 0.05
GPU_BF16_MIN = 1.5
GPU_BUSY_MIN = 0.8
COMPILED_SPEEDUP_MIN = 1.4  # issue 18: compiled / eager training step throughput on CPU


def _target(key: str, what: str, measured: Any, threshold: str, met: bool | None, note: str = "") -> dict[str, Any]:
    return {"key": key, "target": what, "measured": measured, "threshold": threshold, "met": met, "note": note}


def _get(tree: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _step_ms(results: dict[str, Any], batch_size: int) -> float | None:
    rows = _get(results, "train_step", "cpu") or []
    # the thread count the training stages use (older results: torch's default)
    key = "project_threads" if any("project_threads" in r for r in rows) else "default_threads"
    return next((r["step_ms"] for r in rows if r["batch_size"] == batch_size and r[key] and not r.get("contended")), None)


def rss_growth(rss: list[float]) -> tuple[float, float, float] | None:
    """Median RSS of the first and of the last third of the epochs after the first, and the relative growth.

    The first epoch is left out (allocations that happen once), and thirds rather
    than single epochs are compared, because the allocator's footprint swings by
    tens of MiB from one epoch to the next without growing.
    """
    after_first = rss[1:]
    if len(after_first) < 2:
        return None
    k = max(1, len(after_first) // 3)
    early, late = median(after_first[:k]), median(after_first[-k:])
    return early, late, (late - early) / early


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with its measured figure and whether it is met (None: not measured here)."""
    out = []
    speedup = _get(results, "data_path", "speedup", "bs16_packed0_vs_baseline0")
    out.append(_target("packed_batching_speedup", "packed batching vs baseline batches/s, batch 16, 0 workers",
                       speedup and f"{speedup}x", f">= {PACKED_SPEEDUP_MIN:g}x",
                       None if speedup is None else speedup >= PACKED_SPEEDUP_MIN))

    shares = {}
    for bs in (16, 128):
        assembly = _get(results, "data_path", "assembly_ms", str(bs), "median")
        step = _step_ms(results, bs)
        if assembly is not None and step:
            shares[bs] = assembly / step
    worst = max(shares.values()) if shares else None
    out.append(_target("batch_assembly_share", "batch assembly share of a training step (CPU fp32, batch 16 and 128)",
                       ", ".join(f"{100 * v:.2f}% (bs {k})" for k, v in shares.items()) or None,
                       f"< {100 * ASSEMBLY_SHARE_MAX:g}%", None if worst is None else worst < ASSEMBLY_SHARE_MAX))

    ratio = _get(results, "epoch", "lightning", "ratio")
    ratio_of = _get(results, "epoch", "lightning", "ratio_of") or "packed"
    eager_ratio = _get(results, "epoch", "lightning", "ratio_eager")
    out.append(_target("epoch_ratio", f"one training epoch (Lightning, CPU): packed ({ratio_of}) / baseline wall time",
                       ratio and f"{ratio:.2f}x", f"<= {EPOCH_RATIO_MAX:g}x", None if ratio is None else ratio <= EPOCH_RATIO_MAX,
                       f"packed eager / baseline: {eager_ratio:.2f}x; steady-state epochs (compilation apart)"
                       if eager_ratio is not None and ratio_of == "compiled" else ""))

    comp = _get(results, "compiled_step") or {}
    speedup = comp.get("speedup")
    backend = comp.get("backend", "inductor")
    out.append(_target("compiled_step_speedup", "compiled / eager training step throughput (CPU, batch 32)",
                       speedup and f"{speedup:.2f}x", f">= {COMPILED_SPEEDUP_MIN:g}x",
                       None if speedup is None or backend != "inductor" else speedup >= COMPILED_SPEEDUP_MIN,
                       (f"compile {comp['compile_s']} s, break-even {comp.get('break_even_steps')} steps "
                        f"(auto compiles from {comp.get('auto_min_steps')})" if speedup else "")
                       + ("" if backend == "inductor" else f"; backend {backend}: smoke run, not a figure")))
    if comp.get("gflops"):
        g, share, peak = comp["gflops"], comp["share_of_peak"], comp["peak_gflops"]["median"]
        out.append(_target("gflops", "achieved GFLOP/s of a training step vs a plain fp32 matmul's (same run)",
                           f"eager {g['eager']}, compiled {g['compiled']} of peak {peak} "
                           f"({100 * share['eager']:.1f}% / {100 * share['compiled']:.1f}%)", "reported", None,
                           f"{comp['step_gflop']} GFLOP per step (batch {comp['batch_size']}, "
                           f"~{comp['mean_nodes']:.0f} nodes, ~{comp['mean_edges']:.0f} edges); {comp['threads']} thread(s)"))
    else:
        out.append(_target("gflops", "achieved GFLOP/s of a training step vs a plain matmul's", None, "reported", None))

    noop = _get(results, "pipeline_overhead", "dvc", "noop_repro_s", "median")
    scope = _get(results, "pipeline_overhead", "dvc", "scope")
    out.append(_target("noop_repro", "`dvc repro` with nothing to do", noop and f"{noop:.2f} s", f"<= {NOOP_REPRO_MAX_S:g} s",
                       None if noop is None else noop <= NOOP_REPRO_MAX_S, f"scope: {scope}" if scope else ""))

    stages = _get(results, "pipeline_overhead", "stages", "stages") or []
    light = [(s["stage"], s["import_s"]["median"]) for s in stages if not s["trains"] and s["import_s"]]
    if light:
        slowest = max(light, key=lambda item: item[1])
        floor = _get(results, "pipeline_overhead", "stages", "import_torch_s", "median")
        out.append(_target("stage_startup", "start-up of a stage that does not train (interpreter + imports)",
                           ", ".join(f"{name} {sec:.2f} s" for name, sec in light), f"<= {STAGE_START_MAX_S:g} s each",
                           slowest[1] <= STAGE_START_MAX_S,
                           f"slowest: {slowest[0]}" + (f"; floor `python -c 'import torch'`: {floor:.2f} s" if floor else "")))
    else:
        out.append(_target("stage_startup", "start-up of a stage that does not train", None, f"<= {STAGE_START_MAX_S:g} s", None))

    growth = _get(results, "scaling", "per_graph_growth")
    rows = _get(results, "scaling", "rows") or []
    sizes = f"{rows[0]['graphs']}..{rows[-1]['graphs']} graphs" if rows else ""
    out.append(_target("pack_linear", "pack time linear in graph count (per-graph time, largest / smallest size)",
                       growth and f"{growth:.2f}x", f"<= {PACK_LINEAR_MAX:g}x", None if growth is None else growth <= PACK_LINEAR_MAX,
                       sizes + (f"; µs/graph: {', '.join(str(r['us_per_graph']) for r in rows)}" if rows else "")))

    if rows:
        big = rows[-1]
        out.append(_target("pack_peak_rss", "peak RSS while packing / store size (largest size)",
                           f"{big['peak_rss_over_store']:.2f}x ({big['peak_rss_mb']:.0f} MiB peak, {big['store_mb']:.0f} MiB store)",
                           f"<= {PACK_RSS_MAX:g}x", big["peak_rss_over_store"] <= PACK_RSS_MAX,
                           f"{big['graphs']} graphs; RSS before packing (interpreter + torch) {big['rss_before_pack_mb']:.0f} MiB"))
    else:
        out.append(_target("pack_peak_rss", "peak RSS while packing / store size", None, f"<= {PACK_RSS_MAX:g}x", None))

    epochs = _get(results, "epoch", "real_run", "epochs") or []
    growth = rss_growth([e["VmRSS"] for e in epochs])
    if growth is not None:
        early, late, rel = growth
        out.append(_target("train_rss_flat", "training process RSS over epochs (real training path)",
                           f"{early:.0f} -> {late:.0f} MiB ({100 * rel:+.1f}%)", f"growth <= {100 * TRAIN_RSS_GROWTH_MAX:g}%",
                           rel <= TRAIN_RSS_GROWTH_MAX,
                           f"median RSS of the first vs the last third of epochs 2..{len(epochs)}; per epoch: "
                           + ", ".join(f"{e['VmRSS']:.0f}" for e in epochs) + " MiB"))
    else:
        out.append(_target("train_rss_flat", "training process RSS over epochs", None,
                           f"growth <= {100 * TRAIN_RSS_GROWTH_MAX:g}%", None, "needs >= 3 epochs"))

    gpu = _get(results, "train_step", "gpu") or {}
    if gpu.get("status") == "ok":
        rates = {r["precision"]: r["graphs_per_s"]["median"] for r in gpu["rows"] if r["batch_size"] == 128}
        bf16 = rates.get("bf16-mixed", 0) / rates["32-true"] if rates.get("32-true") else None
        out.append(_target("gpu_bf16_speedup", "GPU step throughput bf16-mixed / fp32, batch 128",
                           bf16 and f"{bf16:.2f}x", f">= {GPU_BF16_MIN:g}x", None if bf16 is None else bf16 >= GPU_BF16_MIN))
        busy = _get(gpu, "busy_share", "busy_share")
        out.append(_target("gpu_busy", "GPU busy share of an epoch", busy and f"{100 * busy:.0f}%",
                           f">= {100 * GPU_BUSY_MIN:g}%", None if busy is None else busy >= GPU_BUSY_MIN))
    else:
        status = gpu.get("status", "not measured")
        out.append(_target("gpu_bf16_speedup", "GPU step throughput bf16-mixed / fp32, batch 128", status,
                           f">= {GPU_BF16_MIN:g}x", None))
        out.append(_target("gpu_busy", "GPU busy share of an epoch", status, f">= {100 * GPU_BUSY_MIN:g}%", None))
    return out


# ---------------------------------------------------------------- markdown


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return lines + [""]


_LOADERS = {"baseline": "baseline: per-file torch.load", "packed": "packed store",
            "baseline-cold": "baseline, cold page cache", "packed-cold": "packed store, cold page cache"}


def _met(value: bool | None) -> str:
    return {True: "**met**", False: "not met", None: "n/a"}[value]


def markdown(report: dict[str, Any], *, readme: bool = False) -> str:
    """The report as markdown; ``readme``: headings one level down, no title, no per-epoch tables."""
    meta, results = report["meta"], report["results"]
    env = meta.get("environment", {})
    h = "###" if readme else "##"
    lines = [] if readme else [f"# graphqa benchmarks ({meta['mode']})", ""]
    lines += [
        f"{meta['started']}, {meta['duration_s']:.0f} s; {env.get('cpus_usable')} usable CPUs "
        f"({env.get('processor')}), torch {env.get('versions', {}).get('torch')} with {env.get('torch_threads')} threads, "
        f"GPU: {env.get('cuda') or 'none'}; commit {env.get('git_commit')}{' (dirty)' if env.get('git_dirty') else ''}. "
        f"Load average before/after: {meta.get('loadavg_before')} / {meta.get('loadavg_after')}.",
        "",
        f"Every figure is the median of {meta['reps']} repetitions unless the row says otherwise; "
        "the two sides of each comparison were measured interleaved in this run. "
        "Reproduce with `make bench` (`python -m benchmarks`; `--quick` for a smoke run).",
        "",
        f"{h} Targets (issues 7 and 18)",
        "",
    ]
    lines += _table(["target", "measured", "threshold", "status", "note"],
                    [[t["target"], t["measured"], t["threshold"], _met(t["met"]), t["note"]] for t in report["targets"]])

    data = results.get("data_path")
    if data:
        lines += [f"{h} Data path (training split, one full epoch of batches)", ""]
        lines += _table(["loader", "batch", "workers", "batches", "epoch s", "batches/s", "graphs/s"],
                        [[_LOADERS.get(r["loader"], r["loader"]), r["batch_size"], r["workers"], r["batches"], r["epoch_s"]["median"],
                          r["batches_per_s"], r["graphs_per_s"]] for r in data["rows"]])
        lines += ["Speed-up (packed, 0 workers, over baseline): "
                  + ", ".join(f"{k} {v}x" for k, v in data["speedup"].items()) + ".  "
                  "Assembly of one batch from the store (ms): "
                  + ", ".join(f"batch {k}: {v['median']}" for k, v in data["assembly_ms"].items()) + ".", ""]

    step = results.get("train_step")
    if step:
        lines += [f"{h} Training step (default network, forward + loss + backward + clip + Adam)", ""]
        rows = [[r["device"], r["precision"], r["threads"], "1 core busy" if r.get("contended") else "idle",
                 r["batch_size"], r["graphs_per_s"]["median"], r["step_ms"]] for r in step["cpu"]]
        rows += [[r["device"], r["precision"], "", "", r["batch_size"], r["graphs_per_s"]["median"], ""]
                 for r in step["gpu"].get("rows", [])]
        lines += _table(["device", "precision", "torch threads", "other load", "batch", "graphs/s", "ms/step"], rows)
        ours = next((r["threads"] for r in step["cpu"] if r.get("project_threads")), None)
        lines += ["\"1 core busy\": one other process spins on a core meanwhile (like a second sweep member of "
                  "`dvc queue start -j 2`); \"idle\": nothing else of the benchmark runs (the machine's own load is above)."
                  + (f" The training stages use {ours} thread(s) (`runtime.cpu_threads`)." if ours else ""), ""]
        gpu = step["gpu"]
        lines += [f"GPU: {gpu['status']}" + (f", busy share of an epoch: {gpu['busy_share']}" if gpu.get("busy_share") else "") + ".", ""]

    comp = results.get("compiled_step")
    if comp:
        lines += [f"{h} Compiled training step (CPU, batch {comp['batch_size']}, {comp['threads']} thread(s), "
                  f"torch.compile dynamic=True, backend {comp.get('backend', 'inductor')})", ""]
        lines += _table(["network", "ms/step", "GFLOP/s", "share of matmul peak"],
                        [["eager", comp["eager_step_ms"]["median"], comp["gflops"]["eager"],
                          f"{100 * comp['share_of_peak']['eager']:.1f}%"],
                         ["compiled", comp["compiled_step_ms"]["median"], comp["gflops"]["compiled"],
                          f"{100 * comp['share_of_peak']['compiled']:.1f}%"]])
        lines += [f"Speed-up {comp['speedup']}x; compilation {comp['compile_s']} s (first compiled step "
                  f"{comp['first_step_s']['compiled']} s vs eager {comp['first_step_s']['eager']} s), break-even after "
                  f"{comp['break_even_steps']} steps (`trainer.compile=auto` compiles from {comp['auto_min_steps']}). "
                  f"{comp['step_gflop']} GFLOP per step counted from the layer sizes (~{comp['mean_nodes']:.0f} nodes, "
                  f"~{comp['mean_edges']:.0f} edges per batch); peak: {comp['peak_matmul_n']}-square fp32 matmul, "
                  f"{comp['peak_gflops']['median']} GFLOP/s.", ""]
        if not readme:
            lines += ["Where a compiled step's time goes (torch profiler, self CPU time):", ""]
            lines += _table(["op", "calls", "ms per step", "share"],
                            [[f"`{p['op']}`", p["calls"], p["self_ms"], f"{100 * p['share']:.1f}%"]
                             for p in comp["profile_compiled"]])

    epoch = results.get("epoch")
    if epoch:
        lt = epoch["lightning"]
        threads = f", {lt['threads']} torch thread(s)" if lt.get("threads") else ""
        lines += [f"{h} One training epoch through Lightning (CPU, fp32, same model{threads})", ""]
        rows = [["packed store, eager", lt["batch_size"], 0, lt["packed_epoch_s"]["median"], len(lt["packed_epoch_s"]["reps"])]]
        if lt.get("compiled_epoch_s"):
            rows.append(["packed store, compiled", lt["batch_size"], 0, lt["compiled_epoch_s"]["median"],
                         len(lt["compiled_epoch_s"]["reps"])])
        rows += [["baseline (per-file torch.load, eager)", lt["batch_size"], 0, lt["baseline_epoch_s"]["median"],
                  len(lt["baseline_epoch_s"]["reps"])],
                 [f"ratio packed ({lt.get('ratio_of', 'packed')}) / baseline", "", "", lt["ratio"], ""]]
        if lt.get("ratio_eager") is not None and lt.get("ratio_of") == "compiled":
            rows.append(["ratio packed (eager) / baseline", "", "", lt["ratio_eager"], ""])
        lines += _table(["data path", "batch", "workers", "epoch s", "samples"], rows)
        if lt.get("first_epoch_s"):
            lines += [f"Samples: {lt.get('samples', 'every epoch')}. First epochs (median): "
                      + ", ".join(f"{k} {v['median']} s" for k, v in lt["first_epoch_s"].items())
                      + " (a compiled fit's first epoch in the process carries the compilation: "
                      + ", ".join(str(x) for x in lt["first_epoch_s"].get("compiled", {}).get("reps", [])) + ").", ""]
        real = epoch.get("real_run")
        if real:
            lines += [f"Real training path ({real['profile']}, {real['precision']}, {real.get('threads', '?')} thread(s), "
                      f"{real['train_graphs']} train / "
                      f"{real['val_graphs']} val graphs, callbacks, DVCLive, checkpoints; imports {real['import_s']} s):", ""]
            if not readme:
                lines += _table(["epoch", "epoch s", "of which validation s", "RSS MiB", "anon MiB", "file MiB"],
                                [[e["epoch"], e["epoch_s"], e["validation_s"], e.get("VmRSS"), e.get("RssAnon"),
                                  e.get("RssFile")] for e in real["epochs"]])
            else:
                lines += [f"Median epoch {median([e['epoch_s'] for e in real['epochs']]):.3f} s, of which validation "
                          f"{median([e['validation_s'] for e in real['epochs']]):.3f} s.", ""]

    pipe = results.get("pipeline_overhead")
    if pipe:
        dvc = pipe["dvc"]
        lines += [f"{h} Pipeline overhead", ""]
        lines += _table(["command", "seconds"],
                        [[f"`dvc repro`, nothing to do ({dvc['scope']})", dvc["noop_repro_s"]["median"]],
                         ["`dvc status`", dvc["status_s"]["median"]],
                         ["`dvc exp show`", dvc["exp_show_s"]["median"]],
                         ["(first `dvc repro`, untimed setup, 1 run)", dvc["first_repro_s"]]])
        stages = pipe["stages"]
        floor = stages.get("import_torch_s")
        lines += [f"Stage start-up (a bare `python -c pass` takes {stages['interpreter_s']['median']} s"
                  + (f", `python -c 'import torch'` {floor['median']} s" if floor else "") + "):", ""]
        lines += _table(["stage", "trains", "`--help` s", "start-up: interpreter + imports s"],
                        [[s["stage"], "yes" if s["trains"] else "no", s["help_s"]["median"],
                          s["import_s"]["median"] if s["import_s"] else "not timed (quick)"]
                         for s in stages["stages"]])

    scaling = results.get("scaling")
    if scaling:
        lines += [f"{h} Scaling (pack stage, fresh process per pack)", ""]
        lines += _table(["graphs", "pack s", "µs/graph", "store MiB", "peak RSS MiB", "RSS before pack MiB",
                         "peak RSS / store"],
                        [[r["graphs"], r["pack_s"]["median"], r["us_per_graph"], r["store_mb"], r["peak_rss_mb"],
                          r["rss_before_pack_mb"], r["peak_rss_over_store"]] for r in scaling["rows"]])
        mem = scaling.get("loader_memory")
        if mem and readme:
            first, last = mem["epochs"][1], mem["epochs"][-1]
            lines += [f"Training loader over the memory-mapped store ({mem['graphs']} graphs, {mem['store_mb']} MiB), "
                      f"{len(mem['epochs']) - 1} epochs: anonymous RSS {first.get('RssAnon')} -> {last.get('RssAnon')} MiB, "
                      f"file-backed (mapped store pages) {first.get('RssFile')} -> {last.get('RssFile')} MiB.", ""]
        elif mem:
            lines += [f"Training loader over the memory-mapped store ({mem['graphs']} graphs, {mem['store_mb']} MiB, "
                      f"batch {mem['batch_size']}, 0 workers); epoch -1 is after opening the store:", ""]
            lines += _table(["epoch", "epoch s", "RSS MiB", "anon MiB", "file-backed MiB"],
                            [[e["epoch"], e["epoch_s"], e.get("VmRSS"), e.get("RssAnon"), e.get("RssFile")]
                             for e in mem["epochs"]])
    errors = report.get("errors") or {}
    if errors:
        lines += [f"{h} Failed groups", ""] + [f"* {k}: {v}" for k, v in errors.items()] + [""]
    return "\n".join(lines)


README_START = "<!-- benchmarks:start (python -m benchmarks.report --readme README.md) -->"
README_END = "<!-- benchmarks:end -->"


def update_readme(readme: Path, report: dict[str, Any]) -> None:
    """Replace the block between the benchmark markers in ``readme`` by the compact report."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme}: no {README_START!r} ... {README_END!r} block to replace")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{markdown(report, readme=True).rstrip()}\n{README_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.report [--readme README.md]``: re-render latest.md (and the README block) from latest.json."""
    import argparse
    import json

    from benchmarks.common import ROOT

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--readme", type=Path, default=None, help="also refresh the benchmark block of this README")
    args = parser.parse_args(argv)
    report = json.loads(args.results.read_text(encoding="utf-8"))
    report["targets"] = evaluate_targets(report["results"])
    args.results.with_suffix(".md").write_text(markdown(report) + "\n", encoding="utf-8")
    if args.readme:
        update_readme(args.readme, report)


if __name__ == "__main__":
    main()
