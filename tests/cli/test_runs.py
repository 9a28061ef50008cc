"""``graphqa leaderboard | summarise | monitor`` on real run dirs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time

from tests.cli.conftest import GRAPHQA


def summary(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def test_leaderboard_ranks_every_run_by_selection_score(trained, cli):
    result = cli("leaderboard", "--runs", trained.runs_dir)
    assert result.exit_code == 0, result.output
    runs = {"sweep/baseline-222": trained.run_dir, "sweep/baseline-7": trained.other_run_dir}
    ranked = sorted(runs, key=lambda name: summary(runs[name])["best"]["score"])
    lines = result.stdout.splitlines()
    positions = [next(i for i, line in enumerate(lines) if name in line) for name in ranked]
    assert positions == sorted(positions), result.stdout  # best (lowest score) first
    best_line = lines[positions[0]]
    assert best_line.split()[0] == "1" and f"{summary(runs[ranked[0]])['best']['score']:.4f}" in best_line
    assert "2 run(s) under" in result.stdout
    assert "seed" in result.stdout  # the seeds differ: a key-param column
    assert "lr=0.0050" in result.stdout  # the same for both: in the caption

    limited = cli("leaderboard", "--runs", trained.runs_dir, "--limit", "1")
    assert ranked[0] in limited.stdout and ranked[1] not in limited.stdout


def test_leaderboard_without_a_runs_dir_is_a_clean_error(cli, tmp_path):
    result = cli("leaderboard", "--runs", tmp_path / "runs")
    assert result.exit_code == 2
    assert "runs: runs directory not found" in result.stderr


def test_summarise_reports_best_scores_checkpoint_and_the_schema(trained, cli):
    from graphqa.data import FeatureSchema

    result = cli("summarise", trained.run_dir)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "completed"
    assert report["best"] == summary(trained.run_dir)["best"]
    assert report["checkpoint"] == str(trained.checkpoint)
    assert report["top_k"][0]["score"] == round(report["best"]["score"], 4)
    assert report["top_k"][0]["epoch"] == report["best"]["epoch"]
    assert report["precision"]["resolved"] == "32-true"
    assert report["key_params"]["seed"] == 222
    schema = FeatureSchema.from_dict(report["schema"])
    expected = FeatureSchema.load(trained.demo.schema_path)
    assert schema.digest() == expected.digest() == report["schema_hash"]
    assert (schema.node_dim, schema.edge_dim) == (172, 11)


def test_summarise_a_folder_that_is_not_a_run(cli, tmp_path):
    result = cli("summarise", tmp_path)
    assert result.exit_code == 2
    assert "not a run directory" in result.stderr


def test_monitor_shows_the_best_checkpoint_and_its_params(trained, cli):
    best = summary(trained.run_dir)["best"]
    result = cli("monitor", trained.run_dir)
    assert result.exit_code == 0, result.output
    text = "".join(result.stdout.split())  # the path may be folded over lines
    assert best["checkpoint"] in text
    assert f"selectionscore{best['score']:.4f}" in text
    assert "lr=0.0050" in text and "seed=222" in text
    assert "[completed]" in result.stdout
    assert "val/spearman" in result.stdout  # the latest DVCLive metrics

    followed = cli("monitor", trained.run_dir, "--follow")  # a finished run: shown once, no waiting
    assert followed.exit_code == 0 and "run completed" in followed.stdout


class Watcher:
    """``graphqa monitor RUN --follow`` in a subprocess, its output collected line by line."""

    def __init__(self, run_dir) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHQA_")}
        self.proc = subprocess.Popen([str(GRAPHQA), "monitor", str(run_dir), "--follow", "--interval", "0.2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**env, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, f"exited early: {''.join(self.lines)}{self.proc.stderr.read()}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout}s: {''.join(self.lines)}"
            time.sleep(0.1)

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout)
        return code, "".join(self.lines), self.proc.stderr.read()


def test_monitor_follows_a_training_run_until_it_ends(trained, cli, tmp_path):
    """A run dir mid-training (checkpoints, DVCLive, no summary.json yet); the run ends 2 s later."""
    live = tmp_path / "live"
    shutil.copytree(trained.run_dir, live)
    done = (live / "summary.json").read_text()
    (live / "summary.json").unlink()
    ending = threading.Timer(2.0, (live / "summary.json").write_text, args=(done,))
    ending.start()
    started = time.monotonic()
    try:
        result = cli("monitor", live, "--follow", "--interval", "0.2")
    finally:
        ending.cancel()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 2.0  # it kept following while the run trained
    assert f"following {live}" in result.stdout and "run completed" in result.stdout


def test_ctrl_c_stops_monitor_cleanly(trained, tmp_path):
    """The real console script in a subprocess, interrupted with SIGINT while it follows a training run."""
    live = tmp_path / "live"
    shutil.copytree(trained.run_dir, live)
    (live / "summary.json").unlink()
    watcher = Watcher(live)
    watcher.wait_for(f"following {live}")
    watcher.proc.send_signal(signal.SIGINT)
    code, out, err = watcher.finish()
    assert code == 0, err
    assert "stopped watching" in out and "Traceback" not in err


def test_monitor_without_follow_needs_an_existing_run_dir(cli, tmp_path):
    result = cli("monitor", tmp_path / "runs" / "nope")
    assert result.exit_code == 2
    assert "run directory not found" in result.stderr
