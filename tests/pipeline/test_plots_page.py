"""The plots page `dvc plots show` writes renders every chart in a real headless Chromium with no network.

The page's template (.dvc/config's plots.html_template, built by tools/vendor_vega.py) carries vega,
vega-lite and vega-embed itself and marks each chart's div once it rendered (docs/ARCHITECTURE.md,
"Plots"). The same page built with DVC's default template, which loads them from a CDN, renders
nothing under the same blocked network: the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import Project

pytestmark = pytest.mark.slow

# Debian's chromium, headless, with every network request failing (an unreachable proxy, no DNS).
OFFLINE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND"]
MAX_CHARTS = 15


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's ``chromium``; installed with apt when missing and the tests run as root (as in CI)."""
    exe = shutil.which("chromium")
    if exe is None and shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True, check=False,
                       capture_output=True, timeout=900)
        exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium not installed (Debian package 'chromium'; make install adds it)")
    return exe


class _Charts(HTMLParser):
    """The plot divs of a rendered page (id -> attributes) and how many SVG mark groups each holds."""

    def __init__(self) -> None:
        super().__init__()
        self.divs: dict[str, dict[str, str | None]] = {}
        self.marks: dict[str, int] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div":
            chart = attributes.get("id")
            if chart is not None and self._open == []:
                self.divs[chart] = attributes
                self.marks[chart] = 0
            self._open.append(chart if not self._open else self._open[-1])
        elif tag == "g" and self._open and "mark-" in (attributes.get("class") or ""):
            self.marks[self._open[-1]] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._open:
            self._open.pop()


def rendered_dom(chromium: str, page: Path, profile: Path) -> _Charts:
    result = subprocess.run([chromium, *OFFLINE_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=30000",
                             "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    charts = _Charts()
    charts.feed(result.stdout)
    return charts


def plot_ids(page: Path) -> list[str]:
    return re.findall(r"vegaEmbed\('#([^']+)'", page.read_text(encoding="utf-8"))


def test_every_chart_renders_offline(ci_project: Project, chromium: str, tmp_path: Path) -> None:
    ci_project.dvc("plots", "show", "-o", str(tmp_path / "page"))
    page = tmp_path / "page" / "index.html"
    ids = plot_ids(page)
    declared = yaml.safe_load((ci_project.root / "dvc.yaml").read_text())["plots"]
    assert len(ids) == len(declared) <= MAX_CHARTS, ids
    assert not re.search(r"<script[^>]*\bsrc=", page.read_text(encoding="utf-8")), "the page loads a script"
    charts = rendered_dom(chromium, page, tmp_path / "profile")
    assert set(charts.divs) == set(ids)
    failed = {i: a.get("data-render-error") for i, a in charts.divs.items() if a.get("data-rendered") != "true"}
    assert not failed, failed
    empty = [i for i in ids if charts.marks[i] == 0]
    assert not empty, f"charts with no marks: {empty}"


def test_the_cdn_page_is_blank_offline(ci_project: Project, chromium: str, tmp_path: Path) -> None:
    """DVC's own page (scripts from a CDN) under the same flags: no chart renders, so the network is blocked."""
    template = tmp_path / "cdn.html"
    template.write_text("<html><head>{scripts}</head><body>{plot_divs}</body></html>")
    ci_project.dvc("plots", "show", "--html-template", str(template), "-o", str(tmp_path / "page"))
    page = tmp_path / "page" / "index.html"
    assert "cdn.jsdelivr.net" in page.read_text(encoding="utf-8")
    charts = rendered_dom(chromium, page, tmp_path / "profile")
    assert charts.divs and not any(charts.marks.values()), charts.marks
