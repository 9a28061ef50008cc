"""Where graphqa relies on DVC's internals: here and nowhere else.

* ``dvc.utils.hydra.compose_and_dump(output_file, config_dir, config_module,
  config_name, plugins_path, overrides)``: the function ``dvc exp run -S``
  composes params.yaml with, so ``graphqa params compose`` writes the same
  bytes. Called by keyword; ``tests/compat/test_upstream.py`` checks the
  signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def compose_and_dump(output: Path, config_dir: Path, config_name: str, overrides: Sequence[str]) -> None:
    """Compose ``config_dir/config_name`` with ``overrides`` into ``output`` exactly as DVC does."""
    from dvc.utils.hydra import compose_and_dump as dvc_compose_and_dump  # heavy: import only here

    from graphqa.compat.hydra import register_params_check

    register_params_check()  # DVC's own process gets it from hydra_plugins/; this one may not have scanned it

    dvc_compose_and_dump(output_file=output, config_dir=str(config_dir), config_module=None,
                         config_name=config_name, plugins_path=str(config_dir.parent), overrides=list(overrides))
