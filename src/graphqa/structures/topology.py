"""Persistent-homology statistics of the heavy atoms around a residue (GUDHI).

For each of the 7 element selections {C}, {N}, {O}, {C,N}, {C,O}, {N,O}, {C,N,O} of
the heavy atoms within ``NEIGHBOURHOOD`` (8 Å) of the residue's Cα (all chains, the
residue's own atoms included, "within" meaning a distance < 8 Å), 20 numbers:

* **H0 of a Vietoris–Rips filtration** (``gudhi.RipsComplex``, filtration value =
  edge length in Å, edges up to 8 Å): the bars with death ≤ 8 Å and lifetime ≥ 0.01 Å;
  sum, min, max, mean, std of their deaths (5). Every H0 bar is born at 0, so its
  lifetime is its death. The one infinite bar (the component that never dies) has no
  finite death and is left out, as are components still separate at 8 Å.
* **H1 of an alpha complex** (``gudhi.AlphaComplex``): GUDHI's alpha filtration
  values are *squared* radii; they are converted to radii in Å (square root) so
  births and deaths are in the same unit as the Rips deaths. The bars with lifetime
  ≥ 0.01 Å; sum, min, max, mean, std of their lifetime, of their birth and of their
  death (15).

``std`` is the population standard deviation (ddof 0). A selection with no atoms,
or with no bar left after the filters, gives zeros for its statistics. The
ordering of the 140 numbers is selection-major: for each selection, the 5 H0 numbers
then the 15 H1 numbers (see :func:`ph_columns`).

Known diagrams (the tests check them): a square of side a has 3 finite H0 deaths
of a and an H1 bar [a/2, a/√2]; an equilateral triangle of side a has 2 H0 deaths
of a and an H1 bar [a/2, a/√3]; two points 20 Å apart have no finite H0 death
below 8 Å and no H1 bar.
"""

from __future__ import annotations

import numpy as np

from graphqa.structures.errors import require

NEIGHBOURHOOD = 8.0
RIPS_MAX_EDGE = 8.0
MIN_LIFETIME = 0.01
SELECTIONS: tuple[tuple[str, ...], ...] = (
    ("C",), ("N",), ("O",), ("C", "N"), ("C", "O"), ("N", "O"), ("C", "N", "O"),
)
STATS = ("sum", "min", "max", "mean", "std")
PER_SELECTION = 20


def stats(values: np.ndarray) -> list[float]:
    """sum, min, max, mean, std (ddof 0); zeros for an empty array."""
    if values.size == 0:
        return [0.0] * len(STATS)
    return [float(values.sum()), float(values.min()), float(values.max()), float(values.mean()), float(values.std())]


def h0_deaths(points: np.ndarray) -> np.ndarray:
    """Finite H0 deaths (Å) of the Rips filtration, filtered (death ≤ 8 Å, lifetime ≥ 0.01 Å), sorted."""
    if len(points) < 2:
        return np.zeros(0)
    gudhi = require("gudhi")
    tree = gudhi.RipsComplex(points=points, max_edge_length=RIPS_MAX_EDGE).create_simplex_tree(max_dimension=1)
    tree.compute_persistence()
    bars = np.asarray(tree.persistence_intervals_in_dimension(0), dtype=np.float64).reshape(-1, 2)
    deaths = bars[:, 1]
    keep = np.isfinite(deaths) & (deaths <= RIPS_MAX_EDGE) & (deaths - bars[:, 0] >= MIN_LIFETIME)
    return np.sort(deaths[keep])


def h1_bars(points: np.ndarray) -> np.ndarray:
    """H1 bars [birth, death] (Å, radii) of the alpha complex with lifetime ≥ 0.01 Å, sorted."""
    if len(points) < 3:
        return np.zeros((0, 2))
    gudhi = require("gudhi")
    tree = gudhi.AlphaComplex(points=points).create_simplex_tree()
    tree.compute_persistence()
    bars = np.asarray(tree.persistence_intervals_in_dimension(1), dtype=np.float64).reshape(-1, 2)
    bars = np.sqrt(np.clip(bars, 0.0, None))
    bars = bars[np.isfinite(bars[:, 1]) & (bars[:, 1] - bars[:, 0] >= MIN_LIFETIME)]
    order = np.lexsort((bars[:, 1], bars[:, 0]))
    return bars[order]


def selection_features(points: np.ndarray) -> list[float]:
    """The 20 numbers of one point cloud: H0 death stats (5), H1 lifetime, birth, death stats (15)."""
    deaths = h0_deaths(points)
    bars = h1_bars(points)
    return stats(deaths) + stats(bars[:, 1] - bars[:, 0]) + stats(bars[:, 0]) + stats(bars[:, 1])


def residue_topology(center: np.ndarray, coords: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """The 140 statistics of the atoms (``coords`` [M, 3], ``elements`` [M]) within 8 Å of ``center``."""
    near = np.sqrt(((coords - center) ** 2).sum(-1)) < NEIGHBOURHOOD
    local, local_el = coords[near], elements[near]
    out: list[float] = []
    for selection in SELECTIONS:
        out += selection_features(local[np.isin(local_el, selection)])
    return np.asarray(out, dtype=np.float64)


def ph_columns() -> list[str]:
    """Names of the 140 columns, in order."""
    names = []
    for selection in SELECTIONS:
        sel = "".join(selection)
        names += [f"ph_{sel}_h0_death_{s}" for s in STATS]
        for quantity in ("lifetime", "birth", "death"):
            names += [f"ph_{sel}_h1_{quantity}_{s}" for s in STATS]
    return names
