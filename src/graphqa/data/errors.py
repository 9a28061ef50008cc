"""Errors raised on bad input data.

Every message names the file (and the key or dimension) and says what was
expected, so a user can fix the input without reading the code.
"""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data: a graph, label file, metadata file or packed store.

    ``kind`` sorts problems for reports (``unreadable``, ``refused``, ``structure``,
    ``nonfinite``, ``index``, ``dims``, ``labels``, ``coverage``, ``store``).
    """

    def __init__(self, message: str, *, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


class SchemaMismatch(DataError):
    """Two feature schemas (or a graph and a schema) do not describe the same features."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="schema")
