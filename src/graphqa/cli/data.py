"""``graphqa data demo | check``: make the demo dataset, check a dataset directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graphqa.demo.defaults import DEFAULT_DECOYS, DEFAULT_SEED, DEFAULT_TARGETS, DEFAULT_TEST_DECOYS

app = typer.Typer(help="Demo dataset and dataset checks.", no_args_is_help=True)


def _data_params():  # noqa: ANN202 - graphqa.config.DataParams, imported lazily
    """``data:`` of ./params.yaml (validated), else the defaults."""
    from graphqa.config import PARAMS_FILE, DataParams, load_params

    return load_params(PARAMS_FILE).data if PARAMS_FILE.is_file() else DataParams()


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory to write (graphs/, labels/).")] = Path("data"),
    targets: Annotated[int, typer.Option("--targets", min=3, help="Number of targets (native complexes).")] = DEFAULT_TARGETS,
    decoys: Annotated[int, typer.Option("--decoys", min=4, help="Docking decoys per train/val target.")] = DEFAULT_DECOYS,
    test_decoys: Annotated[int, typer.Option(
        "--test-decoys", min=4, help="Docking decoys per test target (a pool where a top-10 pick is a choice).")
    ] = DEFAULT_TEST_DECOYS,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives byte-identical files.")] = DEFAULT_SEED,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Processes (0: one per CPU, up to 8).")] = 0,
) -> None:
    """Write a deterministic demo dataset of docking decoys in the TopoQA builder format.

    Example: graphqa data demo --out data --targets 90 --decoys 13 --test-decoys 40 --seed 222
    """
    import time

    from graphqa.data.progress import progress_bar
    from graphqa.demo.generate import generate_demo

    start = time.perf_counter()
    with progress_bar("demo: building graphs") as progress:
        summary = generate_demo(out, targets=targets, decoys=decoys, test_decoys=test_decoys, seed=seed,
                                workers=workers or None, progress=progress)
    counts = ", ".join(f"{split} {n}" for split, n in summary.stats["graphs_per_split"].items())
    classes = {c: v["count"] for c, v in summary.stats["dockq"].items()}
    typer.echo(f"wrote {summary.graphs} graphs to {out} ({counts}) in {time.perf_counter() - start:.1f} s")
    typer.echo("CAPRI classes: " + ", ".join(f"{c} {n}" for c, n in classes.items()))


@app.command("check")
def check_cmd(
    directory: Annotated[Path, typer.Argument(help="Dataset directory holding graphs/ and labels/.")],
    graphs: Annotated[Path | None, typer.Option("--graphs", help="Graph directory (default DIR/graphs).")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="Label directory (default DIR/labels).")] = None,
    min_coverage: Annotated[float | None, typer.Option(
        "--min-coverage", help="Default: data.min_coverage of params.yaml, else 0.95.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON here.")] = None,
) -> None:
    """Report on a dataset: counts per split, dims, graph sizes, NaN/inf, coverage; exit 1 on errors.

    Graph size limits are data.max_nodes / max_edges / max_graph_bytes of ./params.yaml (else the defaults).

    Example: graphqa data check data
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from graphqa.data.check import check_dataset
    from graphqa.data.progress import progress_bar

    graphs = graphs or directory / "graphs"
    labels = labels or directory / "labels"
    from graphqa.data.graph import GraphLimits

    data_params = _data_params()
    threshold = data_params.min_coverage if min_coverage is None else min_coverage
    with progress_bar("check: reading graphs") as progress:
        report = check_dataset(graphs, labels, threshold, progress, limits=GraphLimits.from_params(data_params))

    console = Console()
    dims = "; ".join(f"{k} ({v} graphs)" for k, v in report.dims.items()) or "none"
    console.print(f"[bold]{escape(str(graphs))}[/bold]: {report.graph_files} graph files; dims: {escape(dims)}")
    if report.nodes and report.edges:
        console.print(f"nodes per graph {report.nodes[0]}–{report.nodes[1]}, edges per graph {report.edges[0]}–{report.edges[1]}")
    nonfinite = report.problems.get("nonfinite", 0)
    console.print(f"graphs with NaN/inf features: {nonfinite}; other bad graphs: {sum(report.problems.values()) - nonfinite}; "
                  f"empty (skipped): {len(report.empty_graphs)}")
    if report.coverage is not None:
        table = Table("split", "labels", "graphs", "coverage", "missing", "skipped", "targets", "unlabeled")
        for split, entry in report.coverage["splits"].items():
            table.add_row(split, str(entry["labels"]), str(entry["graphs_found"]), f"{entry['coverage']:.3f}",
                          str(len(entry["missing_models"])), str(len(entry["skipped_graphs"])), str(entry["targets"]),
                          str(len(entry["unlabeled_graphs"])))
        console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for error in report.errors[:20]:
        console.print(f"[red]error:[/red] {escape(error)}")
    if len(report.errors) > 20:
        console.print(f"[red]… and {len(report.errors) - 20} more errors[/red]")
    if json_out is not None:
        from graphqa.io import write_json

        write_json(json_out, report.to_dict())
    if not report.ok:
        raise typer.Exit(code=1)
    console.print(f"[green]ok[/green]: usable for schema discovery (min_coverage {threshold})")
