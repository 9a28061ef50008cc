"""``graphqa doctor``: versions, devices, and what ``auto`` would pick on this machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def doctor_cmd(
    params: Annotated[Path | None, typer.Option(
        "--params", help="Params file to resolve (default: ./params.yaml, else the built-in defaults).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of tables.")] = False,
) -> None:
    """Python/torch/Lightning/PyG/DVC versions, devices, bf16/TF32 support, and the precision, TF32,
    workers and pinning a run would ask for and use here (params + GRAPHQA_* environment overrides, then
    what this machine has: a fallback says why). Also checks the
    DVC repository lock (.dvc/tmp/rwlock) and exits 1, saying how to recover, when it is damaged.

    Example: GRAPHQA_NUM_WORKERS=4 graphqa doctor
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from graphqa.doctor import diagnose

    report = diagnose(params)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        if report.problems:
            raise typer.Exit(code=1)
        return
    console = Console()
    yes_no = lambda flag: "[green]yes[/green]" if flag else "no"  # noqa: E731

    versions = Table("package", "version", title="Versions", title_justify="left", box=None)
    for name, version in report.versions.items():
        versions.add_row(name, version or "[red]missing[/red]")
    console.print(versions)

    system = Table("", "", title="Machine", title_justify="left", box=None, show_header=False)
    system.add_row("platform", report.platform)
    system.add_row("usable CPUs", str(report.cpu_count))
    system.add_row("CUDA available", yes_no(report.cuda_available))
    system.add_row("torch CUDA build", report.cuda_build or "none (CPU build)")
    system.add_row("cuDNN", str(report.cudnn) if report.cudnn else "none")
    system.add_row("MPS available", yes_no(report.mps_available))
    no_cuda = "n/a (no CUDA device)"
    system.add_row("bf16 support", yes_no(all(d.bf16 for d in report.devices)) if report.devices else no_cuda)
    system.add_row("TF32 support", yes_no(all(d.tf32 for d in report.devices)) if report.devices else no_cuda)
    console.print(system)

    if report.devices:
        devices = Table("#", "device", "capability", "memory GiB", "bf16", "TF32", title="CUDA devices",
                        title_justify="left", box=None)
        for d in report.devices:
            devices.add_row(str(d.index), d.name, d.capability, f"{d.memory_gib:.1f}", yes_no(d.bf16), yes_no(d.tf32))
        console.print(devices)

    run = Table("", "", title=f"A run here (params: {report.params_source})", title_justify="left", box=None,
                show_header=False)
    run.add_row("accelerator", report.accelerator)
    run.add_row("precision `auto` picks", f"[bold]{report.precision_auto}[/bold]")
    hardware = report.hardware
    for label, key in (("trainer.precision", "trainer.precision"), ("trainer.tf32", "trainer.tf32"),
                       ("data loader workers", "runtime.num_workers"), ("pin memory", "runtime.pin_memory")):
        requested, used = (_show(hardware[side][key]) for side in ("requested", "used"))
        why = hardware["fallbacks"].get(key)
        shown = f"[bold]{used}[/bold]" if requested == used else f"{requested} → [bold]{used}[/bold]"
        run.add_row(label, shown + (f"  [yellow]fallback: {escape(why)}[/yellow]" if why else ""))
    overrides = ", ".join(f"{k}={v}" for k, v in report.env_overrides.items()) or "none"
    run.add_row("GRAPHQA_* overrides", overrides)
    console.print(run)
    for problem in report.problems:
        console.print(f"[red]problem:[/red] {escape(problem)}", soft_wrap=True)
    if report.problems:
        raise typer.Exit(code=1)
