"""Edge features: the Cα–Cα distance and a histogram of heavy-atom pair distances (11 numbers).

For an edge (i, j) the histogram counts every pair (one heavy atom of residue i, one
of residue j) by its Euclidean distance computed with the true x, y, z coordinates
(the TopoQA release computed it with (x, y, y), a defect this module does not
reproduce). The 10 bins are [0, 2), [2, 3), [3, 4), ..., [9, 10), [10, ∞) Å, so
every pair is counted once and the counts add up to n_atoms(i) × n_atoms(j). Counts
are raw (not normalised). The features of (i, j) and (j, i) are identical.
"""

from __future__ import annotations

import numpy as np

EDGE_MODULE = "edge/topoqa_spec/v1"
BIN_EDGES = (0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, float("inf"))


def edge_columns() -> list[str]:
    names = ["ca_distance"]
    for low, high in zip(BIN_EDGES[:-1], BIN_EDGES[1:], strict=True):
        names.append(f"hist_{low:g}_{'inf' if high == float('inf') else f'{high:g}'}")
    return names


def pair_histogram(coords_i: np.ndarray, coords_j: np.ndarray) -> np.ndarray:
    """Counts of the heavy-atom pair distances of two residues in the 10 bins."""
    d = np.sqrt(((coords_i[:, None, :] - coords_j[None, :, :]) ** 2).sum(-1)).ravel()
    inner = np.asarray(BIN_EDGES[1:-1])
    return np.bincount(np.searchsorted(inner, d, side="right"), minlength=len(BIN_EDGES) - 1).astype(np.float64)


def edge_features(edge_index: np.ndarray, ca: np.ndarray, coords: list[np.ndarray]) -> np.ndarray:
    """[E, 11] features for ``edge_index`` over nodes with Cα ``ca`` and heavy atoms ``coords``."""
    out = np.zeros((edge_index.shape[1], 1 + len(BIN_EDGES) - 1), dtype=np.float64)
    cache: dict[tuple[int, int], np.ndarray] = {}
    for e, (i, j) in enumerate(edge_index.T.tolist()):
        key = (min(i, j), max(i, j))
        if key not in cache:
            a, b = key
            cache[key] = np.concatenate([[np.sqrt(((ca[a] - ca[b]) ** 2).sum())],
                                         pair_histogram(coords[a], coords[b])])
        out[e] = cache[key]
    return out
