"""Where graphqa relies on typer's help rendering: here and nowhere else.

typer (0.29) prints a type in ``--help`` for every option, flags included:
``--follow -f <bool>``, even ``--help <bool>``, as if a flag took a value.
:func:`hide_flag_types` makes ``typer.core.TyperOption.display_type_rich``
(the type column ``typer.rich_utils`` prints) return nothing for a flag; every
other option keeps its type. ``tests/cli/test_help.py`` checks the rendered
help, so a typer that renames the method fails there.
"""

from __future__ import annotations

from typing import Any


def hide_flag_types() -> None:
    """No ``<bool>`` placeholder after the flags in ``--help`` (idempotent)."""
    from typer.core import TyperOption

    original = TyperOption.display_type_rich
    if getattr(original, "graphqa_hides_flag_types", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else original(self, ctx)

    display_type_rich.graphqa_hides_flag_types = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
