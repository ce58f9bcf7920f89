"""Firing rates, SOP/AC/MAC counts and energy on hand-counted tiny networks (srnn_bench.metrics)."""

from types import SimpleNamespace

import pytest
import torch

from srnn_bench.metrics import (
    STATE_MACS,
    ActivityMeter,
    ConfusionMatrix,
    energy_pj,
    event_count,
    firing_rate,
    pooled_rate,
    table_s2_ratios,
)
from srnn_bench.models import ModelOutput, Synapses, build_model
from srnn_bench.neurons import ALIFCell, IntegratorCell
from srnn_bench.surrogates import build_surrogate

# ---------------------------------------------------------------------------------------------
# firing rates


def test_firing_rate_of_known_spikes():
    s = torch.zeros(4, 2, 5)  # T=4, B=2, N=5 -> 40 slots
    s[0, 0, 0] = s[1, 0, 0] = s[3, 1, 4] = s[2, 1, 2] = 1.0
    assert event_count(s) == 4
    assert firing_rate(s) == pytest.approx(4 / 40)


def test_src_activity_counts_timesteps_with_positive_output():
    # De Geeter eq. 4: an SRC spike lasting 3 steps counts 3 spiking timesteps, not one spike
    s = torch.tensor([0.0, 0.3, 0.9, 0.2, 0.0, 0.0, 0.7, 0.0]).view(8, 1, 1)
    assert firing_rate(s) == pytest.approx(4 / 8)


def test_pooled_rate_is_size_weighted():
    # 10 steps x samples; a: 10 neurons with 10 events (rate 0.1), b: 30 neurons with none (rate 0)
    # -> pooled 10 / (10 x 40) = 0.025, not the unweighted mean 0.05 of the layer rates
    assert pooled_rate({"a": 10.0, "b": 0.0}, {"a": 10, "b": 30}, ["a", "b"], 10) == pytest.approx(0.025)
    assert pooled_rate({"a": 10.0, "b": 0.0}, {"a": 10, "b": 30}, ["a"], 10) == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------
# hand-built tiny networks with known spikes


def cell(size, spiking, state_macs):
    return SimpleNamespace(size=size, spiking=spiking, state_macs_per_step=state_macs)


class TinyNet:
    """A model-contract stand-in: fixed populations / synapses, replayed activity."""

    def __init__(self, pops, syn):
        self._pops, self._syn = pops, syn

    def populations(self):
        return self._pops

    def synapses(self):
        return [Synapses(s, f) for s, f in self._syn]


X = torch.tensor([[[1.0, 0.0, 1.0]], [[0.0, 0.0, 1.0]]])  # T=2, B=1, 3 inputs: 3 input spikes
L0 = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]])  # 3 hidden spikes


def summary(net, activity, x=X, input_binary=True):
    meter = ActivityMeter()
    meter.update(x, ModelOutput(torch.zeros(2, 1, 2), activity))
    return meter.summary(net, input_binary)


def test_feedforward_counts():
    # input(3) -> layer0(2 ALIF) -> readout(2 integrator); T = 2
    net = TinyNet({"layer0": cell(2, True, 3), "readout": cell(2, False, 1)}, [("input", 2), ("layer0", 2)])
    m = summary(net, {"layer0": L0})
    # per sample: input 3 spikes x 2 synapses + hidden 3 spikes x 2 synapses = 12 AC -> 6 per step
    assert m["sop_per_sample"] == 12 and m["ac_per_step"] == 6
    # state: 2 ALIF x 3 + 2 integrator x 1 = 8 MAC per step; no analog source
    assert m["mac_per_step"] == 8 and m["mac_syn_per_step"] == 0
    assert m["energy_per_step_pj"] == pytest.approx(3.1 * 8 + 0.1 * 6)
    # dense: every neuron spikes every step: (3 x 2 + 2 x 2) = 10 AC per step
    assert m["ac_per_step_dense"] == 10
    assert m["firing_rate"] == pytest.approx(3 / 4) and m["firing_rate_per_layer"] == {"layer0": pytest.approx(0.75)}
    assert m["input_rate"] == pytest.approx(3 / 6)
    assert m["spikes_per_sample"] == 3


def test_recurrent_counts():
    net = TinyNet(
        {"layer0": cell(2, True, 3), "readout": cell(2, False, 1)}, [("input", 2), ("layer0", 2), ("layer0", 2)]
    )
    m = summary(net, {"layer0": L0})
    # + 3 hidden spikes x 2 recurrent synapses = 6 more AC per sample: 18 per sample, 9 per step
    assert m["sop_per_sample"] == 18 and m["ac_per_step"] == 9
    assert m["mac_per_step"] == 8


def test_bidirectional_counts():
    # Yin Fig. S2a by hand: input feeds a forward and a backward layer (each 2 ALIF, recurrent);
    # both project to the readout (2 integrator).
    net = TinyNet(
        {"layer0": cell(2, True, 3), "layer0_bwd": cell(2, True, 3), "readout": cell(2, False, 1)},
        [("input", 4), ("layer0", 2), ("layer0_bwd", 2), ("layer0", 2), ("layer0_bwd", 2)],
    )
    back = torch.tensor([[[0.0, 0.0]], [[0.0, 1.0]]])  # 1 spike
    m = summary(net, {"layer0": L0, "layer0_bwd": back})
    # input 3 x 4 = 12; forward 3 x (2 rec + 2 out) = 12; backward 1 x 4 = 4 -> 28 per sample, 14 per step
    assert m["sop_per_sample"] == 28 and m["ac_per_step"] == 14
    assert m["mac_per_step"] == 2 * 2 * 3 + 2 * 1
    assert m["firing_rate"] == pytest.approx(4 / 8)


def test_non_spiking_counts_macs():
    # a ReLU layer (analog, 5 state MACs) fed by an analog input; zeros are skipped only in mac_event
    net = TinyNet(
        {"layer0": cell(2, False, 5), "readout": cell(2, False, 1)}, [("input", 2), ("layer0", 2), ("layer0", 2)]
    )
    relu = torch.tensor([[[0.5, 0.0]], [[0.0, 0.0]]])  # 1 non-zero message of 4
    x = torch.tensor([[[0.2, 0.0, 0.1]], [[0.3, 0.4, 0.0]]])  # 4 non-zero of 6
    m = summary(net, {"layer0": relu}, x=x, input_binary=False)
    assert m["ac_per_step"] == 0
    # synaptic MACs every step: 3 x 2 + 2 x 2 + 2 x 2 = 14; state 2 x 5 + 2 x 1 = 12
    assert m["mac_syn_per_step"] == 14 and m["mac_per_step"] == 26
    # zero-skipping (Ponghiran eq. 10): input 4/6 x 6 + relu 1/4 x 8 = 4 + 2 = 6 per step
    assert m["mac_event_per_step"] == pytest.approx(6 + 12)
    assert m["sop_per_sample"] == pytest.approx(12)
    assert m["firing_rate"] == pytest.approx(0.25)


def test_spiking_readout_counts_in_rate_with_output():
    net = TinyNet({"layer0": cell(2, True, 3), "readout": cell(2, True, 3)}, [("input", 2), ("layer0", 2)])
    out = torch.tensor([[[1.0, 1.0]], [[1.0, 1.0]]])
    m = summary(net, {"layer0": L0, "readout": out})
    assert m["firing_rate"] == pytest.approx(0.75)
    assert m["firing_rate_with_output"] == pytest.approx((3 + 4) / 8)
    assert m["mac_per_step"] == 12  # readout spikes project nowhere: no AC


def test_real_srnn_counts_match_its_spikes():
    """The real SRNN through the Model contract: AC = spikes x fan-out, counted from its own activity."""
    torch.manual_seed(0)
    neuron = {"name": "alif", "b_j0": 0.01, "beta": 1.8, "tau_m": {"init": "normal", "mean": 20.0, "std": 5.0},
              "tau_adp": {"init": "normal", "mean": 150.0, "std": 10.0}}
    model_cfg = {"name": "srnn", "hidden": [5, 4], "recurrent": [True, False],
                 "readout": {"kind": "integrator", "tau_m": {"init": "constant", "mean": 20.0}}}
    model = build_model(model_cfg, 3, 2, neuron, build_surrogate({"name": "multi_gaussian", "gamma": 0.5}))
    x = (torch.rand(30, 4, 3) < 0.4).float()
    out = model(x)
    meter = ActivityMeter()
    meter.update(x, out)
    m = meter.summary(model, input_binary=True)
    s0, s1 = out.activity["layer0"].sum().item(), out.activity["layer1"].sum().item()
    assert s0 > 0
    ac = (x.sum().item() * 5 + s0 * (5 + 4) + s1 * 2) / 4  # per sample
    assert m["sop_per_sample"] == pytest.approx(ac)
    assert m["ac_per_step"] == pytest.approx(ac / 30)
    assert m["mac_per_step"] == 9 * 3 + 2 * 1


# ---------------------------------------------------------------------------------------------
# state MACs, energy and ratios


def test_cells_follow_the_state_mac_table():
    mg = build_surrogate({"name": "multi_gaussian"})
    tau = {"init": "constant", "mean": 20.0}
    assert ALIFCell(3, mg, tau, tau, beta=1.8).state_macs_per_step == STATE_MACS["alif"] == 3
    assert ALIFCell(3, mg, tau, tau, beta=0.0).state_macs_per_step == STATE_MACS["lif"] == 1
    assert IntegratorCell(3, tau).state_macs_per_step == STATE_MACS["integrator"] == 1


def test_energy_arithmetic():
    assert energy_pj(10, 100) == pytest.approx(3.1 * 10 + 0.1 * 100) == pytest.approx(41.0)
    assert energy_pj(10, 100, e_mac=4.6, e_ac=0.9) == pytest.approx(46 + 90)
    meter = ActivityMeter(e_mac=1.0, e_ac=2.0)
    net = TinyNet({"layer0": cell(2, True, 3), "readout": cell(2, False, 1)}, [("input", 2), ("layer0", 2)])
    meter.update(X, ModelOutput(torch.zeros(2, 1, 2), {"layer0": L0}))
    assert meter.summary(net, True)["energy_per_step_pj"] == pytest.approx(1.0 * 8 + 2.0 * 6)


def test_table_s2_ratios():
    # hand example: twice the energy, half the error -> efficiency 1
    r = table_s2_ratios(200.0, 0.95, 100.0, 0.90)
    assert r == pytest.approx({"energy_ratio": 2.0, "error_ratio": 0.5, "efficiency": 1.0})
    # Yin Table S2, SHD ReLU SRNN vs Adaptive SRNN: printed 125.8x, .91x (efficiency printed 114.5 =
    # the product of the ROUNDED ratios; the exact product is 114.2)
    r = table_s2_ratios(442097.2, 88.93, 3515.7, 87.81)
    assert r["energy_ratio"] == pytest.approx(125.75, abs=0.01)
    assert r["error_ratio"] == pytest.approx(0.908, abs=0.001)
    assert r["efficiency"] == pytest.approx(114.2, abs=0.05)


# ---------------------------------------------------------------------------------------------
# confusion matrix


def test_confusion_matrix(tmp_path):
    cm = ConfusionMatrix(3)
    cm.update(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2]))
    cm.update(torch.tensor([[0, 1], [2, 0]]), torch.tensor([[0, -100], [2, 1]]))  # per-step labels, one unlabelled
    assert cm.counts.tolist() == [[2, 0, 0], [1, 1, 1], [0, 0, 2]]
    assert cm.accuracy() == pytest.approx(5 / 7)
    assert cm.per_class_recall() == pytest.approx([1.0, 1 / 3, 1.0])
    pj, pc = cm.save(tmp_path, "test")
    assert pc.read_text().splitlines()[2] == "1,1,1,1"
    assert '"matrix"' in pj.read_text()
    with pytest.raises(ValueError, match="outside 0..2"):
        cm.update(torch.tensor([3]), torch.tensor([0]))


def test_meter_pools_batches_of_different_lengths():
    net = TinyNet({"layer0": cell(2, True, 3), "readout": cell(2, False, 1)}, [("input", 2), ("layer0", 2)])
    meter = ActivityMeter()
    meter.update(X, ModelOutput(torch.zeros(2, 1, 2), {"layer0": L0}))  # T=2: 3 input, 3 hidden spikes
    x4, s4 = torch.zeros(4, 1, 3), torch.zeros(4, 1, 2)
    s4[3, 0, 1] = 1.0  # T=4: 0 input, 1 hidden spike
    meter.update(x4, ModelOutput(torch.zeros(4, 1, 2), {"layer0": s4}))
    m = meter.summary(net, True)
    assert m["steps"] == 3  # mean length
    assert m["firing_rate"] == pytest.approx(4 / (6 * 2))  # 4 spikes in 6 step-samples x 2 neurons
    # AC per step = (3 x 2 + 4 x 2) / 6 step-samples; per sample = x 3 steps
    assert m["ac_per_step"] == pytest.approx(14 / 6) and m["sop_per_sample"] == pytest.approx(7)
