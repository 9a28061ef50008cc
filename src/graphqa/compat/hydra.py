"""Validation inside DVC's Hydra composition (an OmegaConf resolver), here and nowhere else.

``params/config.yaml`` ends with ``params_check: ${graphqa_check:}``. When DVC
(or ``graphqa params compose``) composes and resolves the config, the resolver
receives the whole composed tree (OmegaConf's ``_root_``), validates it with
:func:`graphqa.config.params_from_dict` and resolves to ``passed``; a
:class:`~graphqa.config.ParamsError` aborts the composition. It also refuses
while another dvc command runs in the workspace. Relies on public
OmegaConf API (``register_new_resolver`` with ``_root_``) and on DVC importing
the project's ``hydra_plugins`` package before composing (checked by
``tests/compat/test_upstream.py``).
"""

from __future__ import annotations

from typing import Any

RESOLVER = "graphqa_check"
CHECK_KEY = "params_check"
PASSED = "passed"
# Set by hydra_plugins/graphqa_params (imported by DVC only): the stages DVC is about to run use `python` from
# PATH, so check that one imports graphqa before anything is removed (graphqa.stage_python).
_check_stage_python = False


def check_composed(root: Any) -> str:
    """Validate a composed OmegaConf tree (without its ``params_check`` key); ``passed`` or ParamsError."""
    from omegaconf import OmegaConf

    from graphqa.config import params_from_dict

    refuse_while_dvc_runs()
    raw = OmegaConf.to_container(root, resolve=False)
    raw.pop(CHECK_KEY, None)
    params_from_dict(raw)
    if _check_stage_python:  # after the params: a bad key is named whatever runs the stages
        refuse_foreign_stage_python()
    return PASSED


def refuse_while_dvc_runs() -> None:
    """A second ``dvc exp run`` in a workspace where one runs would rewrite params.yaml under the first
    (which then fails and is lost): refuse before anything is written."""
    from graphqa.compat.dvc import running_dvc_commands
    from graphqa.config import ParamsError

    running = running_dvc_commands()
    if running:
        pid, cmd = running[0]
        raise ParamsError(f"params.yaml: another dvc command is running in this workspace (PID {pid}: {cmd}); "
                          "composing now would change the params under it. Wait for it to finish, or run this one "
                          "beside it with `dvc exp run --temp` or queue it with `dvc exp run --queue`")


def refuse_foreign_stage_python() -> None:
    """The stages' ``python`` (first on PATH) must import graphqa; else refuse, saying to activate .venv."""
    from graphqa.config import ParamsError
    from graphqa.stage_python import stage_python_problem

    problem = stage_python_problem()
    if problem is not None:
        raise ParamsError(problem)


def register_params_check(check_stage_python: bool = False) -> None:
    """Register the ``graphqa_check`` resolver (idempotent); ``check_stage_python``: DVC composes, stages follow."""
    global _check_stage_python
    from omegaconf import OmegaConf

    _check_stage_python = _check_stage_python or check_stage_python

    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, lambda *, _root_: check_composed(_root_))
