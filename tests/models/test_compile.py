"""trainer.compile: the auto rule, the fallback to eager with one warning, and compiled == eager within tolerance."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

from graphqa.config import ModelParams
from graphqa.models.compile import (
    AUTO_MIN_STEPS,
    CompileFallbackWarning,
    compile_decision,
    compile_network,
    is_compiled,
    uncompile_network,
)
from graphqa.models.gatv2_edge import GATv2EdgeNet
from tests.models.test_gatv2_edge import random_batch

SMALL = ModelParams(hidden_dim=16, edge_hidden_dim=8, readout_hidden=8, heads=2, num_layers=1, dropout=0.0)


def _network(seed: int = 0) -> GATv2EdgeNet:
    torch.manual_seed(seed)
    return GATv2EdgeNet(7, 3, SMALL)


def test_auto_compiles_only_runs_long_enough_to_repay_it():
    assert compile_decision("off", planned_steps=10**9)[0] is False
    assert compile_decision("on", planned_steps=1)[0] is True
    assert compile_decision("auto", planned_steps=AUTO_MIN_STEPS)[0] is True
    wanted, why = compile_decision("auto", planned_steps=AUTO_MIN_STEPS - 1)
    assert wanted is False and str(AUTO_MIN_STEPS) in why
    assert compile_decision("auto", planned_steps=None)[0] is False
    assert compile_decision("auto", planned_steps=10**9, device_type="mps")[0] is False
    with pytest.raises(ValueError, match="trainer.compile"):
        compile_decision("sometimes", planned_steps=1)


def test_off_and_short_auto_runs_leave_the_network_eager():
    network = _network()
    assert compile_network(network, "off") is False
    assert compile_network(network, "auto", planned_steps=5) is False
    assert "forward" not in network.__dict__ and not is_compiled(network)


def _failing_backend(graph_module, example_inputs):  # noqa: ANN001, ANN202 - torch.compile's backend signature
    raise RuntimeError("backend cannot compile this graph")


def test_a_failing_compilation_falls_back_to_eager_with_one_warning():
    network, reference = _network(), _network()
    batch = random_batch([5, 9, 4])
    assert compile_network(network, "on", backend=_failing_backend) is True
    with pytest.warns(CompileFallbackWarning, match="backend cannot compile") as caught:
        out = network(batch)
    assert len([w for w in caught if issubclass(w.category, CompileFallbackWarning)]) == 1
    torch.testing.assert_close(out, reference(batch), rtol=0, atol=0)  # eager: the same numbers exactly
    assert not is_compiled(network)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)  # no second warning
        network(random_batch([6, 3]))


def test_bad_input_raises_eagers_own_error_without_a_fallback_warning():
    network = _network()
    compile_network(network, "on", backend=_failing_backend)
    wrong_width = random_batch([5, 4], node_dim=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)
        with pytest.raises(RuntimeError, match="mat1 and mat2"):
            network(wrong_width)


def test_compiling_keeps_the_weights_and_their_names():
    network = _network()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    compile_network(network, "on", backend="eager")
    after = network.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(before[k], after[k]) for k in before)
    clone = copy.deepcopy(network)  # EMA/SWA-style copies get an eager network
    assert not is_compiled(clone)
    uncompile_network(network)
    assert "forward" not in network.__dict__


@pytest.mark.slow
def test_compiled_network_matches_eager_within_float_tolerance():
    """The real inductor backend, dynamic shapes: forward, gradients and store scoring equal eager's within fp32 noise."""
    eager, compiled = _network(), _network()
    assert compile_network(compiled, "on")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)  # a fallback would make this test vacuous
        for sizes in ([5, 9, 12, 4], [7, 3], [20, 11, 6, 8, 9, 2]):  # batch and graph sizes vary: one dynamic graph
            batch = random_batch(sizes, seed=len(sizes))
            out_e, out_c = eager(batch), compiled(batch)
            torch.testing.assert_close(out_c, out_e, rtol=1e-5, atol=1e-6)
            out_e.square().sum().backward()
            out_c.square().sum().backward()
            for (name, p_e), p_c in zip(eager.named_parameters(), compiled.parameters(), strict=True):
                torch.testing.assert_close(p_c.grad, p_e.grad, rtol=1e-4, atol=1e-6, msg=name)
                p_e.grad = p_c.grad = None
    assert is_compiled(compiled)
