"""Interface graph of a two-chain model in the TopoQA / QTopoQA builder layout (for the demo dataset).

Nodes: interface residues (Cα within 10 Å of the other chain), receptor first.
172 node features named as the real builder names them:

* ``rasa`` (relative accessibility; here from the heavy-atom count around the
  residue in the complex), ``phi``, ``psi`` (min-max scaled over the model),
  ``SS8_0..7`` and ``AA_0..20`` one-hots (raw 0/1);
* 140 topological statistics ``f0_<E>_death_<stat>`` and
  ``f1_<E>_<len|birth|death>_<stat>`` for the element sets C, N, O, CN, CO,
  NO, CNO over the heavy atoms within 8 Å of the residue's Cα, min-max scaled
  over the graph. The real builder computes persistent homology (Rips H0,
  alpha H1); the demo uses cheap geometric stand-ins from nearest-neighbour
  distances of the same point clouds (H0 death ~ nearest-neighbour distance,
  H1 birth / death ~ 2nd / 4th neighbour distance), which carry the same kind
  of packing information.

Edges: residue pairs of different chains with Cα distance < 10 Å, in both
directions, with 11 features as ``edge/legacy_band/v11``: the Cα distance and
a histogram of heavy-atom distances in bins [1,2), …, [9,10), [10, inf),
min-max scaled over the graph.
"""

from __future__ import annotations

import numpy as np

from graphqa.demo.complexes import AMINO_ACIDS, ELEMENTS, NO_ATOM, SS8_STATES, Chain

INTERFACE_CUTOFF = 10.0
NEIGHBOR_DISTANCE = 8.0
LOCAL_CUTOFF = 8.0
ELEMENT_SETS: tuple[str, ...] = ("C", "N", "O", "CN", "CO", "NO", "CNO")
STATS: tuple[str, ...] = ("sum", "min", "max", "mean", "std")

TOPO_COLUMNS: list[str] = [f"f0_{e}_death_{s}" for e in ELEMENT_SETS for s in STATS] + [
    f"f1_{e}_{obj}_{s}" for e in ELEMENT_SETS for obj in ("len", "birth", "death") for s in STATS
]
NODE_COLUMNS: list[str] = (
    ["rasa", "phi", "psi"] + [f"SS8_{i}" for i in range(8)] + [f"AA_{i}" for i in range(21)] + TOPO_COLUMNS
)
EDGE_COLUMNS: list[str] = ["distance"] + [f"hist_{i}_{i + 1}" for i in range(1, 10)] + ["hist_10_inf"]
EDGE_MODULE = "edge/legacy_band/v11"
EDGE_PARAMS = {"distance_min": 0.0, "distance_max": 10.0, "scale_features": True}
EDGE_VARIANT = "legacy_v11"

assert len(NODE_COLUMNS) == 172 and len(EDGE_COLUMNS) == 11
assert len(AMINO_ACIDS) == 20 and len(SS8_STATES) == 8


def min_max(values: np.ndarray) -> np.ndarray:
    """Column-wise min-max scaling to [0, 1]; constant columns become 0 (as sklearn's MinMaxScaler)."""
    low, high = values.min(0, keepdims=True), values.max(0, keepdims=True)
    span = high - low
    return np.where(span > 0, (values - low) / np.where(span > 0, span, 1.0), 0.0)


def _cdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All-pairs distances, one coordinate at a time (no BLAS: fast and thread-free for these sizes)."""
    squared = np.zeros((len(a), len(b)), dtype=np.result_type(a, b))
    for k in range(3):
        diff = a[:, k, None] - b[None, :, k]
        squared += diff * diff
    return np.sqrt(squared)


def _nearest(d: np.ndarray, columns: np.ndarray, k: int = 4) -> np.ndarray:
    """[A, k] sorted distances from every row atom to its k nearest atoms among ``columns`` (inf-padded)."""
    sub = d[:, columns]
    if sub.shape[1] > k:
        sub = np.partition(sub, k - 1, axis=1)[:, :k]
    sub = np.sort(sub, axis=1)
    if sub.shape[1] < k:
        sub = np.concatenate([sub, np.full((len(d), k - sub.shape[1]), np.inf, dtype=sub.dtype)], 1)
    return sub


def _stats(points: np.ndarray, keep: np.ndarray, values: list[np.ndarray]) -> list[np.ndarray]:
    """sum, min, max, mean, std of each value over the atoms that are ``points`` of a row and ``keep`` (0s if none)."""
    # Counts, sums and sums of squares per row in exact integer arithmetic (values in
    # micro-ångström): no floating-point summation order, so every machine gets the
    # same bits and the demo data stays byte-identical anywhere.
    kept = [np.rint(np.where(keep, v, 0.0) * 1e6).astype(np.int64) for v in values]
    columns = np.stack([keep.astype(np.int64)] + kept + [v * v for v in kept], 1)  # [A, 1 + 2V]
    exact = points.astype(np.int64) @ columns
    sums = np.concatenate([exact[:, :1], exact[:, 1 : 1 + len(values)] / 1e6, exact[:, 1 + len(values) :] / 1e12], 1)
    count = sums[:, 0]
    mask = points & keep[None]
    out = []
    for i, v in enumerate(values):
        total, squares = sums[:, 1 + i], sums[:, 1 + len(values) + i]
        mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
        var = np.divide(squares, count, out=np.zeros_like(total), where=count > 0) - mean**2
        finite_v = np.where(keep, v, 0.0)[None]
        low = np.where(mask, finite_v, np.inf).min(1)
        high = np.where(mask, finite_v, -np.inf).max(1)
        low[count == 0] = 0.0
        high[count == 0] = 0.0
        out.append(np.stack([total, low, high, mean, np.sqrt(np.maximum(var, 0.0))], 1))
    return out


def topological_features(centres: np.ndarray, atoms: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """[R, 140] stand-in topological statistics of the atoms around each centre (unscaled)."""
    near = _cdist(centres, atoms) < NEIGHBOR_DISTANCE  # [R, A]
    region = near.any(0)
    atoms, elements, near = atoms[region], elements[region], near[:, region]
    compact = atoms.astype(np.float32)  # float32 halves the cost of the all-pairs step
    d = _cdist(compact, compact)
    np.fill_diagonal(d, np.inf)
    # Nearest neighbours per single element; those of a set of elements are merged from them.
    per_element = {e: _nearest(d, elements == ELEMENTS.index(e)) for e in "CNO"}
    f0, f1 = [], []
    for element_set in ELEMENT_SETS:
        nn = per_element[element_set] if len(element_set) == 1 else np.sort(
            np.concatenate([per_element[e] for e in element_set], 1), axis=1)[:, :4]
        in_set = np.isin(elements, [ELEMENTS.index(e) for e in element_set])
        points = near & in_set[None]
        death0, birth1, death1 = nn[:, 0], nn[:, 1], nn[:, 3]
        length1 = death1 - birth1
        f0 += _stats(points, np.isfinite(death0) & (death0 <= LOCAL_CUTOFF), [death0])
        f1 += _stats(points, np.isfinite(death1) & (length1 >= 0.01), [length1, birth1, death1])
    return np.concatenate(f0 + f1, 1).astype(np.float64)


def interface_graph(receptor: Chain, ligand: Chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x float32 [N, 172], edge_index int64 [2, E], edge_attr float32 [E, 11]) of a two-chain model."""
    ca_d = _cdist(receptor.ca, ligand.ca)
    rec_idx = np.nonzero(ca_d.min(1) < INTERFACE_CUTOFF)[0]
    lig_idx = np.nonzero(ca_d.min(0) < INTERFACE_CUTOFF)[0]
    n_rec = len(rec_idx)

    # ---- edges: inter-chain pairs within the distance window, both directions
    pair_r, pair_l = np.nonzero(ca_d[np.ix_(rec_idx, lig_idx)] < INTERFACE_CUTOFF)
    a_atoms, a_mask = receptor.atoms[rec_idx[pair_r]], receptor.mask[rec_idx[pair_r]]
    b_atoms, b_mask = ligand.atoms[lig_idx[pair_l]], ligand.mask[lig_idx[pair_l]]
    d = np.sqrt(((a_atoms[:, :, None] - b_atoms[:, None]) ** 2).sum(-1))  # [P, K, K]
    valid = a_mask[:, :, None] & b_mask[:, None] & (d >= 1.0)
    bins = np.minimum(np.floor(d).astype(np.int64), 10) - 1  # [1,2) -> 0 ... [10,inf) -> 9
    rows = np.repeat(np.arange(len(pair_r)), valid.reshape(len(pair_r), -1).sum(1))
    hist = np.zeros((len(pair_r), 10))
    np.add.at(hist, (rows, bins[valid]), 1.0)
    pair_features = np.concatenate([ca_d[rec_idx[pair_r], lig_idx[pair_l]][:, None], hist], 1)
    src = np.concatenate([pair_r, n_rec + pair_l])
    dst = np.concatenate([n_rec + pair_l, pair_r])
    order = np.lexsort((dst, src))
    edge_index = np.stack([src, dst])[:, order].astype(np.int64)
    edge_attr = min_max(np.concatenate([pair_features, pair_features])[order])

    # ---- nodes
    chains = ((receptor, rec_idx), (ligand, lig_idx))
    all_atoms = np.concatenate([c.atoms[c.mask] for c, _ in chains])
    all_elements = np.concatenate([c.elements[c.mask] for c, _ in chains])
    centres = np.concatenate([c.ca[i] for c, i in chains])
    residue_centres = np.concatenate(
        [(c.atoms[i] * c.mask[i][..., None]).sum(1) / c.mask[i].sum(1, keepdims=True) for c, i in chains]
    )
    crowd = (_cdist(residue_centres, all_atoms) < 10.0).sum(1)
    rasa = np.clip((150.0 - crowd) / 110.0, 0.0, 1.0)
    phi_all = np.concatenate([receptor.phi, ligand.phi])
    psi_all = np.concatenate([receptor.psi, ligand.psi])
    phi = (np.concatenate([c.phi[i] for c, i in chains]) - phi_all.min()) / max(np.ptp(phi_all), 1e-9)
    psi = (np.concatenate([c.psi[i] for c, i in chains]) - psi_all.min()) / max(np.ptp(psi_all), 1e-9)
    ss8 = np.eye(8)[np.concatenate([c.ss8[i] for c, i in chains])]
    aa = np.eye(21)[np.concatenate([c.residue_types[i] for c, i in chains])]
    topo = min_max(topological_features(centres, all_atoms, all_elements))
    x = np.concatenate([rasa[:, None], phi[:, None], psi[:, None], ss8, aa, topo], 1)
    assert (all_elements != NO_ATOM).all()
    return x.astype(np.float32), edge_index, edge_attr.astype(np.float32)
