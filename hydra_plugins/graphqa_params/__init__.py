"""Validate params while DVC composes params.yaml (``dvc exp run -S …``), before any stage runs.

DVC imports every ``hydra_plugins.*`` module of the project root before it
composes (``dvc.utils.hydra.load_hydra_plugins``); importing this one registers
the ``graphqa_check`` resolver, which ``params/config.yaml`` calls for its
``params_check`` key. A bad key, type or value then fails the composition,
naming the key, before DVC has touched params.yaml or any output
(docs/ARCHITECTURE.md, "Params").
"""

try:
    from graphqa.compat.hydra import register_params_check
except ImportError as exc:  # dvc from another environment than the project's
    raise ImportError(
        f"graphqa cannot be imported by the Python running dvc ({exc}); use the project's environment: "
        "source .venv/bin/activate (make repro creates it)"
    ) from None

# The stages the dvc CLI runs next use `python` from PATH, not this interpreter: the check also refuses
# one that cannot import graphqa, before DVC removes any output (graphqa.stage_python).
from graphqa.stage_python import running_dvc_cli  # noqa: E402

register_params_check(check_stage_python=running_dvc_cli())

# A profile saved by `graphqa params compose --profile` (params/compose/saved.yaml) that no longer exists
# fails here, naming that file; Hydra's own error would name only the profile (graphqa.compose).
from graphqa.compose import check_saved_choice  # noqa: E402

check_saved_choice(search_from_cwd=True)
