"""Assembles the sub-commands into one typer app."""

from __future__ import annotations

import logging
import sys

import typer

from graphqa.cli import data as data_cli
from graphqa.cli import doctor as doctor_cli
from graphqa.cli import graphs as graphs_cli
from graphqa.cli import hpo as hpo_cli
from graphqa.cli import import_topoqa as import_topoqa_cli
from graphqa.cli import params as params_cli
from graphqa.cli import predict as predict_cli
from graphqa.cli import profiles as profiles_cli
from graphqa.cli import runs as runs_cli
from graphqa.compat.typer import hide_flag_types

hide_flag_types()  # flags take no value: no `<bool>` after them in --help (compat/typer.py)

app = typer.Typer(
    name="graphqa",
    help="Train, select, fine-tune and evaluate GNNs that score protein-complex models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(params_cli.app, name="params")
app.add_typer(profiles_cli.app, name="profiles")
app.add_typer(data_cli.app, name="data")
app.add_typer(graphs_cli.app, name="graphs")
app.add_typer(hpo_cli.app, name="hpo")
app.command("predict")(predict_cli.predict_cmd)
app.command("score")(predict_cli.score_cmd)
app.command("leaderboard")(runs_cli.leaderboard_cmd)
app.command("summarise")(runs_cli.summarise_cmd)
app.command("monitor")(runs_cli.monitor_cmd)
app.command("doctor")(doctor_cli.doctor_cmd)
app.command("import-topoqa")(import_topoqa_cli.import_topoqa_cmd)


def main() -> None:
    """Console-script entry point: clean one-line errors, non-zero exit."""
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(show_path=False)])
    try:
        app()
    except (ValueError, OSError) as exc:  # ParamsError, DataError, … carry the file/key
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted", fg="yellow", err=True)
        sys.exit(130)
