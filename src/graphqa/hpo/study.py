"""The driver of ``graphqa hpo run``: an Optuna study (ask and tell) whose trials are DVC experiments.

Each trial is asked for its values, queued as experiment ``<study>-<trial>`` that trains one sweep member
(:mod:`graphqa.hpo.experiments`), run by DVC's queue workers, and told its objective read back from the
experiment. The study lives in SQLite (:mod:`graphqa.hpo.storage`), so a killed driver resumes: trials already
told are never run again, and trials it left running are collected from DVC (or queued if they never reached
DVC), never queued twice (docs/ARCHITECTURE.md, "Hyper-parameter search").
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphqa.compose import profile_overrides
from graphqa.config import HpoParams, Params
from graphqa.hpo.errors import HpoError, require_optuna
from graphqa.hpo.experiments import FAILED, QUEUED, RUNNING, SUCCESS, DvcExperiments
from graphqa.hpo.objective import Objective, objective
from graphqa.hpo.reporting import MONITOR_ATTR, PRUNED_AT_EPOCH, make_pruner
from graphqa.hpo.space import distributions, overrides
from graphqa.hpo.storage import open_storage, study_db
from graphqa.runs.run_dir import RunDir

SWEEP_RUNS = Path("runs/sweep")  # the train stage's run directories (dvc.yaml: runs/sweep/<member>)
SETUP_ATTR = "graphqa_setup"  # the study's user attribute fixing what its trials run (checked on resume)
ERROR_ATTR = "error"  # a failed trial's user attribute: why
WORKER_RECHECK_S = 30.0  # a trial still queued this long after the workers were started: start them again
MISSING_POLLS = 3  # an experiment absent from `dvc exp show` this many polls in a row was removed: the trial failed


def experiment_name(study: str, number: int) -> str:
    return f"{study}-{number}"


@dataclass(frozen=True)
class StudySetup:
    """What every trial of a study runs: fixed when the study is created, refused if it changes on resume."""

    name: str
    hpo: HpoParams
    target: str  # the DVC stage a trial runs: train@<member id>
    member: str  # <variant>-<seed>
    base_overrides: list[str]  # -S overrides every trial gets: the workspace's profiles
    baseline: str  # the git commit the trials' experiments are based on

    @property
    def objective(self) -> Objective:
        return objective(self.hpo.objective)

    @property
    def summary_path(self) -> str:
        return RunDir(SWEEP_RUNS / self.member).summary_file.as_posix()

    def fingerprint(self) -> dict[str, Any]:
        return {"target": self.target, "objective": self.hpo.objective, "base_overrides": self.base_overrides,
                "baseline": self.baseline, "pruning": self.hpo.pruning,
                "space": [{k: v for k, v in vars(d).items() if v is not None} for d in self.hpo.space]}

    def trial_overrides(self, values: dict[str, Any], number: int) -> list[str]:
        runtime = [f"runtime.hpo_trial='{self.name}/{number}'"] if self.hpo.pruning else []
        return [*self.base_overrides, *overrides(values), *runtime]


def git_head(root: Path) -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HpoError(f"{root}: not a git repository with a commit; DVC experiments need one")
    return result.stdout.strip()


def check_member(params: Params, hpo: HpoParams) -> None:
    """``hpo.member`` is a sweep variant of these params, and its own overlay sets no searched key (the overlay
    would win over every trial's value)."""
    if hpo.member not in params.sweep.variants:
        raise HpoError(f"hpo.member: {hpo.member!r} is not a sweep variant of params.yaml; expected one of: "
                       f"{', '.join(params.sweep.variants)}")
    for i, dim in enumerate(hpo.space):
        value: Any = params.sweep.overlays.get(hpo.member, {})
        for name in dim.key.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None:
            raise HpoError(f"hpo.space[{i}].key: sweep.overlays.{hpo.member} sets {dim.key} itself, so every trial "
                           "would train its value; search another member (hpo.member) or another key")


# Not carried from the workspace into trials: composition bookkeeping, the study's own section, runtime knobs.
_NOT_CARRIED = ("profiles.", "params_check", "hpo.", "runtime.")


def workspace_overrides(params_file: Path, profiles: list[str], config_dir: Path) -> list[str]:
    """``-S`` overrides that turn the composition of ``profiles`` into ``params_file`` (what the workspace's
    params.yaml was composed with beyond its profiles, e.g. ``graphqa params compose -p ci_fast KEY=VALUE``)."""
    import yaml

    from graphqa.compose import composed, flatten

    ran = flatten(yaml.safe_load(params_file.read_text(encoding="utf-8")) or {})
    base = flatten(composed(profiles, (), config_dir))
    changed = {k: v for k, v in ran.items() if not k.startswith(_NOT_CARRIED) and base.get(k, "<absent>") != v}
    gone = [k for k in base if not k.startswith(_NOT_CARRIED) and k not in ran]
    if gone:
        raise HpoError(f"{params_file}: {gone[0]} is missing; recompose it with `graphqa params compose`")
    return overrides(changed)


def study_setup(root: Path, params: Params, hpo: HpoParams, params_file: Path = Path("params.yaml")) -> StudySetup:
    """The setup of a study over the workspace's params: every trial runs with its profiles and the overrides
    it was composed with, plus the trial's values."""
    if not hpo.space:
        raise HpoError("hpo.space: empty; expected at least one searched key")
    check_member(params, hpo)
    member = f"{hpo.member}-{params.sweep.seeds[0]}"
    profiles = list(params.profiles)
    base = [*profile_overrides(profiles), *workspace_overrides(root / params_file, profiles, root / "params")]
    searched = {dim.key for dim in hpo.space}
    base = [o for o in base if o.partition("=")[0] not in searched]  # the trial's value wins
    return StudySetup(name=hpo.study, hpo=hpo, target=f"train@{member}", member=member, base_overrides=base,
                      baseline=git_head(root))


@dataclass
class Progress:
    """What the driver reports after each event: trials done (complete, pruned, failed), running, best so far."""

    total: int
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: int = 0
    best_trial: int | None = None
    best_value: float | None = None
    events: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.complete + self.pruned + self.failed


def _finished_counts(study: Any, progress: Progress) -> None:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    progress.complete = sum(t.state == TrialState.COMPLETE for t in trials)
    progress.pruned = sum(t.state == TrialState.PRUNED for t in trials)
    progress.failed = sum(t.state == TrialState.FAIL for t in trials)
    progress.running = sum(t.state == TrialState.RUNNING for t in trials)
    if progress.complete:
        best = study.best_trial
        progress.best_trial, progress.best_value = best.number, best.value


class TrialAttrs:
    """User attributes of a study's trials by number (Optuna's public storage API)."""

    def __init__(self, storage: Any, study_name: str) -> None:
        self.storage = storage
        self.study_id = storage.get_study_id_from_name(study_name)

    def _id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def get(self, number: int) -> dict[str, Any]:
        return dict(self.storage.get_trial_user_attrs(self._id(number)))

    def set(self, number: int, key: str, value: Any) -> None:
        self.storage.set_trial_user_attr(self._id(number), key, value)


def open_study(root: Path, setup: StudySetup, *, create: bool) -> tuple[Any, TrialAttrs]:
    """The study (created if ``create`` and absent) and its trials' attributes; HpoError if its setup differs."""
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = study_db(root, setup.name)
    if not create and not db.is_file():
        raise HpoError(f"{db.relative_to(root)}: no study {setup.name!r} here; start it with `graphqa hpo run`")
    storage: Any = open_storage(db)
    try:
        told = storage.get_n_trials(storage.get_study_id_from_name(setup.name))
    except KeyError:  # a new study
        told = 0
    # A resumed driver's sampler must not replay the draws of the first one (same seed, same sequence): its seed
    # moves on by the trials already in the study, so a fresh study stays reproducible from hpo.sampler_seed.
    seed = (setup.hpo.sampler_seed + told) % 2**32
    sampler = (optuna.samplers.TPESampler(seed=seed) if setup.hpo.sampler == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(storage=storage, study_name=setup.name, sampler=sampler,
                                pruner=make_pruner() if setup.hpo.pruning else optuna.pruners.NopPruner(),
                                direction=setup.objective.direction, load_if_exists=True)
    fingerprint = setup.fingerprint()
    recorded = study.user_attrs.get(SETUP_ATTR)
    if recorded is None:
        study.set_user_attr(SETUP_ATTR, fingerprint)
        study.set_user_attr(MONITOR_ATTR, setup.objective.monitor)
    elif recorded != fingerprint:
        changed = sorted(k for k in fingerprint if recorded.get(k) != fingerprint[k])
        raise HpoError(f"study {setup.name!r} ({db.relative_to(root)}) was started with other {', '.join(changed)} "
                       f"(was {json.dumps({k: recorded.get(k) for k in changed})}); its trials must all run the same "
                       "way: restore those, or start a new study (hpo.study / --study)")
    return study, TrialAttrs(storage, setup.name)


def run_study(root: Path, setup: StudySetup, *, report: Callable[[str, Progress], None] = lambda m, p: None,
              poll_s: float = 5.0, experiments: DvcExperiments | None = None) -> Progress:
    """Run the study to ``setup.hpo.trials`` finished trials, ``setup.hpo.parallel`` at a time; resumable."""
    from optuna.trial import TrialState

    study, attrs = open_study(root, setup, create=True)
    exps = experiments or DvcExperiments(root)
    space = distributions(setup.hpo.space)
    progress = Progress(total=setup.hpo.trials)
    pending: dict[int, str] = {}  # trial number -> experiment name
    unseen: dict[int, int] = {}  # trial number -> polls in a row its experiment was not listed

    def tell(number: int, state: Any, value: float | None = None, error: str | None = None) -> None:
        if error is not None:
            attrs.set(number, ERROR_ATTR, error[:2000])
        study.tell(number, value if state == TrialState.COMPLETE else None, state=state, skip_if_finished=True)
        pending.pop(number, None)
        _finished_counts(study, progress)
        name = experiment_name(setup.name, number)
        what = (f"{setup.objective.name} {value:.5g}" if value is not None else
                {TrialState.PRUNED: "pruned", TrialState.FAIL: f"failed: {error}"}.get(state, str(state)))
        report(f"{name}: {what}", progress)

    def queue(number: int, values: dict[str, Any]) -> None:
        name = experiment_name(setup.name, number)
        try:
            exps.queue(name, setup.trial_overrides(values, number), setup.target)
        except HpoError as exc:  # e.g. a combination the params check refuses: the trial fails, the study goes on
            pending[number] = name
            tell(number, TrialState.FAIL, error=str(exc))
            return
        pending[number] = name
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        report(f"{name}: queued ({shown})", progress)

    # Resume: trials a killed driver left running are collected from DVC, or queued if they never got there.
    known = exps.experiments()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        name = experiment_name(setup.name, trial.number)
        if name in known:
            pending[trial.number] = name
            report(f"{name}: resumed ({known[name].state})", progress)
        else:
            queue(trial.number, dict(trial.params))
    _finished_counts(study, progress)
    if pending:
        exps.start_workers(setup.hpo.parallel)
    workers_started = time.monotonic()

    while True:
        queued_now = False
        while len(pending) < setup.hpo.parallel and progress.done + len(pending) < setup.hpo.trials:
            trial = study.ask(space)
            queue(trial.number, dict(trial.params))
            queued_now = queued_now or trial.number in pending
        if queued_now:
            exps.start_workers(setup.hpo.parallel)
            workers_started = time.monotonic()
        if not pending:
            break
        time.sleep(poll_s)
        known = exps.experiments()
        waiting = any(known[name].state == QUEUED for name in pending.values() if name in known)
        if waiting and time.monotonic() - workers_started > WORKER_RECHECK_S:
            # DVC's workers exit when they find the queue empty; one that was exiting as we queued took nothing
            exps.start_workers(setup.hpo.parallel)
            workers_started = time.monotonic()
        for number, name in sorted(pending.items()):
            exp = known.get(name)
            unseen[number] = unseen.get(number, 0) + 1 if exp is None else 0
            if exp is None and unseen[number] >= MISSING_POLLS:
                tell(number, TrialState.FAIL, error=f"experiment {name} is gone from `dvc exp show` (removed?)")
            elif exp is None:
                continue  # between two of DVC's states for a moment, or really gone: look again
            elif exp.state == SUCCESS and exp.rev:
                try:
                    value = setup.objective.value(exps.read_json(exp.rev, setup.summary_path), setup.summary_path)
                except HpoError as exc:
                    tell(number, TrialState.FAIL, error=str(exc))
                else:
                    tell(number, TrialState.COMPLETE, value)
            elif exp.state == FAILED:
                if PRUNED_AT_EPOCH in attrs.get(number):
                    tell(number, TrialState.PRUNED)
                else:
                    tell(number, TrialState.FAIL, error=f"experiment {name} failed (dvc queue logs {name})")
            elif exp.state not in (QUEUED, RUNNING):
                tell(number, TrialState.FAIL, error=f"experiment {name} is {exp.state!r}")
    _finished_counts(study, progress)
    return progress


def load_existing_study(root: Path, name: str) -> Any:
    """A study ``graphqa hpo run`` created (read-only use: show, best); HpoError if there is none."""
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = study_db(root, name)
    if not db.is_file():
        raise HpoError(f"{db.relative_to(root)}: no study {name!r} here; start it with `graphqa hpo run --study {name}`")
    return optuna.load_study(study_name=name, storage=open_storage(db))


def best_trial(study: Any) -> Any:
    """The study's best complete trial; HpoError when none completed yet."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise HpoError(f"study {study.study_name!r}: no complete trial yet; run `graphqa hpo run --study "
                       f"{study.study_name}` (trials so far: {len(study.trials)})")
    return study.best_trial
