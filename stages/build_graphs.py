"""DVC stage ``graphs`` (for projects whose input is structures): structures -> graphs (+ DockQ labels).

Writes ``<out>/graphs/<TARGET>/<MODEL>.pt``, ``<out>/graphs/graph_metadata.json``,
``<out>/labels/{train,val,test}.csv`` (with --natives) and ``<out>/build_report.json``;
structures that fail are named in the report and skipped. Needs the ``structures``
extra and mkdssp. See examples/real_structures/dvc.yaml.

Example: python stages/build_graphs.py --structures structures/ --natives natives/ --out data
"""

from __future__ import annotations

import argparse

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", required=True, help="<TARGET>/<MODEL>.pdb|.cif[.gz] files (or flat)")
    parser.add_argument("--natives", default=None, help="<TARGET>.pdb|.cif natives: writes DockQ labels")
    parser.add_argument("--out", default="data", help="dataset directory (graphs/, labels/, build_report.json)")
    parser.add_argument("--chains", action="append", default=None, help="chain pair A:B (repeatable; default all)")
    parser.add_argument("--workers", type=int, default=0, help="processes (0: one per CPU, up to 8)")
    parser.add_argument("--splits", default=None, help="JSON target -> train|val|test (default: seeded split)")
    parser.add_argument("--seed", type=int, default=222, help="seed of the split by target")
    args = parser.parse_args(argv)

    def body() -> None:
        import logging

        from graphqa.data.progress import progress_bar
        from graphqa.structures.build import build_dataset
        from graphqa.structures.interface import parse_chain_pairs

        with progress_bar("graphs: featurizing structures") as progress:
            report = build_dataset(args.structures, args.out, args.natives, chain_pairs=parse_chain_pairs(args.chains),
                                   workers=args.workers, overwrite=True, splits_file=args.splits, seed=args.seed,
                                   progress=progress)
        log = logging.getLogger("graphqa.stage")
        log.info("graphs: %d of %d structures featurized, %.2f s each on average; labels %s",
                 report["graphs"], report["structures"], (report["seconds_per_structure"] or {}).get("mean", 0.0),
                 report["labels"])
        for failure in report["failures"]:
            log.warning("skipped (%s): %s", failure["kind"], failure["message"])
        if report["graphs"] == 0:
            raise ValueError(f"no structure could be featurized; see {args.out}/build_report.json")

    run_stage("graphs", body)


if __name__ == "__main__":
    main()
