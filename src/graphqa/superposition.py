"""Optimal superposition (Kabsch) and RMSD: shared by the demo's synthetic DockQ and the structures' real one."""

from __future__ import annotations

import numpy as np


def kabsch(mobile: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising ``|mobile @ R.T + t - reference|``."""
    mc, rc = mobile.mean(0), reference.mean(0)
    h = (mobile - mc).T @ (reference - rc)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, rc - mc @ rotation.T


def rmsd(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square distance between matched points."""
    return float(np.sqrt(((a - b) ** 2).sum(-1).mean()))
