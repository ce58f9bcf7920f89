"""Neuron models: pure step functions plus thin ``nn.Module`` cells that hold their parameters.

``build_cell(neuron_cfg, size, surrogate)`` turns a ``neuron=`` config into a cell. A cell has
``size``, ``spiking`` (binary outputs?), ``state_macs_per_step``, ``init_state(batch, device, dtype)``
and ``forward(i_t, state) -> (output_t, state)``. Optional attributes tell the layer how to build the
synapses in front of the cell (defaults in brackets):

- ``gates`` [1]: the input projection is ``gates * size`` wide (LSTM 4, GRU 3, gated PLIF 2);
- ``recurrent_input`` ["sum"]: ``I = W x + U y_prev``; ``"concat"`` hands ``[W x, U y_prev]`` (GRU);
- ``recurrent_synapses`` [None]: None follows ``model.recurrent``; True/False is fixed by the model's
  definition (LSTM/GRU/RNN and PLIF v2 recurrent, PLIF v1/traditional not);
- ``ff_norm`` [False]: BatchNorm on ``W x`` over all T x B frames (Ponghiran & Roy), no bias;
- ``sparse_output`` [False]: non-binary outputs that are exactly zero most of the time;
- ``supported_backends`` [("reference",)]: the ``neuron.backend`` values it has
  (:data:`srnn_bench.kernels.BACKENDS`); a cell with ``"fused"`` implements
  ``fused_sequence(layer, x, state, record_membrane)`` (the whole sequence, or ``None``: the layer's
  reference loop runs). The layer picks its loop once (:class:`srnn_bench.models.layers.SpikingLayer`);
  ``neuron.backend`` is read by the model builder, not by the cell.

The cost model (:mod:`srnn_bench.metrics.cost`) reads ``spiking``, ``state_macs_per_step``, ``gates`` and
``recurrent_synapses`` from the cell CLASS of a choice (:data:`CELLS`, :func:`cell_cost`), without
building one; a class whose attributes depend on an option computes them in ``attributes_for(**option)``
(ALIF/LIF, the PLIF variants), which its instances use too.

Choices (``neuron=``): alif, lif (Yin et al. 2021), relu (Yin's non-spiking "ReLU SRNN"), src (De
Geeter et al.), plif_v1, plif_v2, plif_traditional (Ponghiran & Roy 2022), lstm, gru, rnn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from torch import nn

from ..resources import with_defaults
from ..surrogates import Surrogate
from ..utils.checks import check_choice
from .alif import S0_SCHEMES, U0_SCHEMES, ALIFCell, ALIFState, alif_step
from .conventional import GRUCell, IdentityCell, LSTMCell, RNNCell
from .integrator import IntegratorCell, LIState, li_step
from .plif import PLIFCell, PLIFState, plif_step, quantize
from .relu import ReLUCell, ReLUState, relu_step
from .src import LeakySumCell, SRCCell, SRCState, src_step


def _check_keys(cfg: Mapping, allowed: set[str]) -> None:
    unknown = set(cfg) - allowed - {"name", "backend"}  # backend: read by the layer (models/layers.py)
    if unknown:
        raise ValueError(f"neuron '{cfg['name']}' has no key(s) {sorted(unknown)}; valid keys: {sorted(allowed)}")


ALIF_KEYS = {"tau_m", "tau_adp", "b_j0", "beta", "dt", "train_tau_m", "train_tau_adp", "u0", "s0"}


def _alif_kwargs(cfg: Mapping) -> dict:
    """The Yin et al. ALIF parameters shared by the ``alif``/``lif`` and ``relu`` cells."""
    return dict(
        tau_m=dict(cfg["tau_m"]),
        tau_adp=dict(cfg["tau_adp"]),
        b_j0=cfg["b_j0"],
        beta=cfg["beta"],
        dt=cfg["dt"],
        train_tau_m=cfg["train_tau_m"],
        train_tau_adp=cfg["train_tau_adp"],
        u0=cfg["u0"],
        s0=cfg["s0"],
    )


LIF_OPTION_KEYS = {"reset", "scale_input", "threshold_trainable"}
"""alif/lif only: De Geeter et al.'s LIF baseline (reset to zero, unscaled input, learnable threshold)."""


def _alif(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    _check_keys(cfg, ALIF_KEYS | LIF_OPTION_KEYS)
    return ALIFCell(size, surrogate, **_alif_kwargs(cfg), **{k: cfg[k] for k in LIF_OPTION_KEYS if k in cfg})


def _relu(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    _check_keys(cfg, ALIF_KEYS)
    return ReLUCell(size, **_alif_kwargs(cfg))


_SRC_KEYS = {"alpha", "rho", "r", "r_s", "z", "z_hyp", "z_dep", "b_h_init", "b_h_max", "train_b_h", "sigma_noise",
             "relu_bypass", "detach_recurrence"}


def _src(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    _check_keys(cfg, _SRC_KEYS)
    return SRCCell(size, **{k: cfg[k] for k in _SRC_KEYS if k in cfg})


_PLIF_KEYS = {"n_bits", "threshold_k", "quantizer", "dropout", "ema_momentum", "bn_momentum", "b_init", "tau_init",
              "train_tau"}


def _plif(variant: str) -> Callable[[Mapping, int, Surrogate], nn.Module]:
    def build(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
        _check_keys(cfg, _PLIF_KEYS)
        return PLIFCell(size, variant=variant, **{k: cfg[k] for k in _PLIF_KEYS if k in cfg})

    return build


_GATED_KEYS = {"dropout", "batch_norm", "bn_momentum"}  # Ponghiran & Roy's LSTM/GRU baselines (conventional.py)


def _conventional(cls, keys: set[str] = frozenset()) -> Callable[[Mapping, int, Surrogate], nn.Module]:
    def build(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
        _check_keys(cfg, set(keys))
        return cls(size, **{k: cfg[k] for k in keys if k in cfg})

    return build


class Choice(NamedTuple):
    """A ``neuron=`` choice: the cell class it builds, the ``attributes_for`` options that tell the choices of
    one class apart (read by the cost model without building a cell), and its builder."""

    cls: type[nn.Module]
    options: dict
    build: Callable[[Mapping, int, Surrogate], nn.Module]


CELLS: dict[str, Choice] = {
    "alif": Choice(ALIFCell, {"adaptive": True}, _alif),
    "lif": Choice(ALIFCell, {"adaptive": False}, _alif),  # Yin's LIF is ALIF with beta = 0 (configs/neuron/lif.yaml)
    "relu": Choice(ReLUCell, {}, _relu),
    "src": Choice(SRCCell, {}, _src),
    "plif_v1": Choice(PLIFCell, {"variant": "v1"}, _plif("v1")),
    "plif_v2": Choice(PLIFCell, {"variant": "v2"}, _plif("v2")),
    "plif_traditional": Choice(PLIFCell, {"variant": "traditional"}, _plif("traditional")),
    "lstm": Choice(LSTMCell, {}, _conventional(LSTMCell, _GATED_KEYS)),
    "gru": Choice(GRUCell, {}, _conventional(GRUCell, _GATED_KEYS)),
    "rnn": Choice(RNNCell, {}, _conventional(RNNCell)),
}
"""The one registry of neuron choices (tests/unit/test_cost_model.py checks each class and its options against the
cell its builder makes)."""


def _choice(name: str) -> Choice:
    check_choice("neuron", name, sorted(CELLS))
    return CELLS[name]


class CellCost(NamedTuple):
    """What the cost model needs of a neuron type (:func:`cell_cost`)."""

    spiking: bool  # binary outputs: a spike costs one AC per outgoing synapse, else each synapse a MAC
    state_macs: int  # multiplications of one neuron's update per step
    gates: int  # weight matrices per unit: the input and recurrent projections are gates * N wide
    recurrent: bool | None  # recurrent synapses fixed by the neuron's definition; None: model.recurrent


def cell_cost(cell: str | type[nn.Module], **options) -> CellCost:
    """The cost attributes of a neuron choice (a key of :data:`CELLS`) or of a cell class (with the
    ``options`` of its ``attributes_for``), read from the class: no cell is built."""
    if isinstance(cell, str):
        cell, options, _ = _choice(cell)
    attrs = {k: getattr(cell, k, None) for k in ("spiking", "state_macs_per_step", "gates", "recurrent_synapses")}
    if options:
        attrs.update(cell.attributes_for(**options))
    return CellCost(bool(attrs["spiking"]), int(attrs["state_macs_per_step"]), int(attrs["gates"] or 1),
                    attrs["recurrent_synapses"])


def build_cell(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    """A cell of ``size`` neurons for the ``neuron=`` config ``cfg``, merged over its
    ``configs/neuron/<name>.yaml`` (:func:`srnn_bench.resources.with_defaults`: the one place of each
    default; a dict with only ``name`` is that file)."""
    choice = _choice(cfg["name"])
    return choice.build(with_defaults("neuron", cfg), size, surrogate)


__all__ = [
    "CELLS",
    "Choice",
    "S0_SCHEMES",
    "U0_SCHEMES",
    "ALIFCell",
    "ALIFState",
    "CellCost",
    "GRUCell",
    "IdentityCell",
    "IntegratorCell",
    "LIState",
    "LSTMCell",
    "LeakySumCell",
    "PLIFCell",
    "PLIFState",
    "RNNCell",
    "ReLUCell",
    "ReLUState",
    "SRCCell",
    "SRCState",
    "alif_step",
    "build_cell",
    "cell_cost",
    "li_step",
    "plif_step",
    "quantize",
    "relu_step",
    "src_step",
]
