"""``graphqa graphs build``: protein structures -> TopoQA-spec interface graphs (+ DockQ labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build interface graphs from protein structures.", no_args_is_help=True)


@app.command("build")
def build_cmd(
    structures: Annotated[Path, typer.Argument(help="A structure file, or a directory of <TARGET>/<MODEL>.pdb|.cif[.gz] "
                                                    "(or flat <TARGET>_<...>.pdb) files.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory to write (graphs/, labels/, build_report.json).")],
    natives: Annotated[Path | None, typer.Option(
        "--natives", help="Directory of <TARGET>.pdb|.cif natives: DockQ labels are written to OUT/labels.")] = None,
    chains: Annotated[list[str] | None, typer.Option(
        "--chains", help="Chain pair whose interface to use, as A:B (repeatable). Default: every chain pair.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=0, help="Processes (0: one per CPU, up to 8).")] = 0,
    splits: Annotated[Path | None, typer.Option(
        "--splits", help="JSON object target -> train|val|test (default: a seeded split by target).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split by target.")] = 222,
    val_fraction: Annotated[float, typer.Option("--val-fraction", min=0.0, max=0.5)] = 0.15,
    test_fraction: Annotated[float, typer.Option("--test-fraction", min=0.0, max=0.5)] = 0.15,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT/graphs and OUT/labels if present.")] = False,
) -> None:
    """Featurize structures into graphs (172 node / 11 edge features); failures are reported and skipped.

    Example: graphqa graphs build decoys/ --natives natives/ --out data --workers 4
    """
    import time

    from graphqa.data.progress import progress_bar
    from graphqa.structures.build import REPORT, build_dataset
    from graphqa.structures.interface import parse_chain_pairs

    pairs = parse_chain_pairs(chains)
    start = time.perf_counter()
    with progress_bar("graphs: featurizing structures") as progress:
        report = build_dataset(structures, out, natives, chain_pairs=pairs, workers=workers, overwrite=overwrite,
                               splits_file=splits, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction,
                               progress=progress)
    per = report["seconds_per_structure"] or {"mean": 0.0}
    typer.echo(f"wrote {report['graphs']} of {report['structures']} graphs to {out / 'graphs'} in "
               f"{time.perf_counter() - start:.1f} s ({per['mean']:.2f} s per structure, {report['workers']} workers)")
    if report["labels"]:
        typer.echo("labels: " + ", ".join(f"{s} {n}" for s, n in report["labels"].items()) + f" in {out / 'labels'}")
    if report["targets_without_native"]:
        typer.echo(f"no native for target(s): {', '.join(report['targets_without_native'])} (no labels for them)")
    for failure in report["failures"]:
        typer.secho(f"skipped ({failure['kind']}): {failure['message']}", fg="yellow", err=True)
    typer.echo(f"report: {out / REPORT}")
    if report["graphs"] == 0:
        raise typer.Exit(1)
