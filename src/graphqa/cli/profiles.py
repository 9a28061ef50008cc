"""``graphqa profiles list | show NAME``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Runtime profiles (params/profile/*.yaml).", no_args_is_help=True)


@app.command("list")
def list_cmd() -> None:
    """Every profile with its one-line purpose.

    Example: graphqa profiles list
    """
    from rich.console import Console
    from rich.table import Table

    from graphqa.compose import list_profiles

    table = Table("profile", "purpose", box=None)
    for profile in list_profiles():
        table.add_row(profile.name, profile.purpose)
    Console().print(table)


@app.command("show")
def show_cmd(name: str = typer.Argument(..., help="Profile name, e.g. ampere_bf16.")) -> None:
    """The keys a profile changes, default → profile value.

    Example: graphqa profiles show low_vram
    """
    from rich.console import Console
    from rich.table import Table

    from graphqa.compose import list_profiles, profile_changes

    profile = next((p for p in list_profiles() if p.name == name), None)
    if profile is None:
        from graphqa.config import ParamsError

        raise ParamsError(f"profile {name!r} not found; available: {', '.join(p.name for p in list_profiles())}")
    console = Console()
    console.print(f"[bold]{name}[/bold]: {profile.purpose}")
    table = Table("key", "default", "→ profile", box=None)
    for key, old, new in profile_changes(name):
        table.add_row(key, repr(old), repr(new))
    console.print(table)
