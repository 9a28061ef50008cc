"""Acceptance of issue 19 with the real dvc CLI: a 4-trial study on ci_fast, 2 at a time, whose trials are rows of
`dvc exp show`; its driver killed mid-study and rerun resumes without repeating a trial; `graphqa hpo best` writes
a profile that `dvc exp run -S profile=hpo_<study>` runs end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import BIN, Project, make_project

pytestmark = pytest.mark.slow

STUDY = "acc"
SPACE = ("hpo.space=[{key:optimizer.lr,type:float,low:0.0005,high:0.01,log:true},"
         "{key:model.hidden_dim,type:categorical,choices:[16,32]}]")


def _study(root: Path):
    import optuna

    from graphqa.hpo.storage import open_storage, study_db

    return optuna.load_study(study_name=STUDY, storage=open_storage(study_db(root, STUDY)))


def _states(root: Path) -> list[str]:
    try:
        return [t.state.name for t in _study(root).trials]
    except Exception:  # noqa: BLE001 - the driver has not created the study yet
        return []


def _experiments(project: Project) -> dict[str, dict]:
    shown = json.loads(project.dvc("exp", "show", "--json").stdout)
    rows = {}
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for rev in exp.get("revs") or []:
                rows.setdefault(rev["name"], []).append({**(rev.get("data") or {}), "rev": rev["rev"]})
    return rows


def test_study_runs_resumes_and_its_best_profile_runs_the_pipeline(tmp_path_factory: pytest.TempPathFactory) -> None:
    clock = {"start": time.monotonic()}
    project = make_project(tmp_path_factory.mktemp("hpo") / "repo")
    project.graphqa("params", "compose", "--profile", "ci_fast", f"hpo.study={STUDY}", "hpo.trials=4",
                    "hpo.parallel=2", SPACE)
    project.commit("hpo params")
    project.dvc("repro", "pack")  # the trials' shared inputs once; every trial restores them from the run-cache
    clock["setup"] = time.monotonic()
    root = project.root
    run = [str(BIN / "graphqa"), "hpo", "run", "--poll", "2"]

    # 1. start the study; kill the driver once a trial is told and others are in DVC's queue
    driver = subprocess.Popen(run, cwd=root, env=project.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and driver.poll() is None:
        states = _states(root)
        if "COMPLETE" in states and "RUNNING" in states:
            break
        time.sleep(2)
    assert driver.poll() is None, f"driver ended before it could be killed: {driver.communicate()[0]}"
    driver.send_signal(signal.SIGKILL)
    first_out = driver.communicate()[0]
    before = _study(root).trials
    told_before = {t.number: (t.params, t.value) for t in before if t.state.name == "COMPLETE"}
    assert told_before and any(t.state.name == "RUNNING" for t in before), first_out

    # 2. rerun: collects the killed driver's trials from DVC, asks only what is missing
    second = project.graphqa("hpo", "run", "--poll", "2")
    clock["study"] = time.monotonic()
    assert "resumed" in second.stdout, second.stdout
    trials = _study(root).trials
    assert [t.number for t in trials] == [0, 1, 2, 3], [(t.number, t.state) for t in trials]
    assert all(t.state.name == "COMPLETE" for t in trials), [(t.number, t.state, t.user_attrs) for t in trials]
    for number, (params, value) in told_before.items():  # a told trial is never run or told again
        assert (trials[number].params, trials[number].value) == (params, value)
        assert f"{STUDY}-{number}:" not in second.stdout.replace(f"{STUDY}-{number}: resumed", "")
    assert "4/4 done" in second.stdout
    drawn = {tuple(sorted(t.params.items())) for t in trials}
    assert len(drawn) == 4, f"a resumed driver replayed draws: {[t.params for t in trials]}"

    # every trial is one row of `dvc exp show`, with the params it was given and its member's metrics
    rows = _experiments(project)
    base_lock = yaml.safe_load(project.run("git", "show", "HEAD:dvc.lock").stdout)["stages"]  # the committed baseline
    for trial in trials:
        data = rows[f"{STUDY}-{trial.number}"]
        assert len(data) == 1, f"{STUDY}-{trial.number} ran {len(data)} times"
        params = data[0]["params"]["params.yaml"]["data"]
        assert params["optimizer"]["lr"] == pytest.approx(trial.params["optimizer.lr"])
        assert params["model"]["hidden_dim"] == trial.params["model.hidden_dim"]
        assert params["profiles"] == {"ci_fast": True}
        lock = yaml.safe_load(project.run("git", "show", f"{data[0]['rev']}:dvc.lock").stdout)["stages"]
        ran = {name for name, entry in lock.items() if base_lock.get(name) != entry}  # what the trial ran
        assert "train@baseline-222" in ran and ran <= {"check_params", "schema", "pack", "train@baseline-222"}, ran
    queue = project.dvc("queue", "status").stdout
    for trial in trials:
        assert queue.count(f" {STUDY}-{trial.number} ") == 1, queue

    shown = project.graphqa("hpo", "show").stdout
    assert "best: trial" in shown and "importances" in shown

    # 3. the best trial as a profile, and the whole pipeline with it
    best = _study(root).best_trial
    project.graphqa("hpo", "best")
    profile = root / "params" / "profile" / f"hpo_{STUDY}.yaml"
    assert f"trial {best.number}" in profile.read_text().splitlines()[1]
    clock["best"] = time.monotonic()
    project.dvc("exp", "run", "--temp", "-n", "best-rerun", "-S", f"profile=hpo_{STUDY}")
    clock["rerun"] = time.monotonic()
    print(f"\nhpo e2e timings (s): setup {clock['setup'] - clock['start']:.0f}, study of 4 trials with a kill "
          f"{clock['study'] - clock['setup']:.0f}, show+best {clock['best'] - clock['study']:.0f}, "
          f"pipeline with the best profile {clock['rerun'] - clock['best']:.0f}")
    rerun = _experiments(project)["best-rerun"][0]
    params = rerun["params"]["params.yaml"]["data"]
    assert params["profiles"] == {f"hpo_{STUDY}": True}
    assert params["optimizer"]["lr"] == pytest.approx(best.params["optimizer.lr"])
    assert params["trainer"]["max_epochs"] == 2  # ci_fast's changes come with the profile
    # evaluate ran: its headline, read from the experiment's commit (whichever files dvc.yaml calls metrics)
    from graphqa.hpo.experiments import DvcExperiments

    headline = DvcExperiments(root).read_json(rerun["rev"], "eval/headline.json")
    assert isinstance(headline["test_spearman"], float) and headline["final_candidate"]
