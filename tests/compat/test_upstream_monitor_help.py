"""Canaries (docs/ARCHITECTURE.md, "Layout") for the upstream internals graphqa.compat.dvc (experiment copies) and graphqa.compat.typer read."""

from __future__ import annotations

import dataclasses


def test_dvc_executor_info_layout_is_the_one_we_read() -> None:
    from dvc.repo.experiments.executor.base import BaseExecutor, ExecutorInfo, TaskStatus
    from dvc.repo.experiments.queue.tempdir import _STANDALONE_TMP_DIR
    from dvc.repo.experiments.utils import EXEC_PID_DIR, EXEC_TMP_DIR

    from graphqa.compat.dvc import EXECUTOR_INFO_GLOBS, EXECUTOR_STATUS, EXPS_DIR

    assert (EXEC_TMP_DIR, EXEC_PID_DIR, BaseExecutor.INFOFILE_EXT) == ("exps", "run", ".run")
    assert EXPS_DIR.name == EXEC_TMP_DIR and f"{EXEC_TMP_DIR}/standalone" == _STANDALONE_TMP_DIR
    assert (f"{EXEC_PID_DIR}/*/*.run", f"standalone/{EXEC_PID_DIR}/*/*.run") == EXECUTOR_INFO_GLOBS
    assert {s.value: s.name.lower() for s in TaskStatus} == {**EXECUTOR_STATUS, 0: "pending"}
    assert {"root_dir", "name", "status"} <= {f.name for f in dataclasses.fields(ExecutorInfo)}


def test_typer_renders_the_option_type_through_display_type_rich() -> None:
    import inspect

    import typer.rich_utils
    from typer.core import TyperOption

    assert "display_type_rich" in inspect.getsource(typer.rich_utils._print_options_panel)
    assert hasattr(TyperOption, "display_type_rich")
