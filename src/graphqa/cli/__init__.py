"""The ``graphqa`` command: a thin typer layer over the library.

Sub-command modules import their heavy dependencies inside the commands, so
``graphqa --help`` and the stage scripts start fast.
"""

from graphqa.cli.app import app, main

__all__ = ["app", "main"]
