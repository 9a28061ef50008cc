"""``--help`` of every graphqa command: flags shown without a ``<bool>`` placeholder (compat/typer.py)."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from graphqa.cli import app


def _commands(group, path=()):
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield (*path, name)
        yield from _commands(command, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_covered() -> None:
    assert ("monitor",) in COMMANDS and ("params", "compose") in COMMANDS and ("predict",) in COMMANDS
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_flags_without_a_value_placeholder(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output


def test_options_taking_a_value_keep_their_type() -> None:
    result = CliRunner().invoke(app, ["monitor", "--help"], env={"COLUMNS": "160"})
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ --")}
    assert "<float range>" in lines["--interval"]
    assert "--follow" in lines and "<" not in lines["--follow"]
