"""Validate params while DVC composes params.yaml (``dvc exp run -S …``), before any stage runs.

DVC imports every ``hydra_plugins.*`` module of the project root before it
composes (``dvc.utils.hydra.load_hydra_plugins``); importing this one registers
the ``graphqa_check`` resolver, which ``params/config.yaml`` calls for its
``params_check`` key. A bad key, type or value then fails the composition,
naming the key, before DVC has touched params.yaml or any output
(docs/ARCHITECTURE.md, "Params").
"""

from graphqa.compat.hydra import register_params_check

register_params_check()
