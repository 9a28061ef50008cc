"""The one error type of ``graphqa.structures``: a problem with one structure, naming its file.

:class:`StructureError` is a ``ValueError`` so the CLI prints it as ``error: ...``
without a traceback; ``kind`` says which failure class it is (the build report
counts failures per kind): ``unreadable``, ``no_protein``, ``no_interface``,
``missing_backbone``, ``dssp``, ``missing_tool``, ``native`` and ``dockq``.
"""

from __future__ import annotations


class StructureError(ValueError):
    """A structure that cannot be featurized or scored; the message names the file."""

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


def require(module: str, package: str | None = None):
    """Import an optional dependency of the ``structures`` extra, or raise a clear error."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise StructureError(
            f"the Python package '{package or module}' is needed to build graphs from structures; "
            "install it with: pip install 'graphqa[structures]'",
            kind="missing_tool",
        ) from None
