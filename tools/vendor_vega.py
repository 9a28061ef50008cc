"""Build ``.dvc/plots/page.html``: DVC's plots page with vega, vega-lite and vega-embed inlined (renders offline).

``dvc plots show`` fills the HTML template named by ``.dvc/config``'s ``plots.html_template``.
DVC's default page loads the three libraries from a CDN, so it is blank without a network
(clusters, air-gapped labs). This template has no ``{scripts}`` placeholder (where DVC would put
the CDN tags) and carries the minified libraries themselves, each after its BSD-3-Clause licence;
the licences are also kept beside it in ``.dvc/plots/licenses/`` (docs/ARCHITECTURE.md, "Plots").

The versions are the ones dvc-render's own page loads (``dvc_render.vega.VegaRenderer.SCRIPTS``).
To rebuild (after a dvc-render upgrade changes them), with the npm client::

    npm pack vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2   # in a scratch folder
    python -m tools.vendor_vega <scratch folder>
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLOTS_DIR = ROOT / ".dvc" / "plots"
PAGE = PLOTS_DIR / "page.html"
LICENSES = PLOTS_DIR / "licenses"
# package -> (version, minified build inside the npm tarball); load order matters (vega-lite needs vega).
PACKAGES = {
    "vega": ("5.20.2", "package/build/vega.min.js"),
    "vega-lite": ("5.2.0", "package/build/vega-lite.min.js"),
    "vega-embed": ("6.18.2", "package/build/vega-embed.min.js"),
}
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=\S+\s*$")
# The placeholders dvc-render replaces in the template: none may occur inside the inlined code.
_PLACEHOLDERS = ("{scripts}", "{plot_divs}", "{refresh_tag}")

PAGE_HEAD = """<!DOCTYPE html>
<!-- graphqa's DVC plots page (dvc plots show / dvc plots diff), built by tools/vendor_vega.py: do not edit by hand.
     vega, vega-lite and vega-embed are inlined so the page renders with no network. -->
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>graphqa plots</title>
    <style>
        body { font-family: sans-serif; margin: 16px; }
        body > div { display: inline-block; vertical-align: top; margin: 0 24px 24px 0; }
    </style>
"""

# After the libraries: every chart as SVG, and each chart's div says whether it rendered
# (data-rendered="true", or data-render-error and the message on the page), which
# tests/pipeline/test_plots_page.py reads in a headless browser.
RENDER_STATUS = """<script>
(function (embed) {
    window.vegaEmbed = function (el, spec, opts) {
        var div = typeof el === "string" ? document.querySelector(el) : el;
        return embed(el, spec, Object.assign({renderer: "svg"}, opts || {})).then(function (result) {
            div.setAttribute("data-rendered", "true");
            return result;
        }, function (error) {
            div.setAttribute("data-render-error", String(error));
            div.appendChild(document.createTextNode("This chart did not render: " + error));
            throw error;
        });
    };
})(window.vegaEmbed);
</script>
"""

PAGE_TAIL = """</head>
<body>
    {plot_divs}
</body>
</html>
"""


def _member(tarball: Path, name: str) -> str:
    with tarfile.open(tarball) as archive:
        handle = archive.extractfile(name)
        if handle is None:
            raise SystemExit(f"{tarball}: {name} is not a file")
        return handle.read().decode("utf-8")


def build(tarballs_dir: Path) -> int:
    """Write the page and the licence files from the npm tarballs in ``tarballs_dir``; returns the page's bytes."""
    scripts = []
    LICENSES.mkdir(parents=True, exist_ok=True)
    for package, (version, build_file) in PACKAGES.items():
        tarball = tarballs_dir / f"{package}-{version}.tgz"
        if not tarball.is_file():
            raise SystemExit(f"{tarball}: not found (npm pack {package}@{version} in {tarballs_dir})")
        licence = _member(tarball, "package/LICENSE")
        code = _SOURCE_MAP.sub("", _member(tarball, build_file)).rstrip()
        for bad in (*_PLACEHOLDERS, "</script"):
            if bad in code:
                raise SystemExit(f"{tarball}: {build_file} contains {bad!r}; it cannot be inlined in the page")
        (LICENSES / f"{package}.LICENSE").write_text(licence, encoding="utf-8")
        comment = f"/*! {package} {version} (npm), {build_file.removeprefix('package/')}\n{licence.strip()}\n*/"
        scripts.append(f"<script>\n{comment}\n{code}\n</script>\n")
    text = PAGE_HEAD + "".join(scripts) + RENDER_STATUS + PAGE_TAIL
    PAGE.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit(__doc__)
    size = build(Path(args[0]))
    print(f"{PAGE.relative_to(ROOT)}: {size} bytes")


if __name__ == "__main__":
    main()
