"""What stops a study before or while it runs, said in one line (the CLI prints it and exits non-zero)."""

from __future__ import annotations

from typing import Any


class HpoError(ValueError):
    """A study cannot start or continue: the message names the study, file or key and what was expected."""


def require_optuna() -> Any:
    """The ``optuna`` module, or one clear :class:`HpoError` saying how to install the extra."""
    try:
        import optuna
    except ImportError:
        raise HpoError("graphqa hpo needs Optuna, an optional extra: pip install 'graphqa[hpo]' "
                       "(or .venv/bin/pip install 'optuna>=3.6')") from None
    return optuna
