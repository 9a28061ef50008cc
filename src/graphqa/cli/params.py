"""``graphqa params compose``: write params.yaml as ``dvc exp run -S`` would."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Compose and validate params.yaml.", no_args_is_help=True)


@app.command("compose")
def compose_cmd(
    profile: Annotated[list[str] | None, typer.Option(
        "--profile", "-p", help="Profile overlay; repeat to stack (later wins).")] = None,
    overrides: Annotated[list[str] | None, typer.Argument(
        help="Hydra overrides KEY=VALUE, as for dvc exp run -S.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path("params.yaml"),
) -> None:
    """Compose params/ (+ profiles, + overrides) into params.yaml, exactly as DVC does.

    Example: graphqa params compose --profile ampere_bf16 --profile low_vram optimizer.lr=0.003
    """
    from graphqa.compose import compose

    profile = profile or []
    out = compose(profile, overrides or [], output)
    typer.echo(f"wrote {out} (profiles: {', '.join(profile) or 'default'})")


@app.command("check")
def check_cmd(
    path: Annotated[Path, typer.Argument(help="Params file to validate.")] = Path("params.yaml"),
) -> None:
    """Validate a params file and report the first problem, naming the key.

    Example: graphqa params check params.yaml
    """
    from graphqa.config import load_params

    params = load_params(path)
    typer.echo(f"{path}: valid (profiles: {', '.join(params.profiles) or 'none'}; digest {params.digest()})")
