"""``graphqa hpo run | show | best``: Optuna studies whose trials are DVC experiments (graphqa[hpo] extra)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Hyper-parameter search: an Optuna study whose trials are DVC experiments.",
                  no_args_is_help=True)

StudyOption = Annotated[str | None, typer.Option("--study", "-s", help="Study name (default: hpo.study).")]
ParamsOption = Annotated[Path, typer.Option("--params", help="Params file with the hpo section.")]


def _project_root() -> Path:
    root = Path.cwd()
    if not (root / "dvc.yaml").is_file():
        from graphqa.hpo.errors import HpoError

        raise HpoError(f"{root}: no dvc.yaml here; run graphqa hpo in the project's root")
    return root


def _study_name(study: str | None, params_path: Path) -> str:
    from graphqa.config import check_study_name, load_params

    return check_study_name(study, "--study") if study is not None else load_params(params_path).hpo.study


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@app.command("run")
def run_cmd(
    study: StudyOption = None,
    trials: Annotated[int | None, typer.Option("--trials", "-n", help="Trials in the study (default: hpo.trials).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Trials at once (default: hpo.parallel).")] = None,
    pruning: Annotated[bool | None, typer.Option("--pruning/--no-pruning", help="Default: hpo.pruning.")] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between looks at DVC's queue.")] = 5.0,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Run (or resume) a study: each trial is `dvc exp run --queue -n <study>-<trial> -S …` of one training member.

    Trials start from the profiles params.yaml was composed with. A killed run resumes where it stopped.

    Example: graphqa params compose --profile ci_fast && graphqa hpo run --study lr_probe --trials 4 -j 2
    """
    from rich.console import Console

    from graphqa.config import load_params
    from graphqa.hpo.driver_lock import driver_lock
    from graphqa.hpo.errors import require_optuna
    from graphqa.hpo.experiments import DvcExperiments
    from graphqa.hpo.study import run_study, study_setup

    require_optuna()
    root = _project_root()
    console = Console(highlight=False)
    with driver_lock(root, say=console.print) as lock_fd:  # held from before params.yaml is read (driver_lock: why)
        params = load_params(params_path)
        changes = {k: v for k, v in {"study": study, "trials": trials, "parallel": jobs, "pruning": pruning}.items()
                   if v is not None}
        hpo = dataclasses.replace(params.hpo, **changes)  # validated again (HpoParams.__post_init__)
        setup = study_setup(root, params, hpo, params_path)
        console.print(f"study [bold]{setup.name}[/bold]: {hpo.trials} trials of {setup.target}, {hpo.parallel} at "
                      f"once, {setup.objective.direction} {setup.objective.name}; base: "
                      f"{' '.join(setup.base_overrides) or 'defaults'}{'; pruning on' if hpo.pruning else ''}")

        def report(message: str, progress: Any) -> None:
            best = (f"best {setup.objective.name} {progress.best_value:.5g} (trial {progress.best_trial})"
                    if progress.best_trial is not None else "no best yet")
            console.print(f"[{progress.done}/{progress.total} done, {progress.running} running, {best}] {message}")

        progress = run_study(root, setup, report=report, poll_s=poll, experiments=DvcExperiments(root, lock_fd))
    console.print(f"study {setup.name}: {progress.complete} complete, {progress.pruned} pruned, {progress.failed} "
                  f"failed. Next: graphqa hpo show --study {setup.name}; graphqa hpo best --study {setup.name}")


@app.command("show")
def show_cmd(study: StudyOption = None, params_path: ParamsOption = Path("params.yaml")) -> None:
    """The study's trials (one DVC experiment each), its best trial and the parameter importances.

    Example: graphqa hpo show --study lr_probe
    """
    from rich.console import Console
    from rich.table import Table

    from graphqa.hpo.report import importances, trial_rows
    from graphqa.hpo.study import load_existing_study

    name = _study_name(study, params_path)
    loaded = load_existing_study(_project_root(), name)
    rows = trial_rows(loaded)
    keys = sorted({k for row in rows for k in row.params})
    table = Table("trial", "experiment", "state", "value", *keys, "note", box=None)
    for row in rows:
        table.add_row(str(row.number), row.experiment, row.state, _fmt(row.value) if row.value is not None else "",
                      *(_fmt(row.params.get(k, "")) for k in keys), row.note)
    console = Console(highlight=False)
    console.print(table)
    complete = [row for row in rows if row.state == "complete"]
    if complete:
        best = loaded.best_trial
        console.print(f"best: trial {best.number} ({name}-{best.number}), value {best.value:.6g}: "
                      + ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items()))
    weights, why_not = importances(loaded)
    if weights:
        console.print("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items()))
    else:
        console.print(why_not)


@app.command("best")
def best_cmd(study: StudyOption = None, params_path: ParamsOption = Path("params.yaml")) -> None:
    """Write the best trial's params as params/profile/hpo_<study>.yaml, a profile the whole pipeline reruns with.

    Example: graphqa hpo best --study lr_probe && dvc exp run -S profile=hpo_lr_probe
    """
    from graphqa.hpo.profile import profile_name, write_best_profile

    name = _study_name(study, params_path)
    path, trial = write_best_profile(_project_root(), name)
    typer.echo(f"wrote {path.relative_to(Path.cwd())} (trial {trial.number}, value {trial.value:.6g}); "
               f"rerun the pipeline with: dvc exp run -S profile={profile_name(name)}")
