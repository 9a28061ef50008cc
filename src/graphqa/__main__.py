"""``python -m graphqa`` = the ``graphqa`` command."""

from graphqa.cli import main

main()
