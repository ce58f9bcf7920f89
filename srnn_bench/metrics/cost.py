"""Operation counts (AC / MAC) and energy of a network per time step — the one cost model.

A network is described by an :class:`Architecture`: its input, its populations (size, binary or not,
state MACs per neuron per step, hidden or output) and its projections (``source`` -> ``fan_out``
synapses per source neuron; gate multiplicity included, e.g. ``4n`` for an LSTM input). The same
description comes from a built model (:func:`architecture_of`, via ``Model.synapses()`` /
``Model.populations()``) or from a paper's layer sizes (:func:`srnn_architecture`,
:func:`rnn_architecture`), so measured and analytic numbers use the same arithmetic
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

State MACs per neuron per step (:data:`STATE_MACS`) count the multiplications of one neuron's update;
a product with a binary spike is a conditional add (free), the leak factor ``(1 - alpha)`` of the input
is folded into the synaptic weights (``R_m`` absorbed, Yin Methods), nonlinearities are free:

    lif         1   u = alpha*u + I - theta*s                 (alpha*u)
    alif        3   eta = rho*eta + (1-rho)*s ; theta = b0 + beta*eta ; u = alpha*u + I - theta*s
                                                              (rho*eta, beta*eta, alpha*u) — Yin eqs 5-7
    relu        5   the ALIF update with an analog output s = ReLU(u): (1-rho)*s and theta*s become
                    multiplications — Yin's "ReLU SRNN"
    integrator  1   u = alpha*u + I                          (readout; Yin Methods)
    src         7   i = alpha*i + W s ; x = rho*tanh(i/rho) ; h = tanh(x + r*h + r_s*hs + b) ;
                    hs = z*hs + (1-z)*h                       (alpha*i, i/rho, rho*tanh, r*h, r_s*hs, z*hs,
                                                               (1-z)*h) — De Geeter eqs 1-3
    plif        4   Ponghiran eq. 10: n (synaptic-current decay) + 3n (membrane update, multi-bit output)
    gated_lif   5   Ponghiran eqs 18-21: F*I, (1-F)*C, + 3n for the membrane/multi-bit output
    rnn         0   h = tanh(W x + U h + b): all MACs are synaptic
    gru         3   Ponghiran eq. 10: 3n + 3(m+n)n (the 3(m+n)n are synaptic: fan-out 3n)
    lstm        3   Ponghiran eq. 10: 3n + 4(m+n)n (fan-out 4n)
    linear      0   a plain dense output layer

These conventions reproduce the paper's MAC counts for the ReLU SRNN rows and most ALIF rows exactly
(README, "Metrics"; tests/test_energy.py); where they cannot, the README says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

E_MAC_PJ = 3.1
E_AC_PJ = 0.1

STATE_MACS: dict[str, int] = {
    "lif": 1,
    "alif": 3,
    "relu": 5,
    "integrator": 1,
    "src": 7,
    "plif": 4,
    "gated_lif": 5,
    "rnn": 0,
    "gru": 3,
    "lstm": 3,
    "linear": 0,
}
"""Multiplications per neuron per step of each neuron model's state update (module docstring)."""

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
"""Weight matrices per unit (synapse multiplicity) of the non-spiking recurrent baselines."""


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
    state_macs: Mapping[str, float] | None = None,
    input_free: bool = False,
) -> Architecture:
    """Yin Fig. 1b / S2a: input -> stacked (bi-directional) layers of ``neuron`` -> readout.

    ``neuron``: a key of :data:`STATE_MACS` (``relu`` = the non-spiking "ReLU SRNN", analog outputs).
    ``readout``: ``integrator`` (non-spiking), ``linear``, or a neuron name (spiking readout, e.g. ALIF
    outputs for ECG / (P)S-MNIST). Bi-directional: every layer is a forward and a backward population,
    each receiving the whole previous layer; the readout reads both (Yin Fig. S2a, mean of the two).
    ``input_free``: leave the input synapses out of the count (what Yin Table 2 does for the analog
    input of SoLi and TIMIT; not our definition — used only to show which choice reproduces a number).
    """
    table = {**STATE_MACS, **dict(state_macs or {})}
    for key in (neuron, readout):
        if key not in table:
            raise ValueError(f"unknown neuron model '{key}' for costing; valid choices: {', '.join(sorted(table))}")
    hidden = [int(h) for h in hidden]
    rec = [bool(recurrent)] * len(hidden) if isinstance(recurrent, bool) else [bool(r) for r in recurrent]
    if len(rec) != len(hidden):
        raise ValueError(f"recurrent has {len(rec)} entries for {len(hidden)} hidden layers")
    binary = neuron not in ("relu", "rnn", "gru", "lstm", "src", "plif", "gated_lif")
    dirs = ("f", "b") if bidirectional else ("",)
    pops: list[Population] = []
    projs: list[Projection] = []
    prev = ["input"]
    for i, (size, is_rec) in enumerate(zip(hidden, rec)):
        names = [f"layer{i}{d}" for d in dirs]
        for src in prev:
            if not (src == "input" and input_free):
                projs.append(Projection(src, size * len(names)))
        for name in names:
            pops.append(Population(name, size, binary, table[neuron]))
            if is_rec:
                projs.append(Projection(name, size))
        prev = names
    out_binary = readout not in ("integrator", "linear", "relu")
    pops.append(Population("readout", n_out, out_binary, table[readout], output=True))
    for src in prev:
        projs.append(Projection(src, n_out))
    label = f"{'bi-' if bidirectional else ''}{neuron} SRNN {n_in}+{'+'.join(map(str, hidden))}+{n_out}"
    return Architecture(n_in, input_binary, pops, projs, name=label)


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
    direction, G = 1, 3, 4), optional dense ReLU layers, then a ``readout`` (linear by default).

    Analog activations everywhere: every synapse is a MAC each step (Yin Fig. 2a / S2b).
    """
    if kind not in GATES:
        raise ValueError(f"unknown recurrent baseline '{kind}'; valid choices: {', '.join(GATES)}")
    g = GATES[kind]
    dirs = ("f", "b") if bidirectional else ("",)
    pops: list[Population] = []
    projs: list[Projection] = []
    prev = ["input"]
    for i, size in enumerate(int(h) for h in hidden):
        names = [f"{kind}{i}{d}" for d in dirs]
        for src in prev:
            projs.append(Projection(src, g * size * len(names)))
        for name in names:
            pops.append(Population(name, size, False, STATE_MACS[kind]))
            projs.append(Projection(name, g * size))
        prev = names
    for j, size in enumerate(int(d) for d in dense):
        name = f"dense{j}"
        for src in prev:
            projs.append(Projection(src, size))
        pops.append(Population(name, size, False, 0))
        prev = [name]
    pops.append(Population("readout", n_out, False, STATE_MACS[readout], output=True))
    for src in prev:
        projs.append(Projection(src, n_out))
    label = f"{'Bi-' if bidirectional else ''}{kind.upper()} {n_in}+{'+'.join(map(str, hidden))}+{n_out}"
    return Architecture(n_in, False, pops, projs, name=label)


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
