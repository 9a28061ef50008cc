"""Persistent-homology statistics against point clouds whose diagrams are known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphqa.structures import topology

from .conftest import needs_structures_extra

needs_structures_extra()


def h0(points):
    return topology.selection_features(np.asarray(points, dtype=float))[:5]


def h1(points):
    """(lifetime, birth, death) stats: 3 x [sum, min, max, mean, std]."""
    f = topology.selection_features(np.asarray(points, dtype=float))[5:]
    return f[0:5], f[5:10], f[10:15]


def test_square_of_side_two():
    square = [[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0]]
    # H0: the 4 points merge at the side length, 3 finite deaths of 2 (the 4th bar is infinite, left out).
    assert h0(square) == pytest.approx([6.0, 2.0, 2.0, 2.0, 0.0])
    # H1 (alpha, radii in Å): the 4-cycle is born at half the side (1) and dies at half the diagonal (√2).
    life, birth, death = h1(square)
    assert birth == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.0])
    assert death == pytest.approx([math.sqrt(2)] * 4 + [0.0])
    assert life == pytest.approx([math.sqrt(2) - 1] * 4 + [0.0])


def test_equilateral_triangle_of_side_two():
    tri = [[0, 0, 0], [2, 0, 0], [1, math.sqrt(3), 0]]
    assert h0(tri) == pytest.approx([4.0, 2.0, 2.0, 2.0, 0.0])
    # The 3-cycle: born when the last edge enters (half the side, 1), dies at the circumradius 2/√3.
    life, birth, death = h1(tri)
    assert birth[:4] == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert death[:4] == pytest.approx([2 / math.sqrt(3)] * 4)
    assert life[0] == pytest.approx(2 / math.sqrt(3) - 1)


def test_two_far_points_have_no_finite_bar():
    # 20 Å apart: no Rips edge up to 8 Å, so both H0 bars are infinite and left out; no H1.
    assert topology.selection_features(np.array([[0.0, 0, 0], [20.0, 0, 0]])) == [0.0] * 20
    # 5 Å apart: one finite death of 5.
    assert h0([[0, 0, 0], [5, 0, 0]]) == pytest.approx([5.0, 5.0, 5.0, 5.0, 0.0])


def test_stats_are_sum_min_max_mean_population_std():
    assert topology.stats(np.array([1.0, 2.0, 4.0])) == pytest.approx([7.0, 1.0, 4.0, 7 / 3, np.std([1, 2, 4])])
    assert topology.stats(np.zeros(0)) == [0.0] * 5


def test_h0_of_a_line_of_points():
    # 0, 1, 3, 6 on a line: single-linkage merges at 1, 2, 3 (the gaps), the 4th bar is infinite.
    assert h0([[0, 0, 0], [1, 0, 0], [3, 0, 0], [6, 0, 0]]) == pytest.approx([6.0, 1.0, 3.0, 2.0, np.std([1, 2, 3])])
    # A gap above 8 Å splits the cloud: that merge is not a finite death <= 8 Å.
    assert h0([[0, 0, 0], [1, 0, 0], [10, 0, 0]]) == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.0])


def test_empty_selection_and_min_lifetime():
    assert topology.selection_features(np.zeros((0, 3))) == [0.0] * 20
    # Two points 0.005 Å apart die below the 0.01 Å lifetime threshold: not counted.
    assert h0([[0, 0, 0], [0.005, 0, 0]]) == [0.0] * 5


def test_residue_topology_selects_elements_within_8A():
    coords = np.array([[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0], [3, 3, 3], [30, 0, 0]], dtype=float)
    elements = np.array(["C", "C", "C", "C", "N", "C"])
    out = topology.residue_topology(np.zeros(3), coords, elements)
    assert out.shape == (140,) and len(topology.ph_columns()) == 140
    cols = topology.ph_columns()
    c = out[cols.index("ph_C_h0_death_sum")]
    assert c == pytest.approx(6.0)  # the square only: the C at 30 Å is outside the 8 Å ball
    assert out[cols.index("ph_N_h0_death_sum")] == 0.0  # one N atom: no finite bar
    assert out[cols.index("ph_C_h1_birth_max")] == pytest.approx(1.0)
    assert out[cols.index("ph_O_h0_death_sum")] == 0.0 and not out[cols.index("ph_O_h1_death_max")]
