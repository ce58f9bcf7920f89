"""Issue 15: the analytic cost model (srnn_bench.metrics.cost.srnn_architecture) reads the per-neuron
facts from the cell classes and names populations as the built model does, so for every neuron choice
and topology it counts exactly the operations of the model built from the composed config."""

from functools import cache

import pytest
import torch
from conftest import compose
from omegaconf import OmegaConf

from srnn_bench.metrics import STATE_MACS, architecture_of, count_ops, srnn_architecture
from srnn_bench.models import build_model
from srnn_bench.neurons import CELLS, build_cell, cell_cost
from srnn_bench.surrogates import build_surrogate

NEURONS = sorted(CELLS)
N_IN, N_OUT, HIDDEN, REC = 3, 2, [5, 4], [True, False]

# topology -> (model overrides, keyword arguments of srnn_architecture)
TOPOLOGIES = {
    "uni": ({}, {}),
    "bi_mean": ({"model.bidirectional": True, "model.bidirectional_merge": "mean"},
                {"bidirectional": True, "merge": "mean"}),
    "bi_concat": ({"model.bidirectional": True, "model.bidirectional_merge": "concat"},
                  {"bidirectional": True, "merge": "concat"}),
    "head_linear": ({"model.head": [6, 3], "model.readout.kind": "linear"}, {"head": [6, 3], "readout": "linear"}),
    "bi_concat_head": ({"model.bidirectional": True, "model.bidirectional_merge": "concat", "model.head": [6]},
                       {"bidirectional": True, "merge": "concat", "head": [6]}),
    "spiking_readout": ({"model.readout.kind": "spiking"}, {"readout": None}),  # None: the hidden neuron
    "population": ({"model.readout.kind": "population", "model.readout.group": 3},
                   {"readout": "population", "group": 3}),
}


@cache
def _cfg(neuron):
    return compose([f"neuron={neuron}"])  # Hydra composition is slow: once per neuron


def built_model(neuron, overrides):
    cfg = _cfg(neuron).copy()
    for key, value in {"model.hidden": HIDDEN, "model.recurrent": REC, **overrides}.items():
        OmegaConf.update(cfg, key, value)
    torch.manual_seed(0)
    return build_model(cfg.model, N_IN, N_OUT, cfg.neuron, build_surrogate(cfg.surrogate))


def built_arch(neuron, overrides):
    return architecture_of(built_model(neuron, overrides), N_IN, cell_cost(neuron).spiking)


def rates_for(arch):
    """A different rate for every population and the input, so a misnamed or misrouted one shows."""
    names = ["input", *(p.name for p in arch.populations)]
    return {name: round(0.05 + 0.9 * k / len(names), 4) for k, name in enumerate(names)}


def test_cost_covers_every_choice():
    assert {"integrator", "linear", "population"} <= set(STATE_MACS) and set(NEURONS) <= set(STATE_MACS)


@pytest.mark.parametrize("neuron", NEURONS)
def test_class_facts_equal_the_built_cell(neuron):
    """The facts read from the class (no cell built) are those of the cell the builder makes."""
    cfg = OmegaConf.to_container(_cfg(neuron).neuron, resolve=True)
    cell = build_cell(cfg, 3, build_surrogate({"name": "multi_gaussian"}))
    cls = CELLS[neuron].cls
    assert type(cell) is cls
    cost = cell_cost(neuron)
    assert cost.spiking == cell.spiking and cost.state_macs == cell.state_macs_per_step == STATE_MACS[neuron]
    assert cost.gates == getattr(cell, "gates", 1)
    assert cost.recurrent == getattr(cell, "recurrent_synapses", None)


@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
@pytest.mark.parametrize("neuron", NEURONS)
def test_analytic_architecture_counts_what_the_model_builds(neuron, topology):
    overrides, kwargs = TOPOLOGIES[topology]
    kwargs = {**kwargs, "readout": kwargs.get("readout", "integrator") or neuron}
    binary = cell_cost(neuron).spiking  # spike inputs for spiking networks: the input synapses cost ACs
    built = architecture_of(built_model(neuron, overrides), N_IN, binary)
    analytic = srnn_architecture(N_IN, HIDDEN, N_OUT, neuron, REC, input_binary=binary, **kwargs)
    assert analytic.populations == built.populations  # names, sizes, binary, state MACs, output, in order
    assert analytic.projections == built.projections
    rates = rates_for(built)
    ours, theirs = count_ops(analytic, rates), count_ops(built, rates)
    for op in ("ac", "mac_syn", "mac_syn_event", "mac_state", "mac", "ac_dense"):
        assert getattr(ours, op) == getattr(theirs, op), op
    assert ours.mac > 0


def test_hand_counted_plif_v2():
    """PLIF v2 (Ponghiran eqs 19-21): 2 gates, recurrent by definition (model.recurrent=[true, false]
    does not apply), multi-bit outputs (MACs), 5 state MACs; integrator readout 1 MAC."""
    arch = srnn_architecture(N_IN, HIDDEN, N_OUT, "plif_v2", REC)
    # input 3 x 10, rec0 5 x 10, 0->1 5 x 8, rec1 4 x 8 (v2 recurrent anyway), readout 4 x 2
    syn = {"input": 3 * 10, "layer0": 5 * 10 + 5 * 8, "layer1": 4 * 8 + 4 * 2}
    rates = {"input": 0.5, "layer0": 0.25, "layer1": 0.125}
    ops = count_ops(arch, rates)
    assert ops.mac_syn == sum(syn.values()) == 160 and ops.mac_state == 9 * 5 + 2 * 1 == 47 and ops.mac == 207
    assert ops.ac == 0 and ops.mac_syn_event == 0.5 * 30 + 0.25 * 90 + 0.125 * 40 == 42.5
    assert count_ops(built_arch("plif_v2", {}), rates).mac == 207


def test_hand_counted_bidirectional_concat_alif():
    """ALIF, bidirectional concat (Schuster & Paliwal): both halves of layer 1 read both halves of layer 0;
    spike input; layer 1 not recurrent; both top halves feed the integrator readout."""
    arch = srnn_architecture(N_IN, HIDDEN, N_OUT, "alif", REC, input_binary=True, bidirectional=True,
                                merge="concat")
    assert [p.name for p in arch.populations] == ["layer0", "layer1", "layer0_bwd", "layer1_bwd", "readout"]
    # per direction: input 3 x 5, rec0 5 x 5, layer0 and layer0_bwd -> layer1: 2 x 5 x 4; readout 4 x 2
    ops = count_ops(arch, 0.5)
    assert ops.ac_dense == 2 * (15 + 25 + 40 + 8) == 176 and ops.ac == 88
    assert ops.mac_syn == 0 and ops.mac_state == 2 * 9 * 3 + 2 * 1 == 56
    mean = count_ops(srnn_architecture(N_IN, HIDDEN, N_OUT, "alif", REC, input_binary=True, bidirectional=True,
                                          merge="mean"), 0.5)
    assert mean.ac_dense == 2 * (15 + 25 + 20 + 8) == 136  # mean: each half reads its own direction only
    assert count_ops(built_arch("alif", TOPOLOGIES["bi_concat"][0]), 0.5).ac == 88
    assert count_ops(built_arch("alif", TOPOLOGIES["bi_mean"][0]), 0.5).ac_dense == 136


def test_unknown_choices_fail_with_one_line():
    with pytest.raises(ValueError, match="unknown merge 'sum'; valid choices: mean, concat"):
        srnn_architecture(3, [2], 2, merge="sum")
    with pytest.raises(ValueError, match="readout 'population' needs group"):
        srnn_architecture(3, [2], 2, readout="population")
    with pytest.raises(ValueError, match="unknown neuron 'alfi'; valid choices: alif, gru"):
        cell_cost("alfi")


def test_analytic_side_builds_no_cell():
    """Class attributes only: no cell is built, so no random initialisation draws from the generator."""
    before = torch.random.get_rng_state()
    srnn_architecture(700, [128, 128], 20, "alif", input_binary=True)
    assert torch.equal(before, torch.random.get_rng_state())
