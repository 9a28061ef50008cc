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

    The profiles are also saved (params/compose/saved.yaml) so a later `dvc exp run -S KEY=VALUE`
    keeps them; `dvc exp run -S profile=NAME` replaces them; without --profile the saved choice
    is removed. Overrides are written to params.yaml only.

    Example: graphqa params compose --profile ampere_bf16 --profile low_vram optimizer.lr=0.003
    """
    from graphqa.compose import check_saved_choice, compose, find_config_dir, save_profile_choice, saved_choice_path
    from graphqa.config import ParamsError

    profile = profile or []
    config_dir = find_config_dir()
    project = Path(output).resolve() == (config_dir.parent / "params.yaml").resolve()
    if project:
        try:
            check_saved_choice(config_dir)
        except ParamsError as exc:  # a saved profile since deleted: this command is how to choose again
            save_profile_choice([], config_dir)
            typer.echo(f"removed the saved choice: {exc}", err=True)
    out = compose(profile, overrides or [], output, config_dir)
    typer.echo(f"wrote {out} (profiles: {', '.join(profile) or 'default'})")
    if not project:
        return  # another file: the project's composition (and its saved choice) is not touched
    had_choice = saved_choice_path(config_dir).is_file()
    saved = save_profile_choice(profile, config_dir)
    shown = (saved or saved_choice_path(config_dir)).relative_to(config_dir.parent)
    if saved is not None:
        typer.echo(f"saved the profile choice in {shown}: a later `dvc exp run -S KEY=VALUE` keeps "
                   f"{', '.join(profile)}; `-S profile=NAME` replaces it; commit it with params.yaml")
    elif had_choice:
        typer.echo(f"removed {shown}: `dvc exp run -S KEY=VALUE` composes from the default profile again")
    if overrides:
        typer.echo(f"note: {' '.join(overrides)} is in params.yaml only; a later `dvc exp run -S ...` recomposes "
                   "without it: pass it to -S again", err=True)


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
