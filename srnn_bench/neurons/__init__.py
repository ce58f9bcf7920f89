"""Neuron models: pure step functions plus thin ``nn.Module`` cells that hold their parameters.

``build_cell(neuron_cfg, size, surrogate)`` turns a ``neuron=`` config into a cell. A cell has
``size``, ``spiking`` (binary outputs?), ``state_macs_per_step``, ``init_state(batch, device, dtype)``
and ``forward(i_t, state) -> (output_t, state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from torch import nn

from ..kernels import validate_backend
from ..surrogates import Surrogate
from .alif import ALIFCell, ALIFState, alif_step
from .integrator import IntegratorCell, LIState, li_step


def _alif(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    cell = ALIFCell(
        size,
        surrogate,
        tau_m=dict(cfg["tau_m"]),
        tau_adp=dict(cfg["tau_adp"]),
        b_j0=cfg["b_j0"],
        beta=cfg["beta"],
        dt=cfg.get("dt", 1.0),
        train_tau_m=cfg.get("train_tau_m", True),
        train_tau_adp=cfg.get("train_tau_adp", True),
        u0=cfg.get("u0", "uniform"),
    )
    cell.backend = validate_backend(cfg.get("backend", "reference"))  # srnn_bench.kernels
    return cell


CELLS: dict[str, Callable[[Mapping, int, Surrogate], nn.Module]] = {
    "alif": _alif,
    "lif": _alif,  # Yin's LIF is ALIF with beta = 0 (configs/neuron/lif.yaml)
}


def build_cell(cfg: Mapping, size: int, surrogate: Surrogate) -> nn.Module:
    name = cfg["name"]
    if name not in CELLS:
        raise ValueError(f"unknown neuron '{name}'; valid choices: {', '.join(sorted(CELLS))}")
    return CELLS[name](cfg, size, surrogate)


__all__ = [
    "ALIFCell",
    "ALIFState",
    "CELLS",
    "IntegratorCell",
    "LIState",
    "alif_step",
    "build_cell",
    "li_step",
]
