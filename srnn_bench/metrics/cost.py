"""Operation counts (AC / MAC) and energy of a network per time step — the one cost model.

A network is described by an :class:`Architecture`: its input, its populations (size, binary or not,
state MACs per neuron per step, hidden or output) and its projections (``source`` -> ``fan_out``
synapses per source neuron; gate multiplicity included, e.g. ``4n`` for an LSTM input). The same
description comes from a built model (:func:`architecture_of`, via ``Model.synapses()`` /
``Model.populations()``) or from a paper's layer sizes (:func:`srnn_architecture`,
:func:`rnn_architecture`), with the same population names (``layer{i}``,
``layer{i}_bwd``, ``head{j}``, ``readout``), so measured and analytic numbers use the same arithmetic
(:func:`count_ops`).

Per time step, with ``r_p`` the event rate of population ``p`` (events per neuron per step, see
:mod:`srnn_bench.metrics.activity`; ``r = 1`` for the "dense" counts):

    AC            = sum over projections from BINARY sources   r_src * N_src * fan_out       (Yin Fig. 2a)
    MAC_syn       = sum over projections from NON-BINARY sources     N_src * fan_out         (Yin Fig. 2a, S2b)
    MAC_syn_event = sum over projections from NON-BINARY sources r_src * N_src * fan_out     (Ponghiran eq. 10,
                                                                      zeros skipped: the s*m*n term)
    MAC_state     = sum over populations  N_p * state_macs(p)                                 (Yin Fig. 2a)
    MAC           = MAC_syn + MAC_state         (the convention of Yin Table 2 / S2: the headline number)
    Energy        = 3.1 pJ * MAC + 0.1 pJ * AC  (Yin Table 2 caption, after Horowitz 2014, 45 nm)

State MACs per neuron per step count the multiplications of one neuron's update; a product with a
binary spike is a conditional add (free), the leak factor ``(1 - alpha)`` of the input is folded into
the synaptic weights (``R_m`` absorbed, Yin Methods), nonlinearities are free. Each cell class states
its own count with the equations it comes from (``state_macs_per_step``), whether its outputs are
binary (``spiking``) and its synapse multiplicity (``gates`` = G: Ponghiran eq. 10's ``G(m+n)n`` are
synapses of fan-out ``G n``); the analytic architectures read them through
:func:`srnn_bench.neurons.cell_cost` (no cell is built) and :data:`STATE_MACS` collects the counts:
ALIF ``alif``/LIF ``lif`` and the ReLU SRNN ``relu`` (:mod:`srnn_bench.neurons.alif`, ``.relu``; Yin eqs
5-7), SRC ``src`` (De Geeter eqs 5a-5f), ``plif_*`` (Ponghiran eqs 10, 16-21), ``lstm``/``gru``/``rnn``
(Ponghiran eq. 10), the ``integrator`` readout (Yin Methods) and the ``linear`` readout / dense head.

These conventions reproduce the paper's MAC counts for the ReLU SRNN rows and most ALIF rows exactly
(README, "Metrics"; tests/unit/test_energy.py); where they cannot, the README says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..models.srnn import BIDIRECTIONAL_MERGES, per_layer_recurrent
from ..neurons import CELLS, CellCost, IdentityCell, IntegratorCell, LeakySumCell, cell_cost
from ..utils.checks import check_choice

E_MAC_PJ = 3.1
E_AC_PJ = 0.1

READOUT_CELLS: dict[str, type] = {"integrator": IntegratorCell, "linear": IdentityCell, "population": LeakySumCell}
"""``model.readout.kind`` -> its cell (:mod:`srnn_bench.models.readouts`); a spiking readout is a neuron choice."""

HEAD_CELL = IdentityCell
"""The cell of ``model.head`` (dense layers ``y = f(W h + b)``)."""

RNN_BASELINES = ("rnn", "gru", "lstm")
"""The neuron choices :func:`rnn_architecture` stacks (recurrent by definition, linear readout)."""


def cost_of(kind: str) -> CellCost:
    """The cost attributes of a neuron choice or readout kind, from its cell class (no cell is built)."""
    if kind in READOUT_CELLS:
        return cell_cost(READOUT_CELLS[kind])
    check_choice("neuron model (for costing)", kind, sorted([*CELLS, *READOUT_CELLS]))
    return cell_cost(kind)


STATE_MACS: dict[str, int] = {kind: cost_of(kind).state_macs for kind in (*CELLS, *READOUT_CELLS)}
"""Multiplications per neuron per step of each neuron choice and readout, collected from the cell classes
(module docstring)."""


def energy_pj(mac: float, ac: float, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
    """Yin et al. 2021, Table 2 caption: Energy = 3.1 pJ * MAC + 0.1 pJ * AC (per step)."""
    return e_mac * mac + e_ac * ac


@dataclass(frozen=True)
class Population:
    """A group of neurons for counting: ``binary`` outputs cost ACs downstream, others MACs."""

    name: str
    size: int
    binary: bool
    state_macs: float
    output: bool = False  # the readout (excluded from the hidden firing rate)


@dataclass(frozen=True)
class Projection:
    """``source`` ("input" or a population name) -> ``fan_out`` synapses per source neuron."""

    source: str
    fan_out: int


@dataclass
class Architecture:
    n_in: int
    input_binary: bool
    populations: list[Population]
    projections: list[Projection]
    name: str = ""
    notes: list[str] = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        return {"input": self.n_in, **{p.name: p.size for p in self.populations}}

    def binary(self, source: str) -> bool:
        if source == "input":
            return self.input_binary
        return next(p.binary for p in self.populations if p.name == source)

    def n_synapses(self) -> int:
        sizes = self.sizes()
        return sum(sizes[pr.source] * pr.fan_out for pr in self.projections)


@dataclass(frozen=True)
class OpCounts:
    """Operations per time step (see the module docstring for each definition)."""

    ac: float
    mac_syn: float
    mac_syn_event: float
    mac_state: float
    ac_dense: float

    @property
    def mac(self) -> float:
        return self.mac_syn + self.mac_state

    @property
    def mac_event(self) -> float:
        return self.mac_syn_event + self.mac_state

    def as_dict(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> dict[str, float]:
        """The metric names written to ``metrics.json`` (per step)."""
        return {
            "ac_per_step": self.ac,
            "mac_per_step": self.mac,
            "mac_syn_per_step": self.mac_syn,
            "mac_state_per_step": self.mac_state,
            "mac_event_per_step": self.mac_event,
            "sop_per_step": self.ac + self.mac_syn_event,
            "ac_per_step_dense": self.ac_dense,
            "sop_per_step_dense": self.ac_dense + self.mac_syn,
            "energy_per_step_pj": energy_pj(self.mac, self.ac, e_mac, e_ac),
            "energy_per_step_pj_event": energy_pj(self.mac_event, self.ac, e_mac, e_ac),
            "energy_per_step_pj_dense": energy_pj(self.mac, self.ac_dense, e_mac, e_ac),
        }


def count_ops(arch: Architecture, rates: Mapping[str, float] | float, input_rate: float | None = None) -> OpCounts:
    """Operations per step of ``arch`` at event rates ``rates`` (a number = the same rate everywhere).

    ``input_rate`` is the event rate of the input (binary inputs only matter); default: ``rates["input"]``
    if given, else the common rate. A projection whose source has no rate fails with one line.
    """
    sizes = arch.sizes()
    if isinstance(rates, (int, float)):
        common = float(rates)
        rates = {name: common for name in sizes}
    rates = dict(rates)
    if input_rate is not None:
        rates["input"] = float(input_rate)
    ac = mac_syn = mac_syn_event = ac_dense = 0.0
    for pr in arch.projections:
        if pr.source not in sizes:
            raise ValueError(f"projection from unknown population '{pr.source}'; known: {', '.join(sizes)}")
        dense = sizes[pr.source] * pr.fan_out
        if arch.binary(pr.source):
            if pr.source not in rates:
                raise ValueError(f"no firing rate for population '{pr.source}' (give --rate {pr.source}=R)")
            ac += rates[pr.source] * dense
            ac_dense += dense
        else:
            mac_syn += dense
            mac_syn_event += rates.get(pr.source, 1.0) * dense
    mac_state = float(sum(p.size * p.state_macs for p in arch.populations))
    return OpCounts(ac, mac_syn, mac_syn_event, mac_state, ac_dense)


# -- architectures from a built model -------------------------------------------------------------


def state_macs_of(cell) -> float:
    """A cell's ``state_macs_per_step`` (the Cell contract); the values follow :data:`STATE_MACS`."""
    return float(cell.state_macs_per_step)


def architecture_of(model, n_in: int, input_binary: bool) -> Architecture:
    """Describe a built model through its ``synapses()`` / ``populations()`` (the Model contract).

    The population named ``readout`` is the output; every other population is hidden.
    """
    pops = [
        Population(name, int(cell.size), bool(cell.spiking), state_macs_of(cell), output=(name == "readout"))
        for name, cell in model.populations().items()
    ]
    projs = [Projection(s.source, int(s.fan_out)) for s in model.synapses()]
    return Architecture(n_in, bool(input_binary), pops, projs, name=type(model).__name__)


# -- analytic architectures from layer sizes -------------------------------------------------------


def srnn_architecture(
    n_in: int,
    hidden: Iterable[int],
    n_out: int,
    neuron: str = "alif",
    recurrent: bool | Iterable[bool] = True,
    readout: str = "integrator",
    input_binary: bool = False,
    bidirectional: bool = False,
    input_free: bool = False,
    merge: str = "concat",
    head: Iterable[int] = (),
    group: int | None = None,
    name: str | None = None,
) -> Architecture:
    """Yin Fig. 1b / S2a: input -> stacked (bi-directional) layers of ``neuron`` -> readout — the populations
    and projections :class:`srnn_bench.models.srnn.SRNN` builds for these sizes, with the same names
    (``layer{i}``, ``layer{i}_bwd``, ``head{j}``, ``readout``), from the cell classes alone.

    ``neuron``: a neuron choice (``srnn_bench.neurons.CELLS``; ``relu`` = the non-spiking "ReLU SRNN",
    analog outputs); its ``gates`` widen the input and recurrent projections, its fixed
    ``recurrent_synapses`` overrides ``recurrent`` (as the model does).
    ``readout``: ``integrator``, ``linear``, ``population`` (De Geeter Sec. 4.2: a final population
    ``layer{L}`` of ``group * n_out`` neurons of the hidden type, then ``n_out`` leaky sums) or a neuron
    choice (``model.readout.kind=spiking``, e.g. ALIF outputs for ECG / (P)S-MNIST).
    ``bidirectional``: a forward and a backward stack (Yin Fig. S2a); ``merge`` as
    ``model.bidirectional_merge``: ``concat``, both halves of layer i read both halves of layer i - 1
    (the standard bidirectional RNN; the default here); ``mean`` (the model's default), each half reads its
    own direction's layer below — the same counts with one hidden layer. Both halves of the top layer
    project to what follows. ``head``: dense layers (``model.head``).
    ``input_free``: leave the input synapses of the first hidden layer out of the count (what Yin
    Table 2 does for the analog input of SoLi and TIMIT; not our definition — used only to show which
    choice reproduces a number).
    """
    check_choice("merge", merge, BIDIRECTIONAL_MERGES)
    cell, out = cost_of(neuron), cost_of(readout)
    hidden, head = [int(h) for h in hidden], [int(h) for h in head]
    rec = per_layer_recurrent(recurrent, len(hidden))
    suffixes = ("", "_bwd") if bidirectional else ("",)
    pops: list[Population] = []
    projs: list[Projection] = []
    for d in suffixes:  # the forward stack, then the backward one (SRNN.populations() / synapses() order)
        for i, (size, is_rec) in enumerate(zip(hidden, rec)):
            pop = f"layer{i}{d}"
            if i == 0:
                below = [] if input_free else ["input"]
            else:
                below = [f"layer{i - 1}{e}" for e in suffixes] if merge == "concat" else [f"layer{i - 1}{d}"]
            projs += [Projection(src, cell.gates * size) for src in below]
            pops.append(Population(pop, size, cell.spiking, cell.state_macs))
            if (is_rec if cell.recurrent is None else cell.recurrent):
                projs.append(Projection(pop, cell.gates * size))
    top = [f"layer{len(hidden) - 1}{d}" for d in suffixes] if hidden else ["input"]
    dense = cell_cost(HEAD_CELL)
    for j, size in enumerate(head):
        projs += [Projection(src, size) for src in top]
        pops.append(Population(f"head{j}", size, dense.spiking, dense.state_macs))
        top = [f"head{j}"]
    if readout == "population":
        if not group or group < 1:
            raise ValueError(f"readout 'population' needs group >= 1 (model.readout.group), got {group}")
        final = f"layer{len(hidden)}"
        projs += [Projection(src, cell.gates * group * n_out) for src in top]
        pops.append(Population(final, group * n_out, cell.spiking, cell.state_macs))
        top = [final]
    pops.append(Population("readout", n_out, out.spiking, out.state_macs, output=True))
    projs += [Projection(src, out.gates * n_out) for src in top]
    if name is None:
        name = f"{'bi-' if bidirectional else ''}{neuron} SRNN {n_in}+{'+'.join(map(str, hidden))}+{n_out}"
    return Architecture(n_in, input_binary, pops, projs, name=name)


def rnn_architecture(
    kind: str,
    n_in: int,
    hidden: Iterable[int],
    n_out: int,
    bidirectional: bool = False,
    dense: Iterable[int] = (),
    readout: str = "linear",
) -> Architecture:
    """Stacked ``rnn`` / ``gru`` / ``lstm`` layers (Ponghiran eq. 10: ``3n + G(m+n)n`` per layer and
    direction, G = the cell's ``gates``), optional dense ReLU layers (``model.head``), then a ``readout``
    (linear by default); bidirectional layers read both halves of the layer below (``merge=concat``).

    Analog activations everywhere: every synapse is a MAC each step (Yin Fig. 2a / S2b).
    """
    check_choice("recurrent baseline", kind, RNN_BASELINES)
    hidden = [int(h) for h in hidden]
    label = f"{'Bi-' if bidirectional else ''}{kind.upper()} {n_in}+{'+'.join(map(str, hidden))}+{n_out}"
    return srnn_architecture(n_in, hidden, n_out, kind, True, readout, bidirectional=bidirectional, merge="concat",
                             head=dense, name=label)


# -- Table S2 ratios ------------------------------------------------------------------------------


def table_s2_ratios(energy: float, accuracy: float, ref_energy: float, ref_accuracy: float) -> dict[str, float]:
    """Yin Table S2: energy ratio E/E_ref, error ratio (1-acc)/(1-acc_ref), efficiency = their product.

    Accuracies as fractions or percentages (both the same scale). Ratios > 1 mean worse than the
    reference row.
    """
    scale = 100.0 if max(accuracy, ref_accuracy) > 1.0 else 1.0
    e_ratio = energy / ref_energy
    err_ratio = (scale - accuracy) / (scale - ref_accuracy)
    return {"energy_ratio": e_ratio, "error_ratio": err_ratio, "efficiency": e_ratio * err_ratio}
