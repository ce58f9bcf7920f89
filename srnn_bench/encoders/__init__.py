"""Input encoders: how a (batched, time-first) input sequence enters the first layer.

An encoder maps ``x`` [T, B, C] to [T', B, C'] on the training device, per batch. It declares
``binary`` (its outputs are spikes, whose synapses cost ACs rather than MACs) and
``out_features(C)`` / ``out_steps(T)``. The ``encoder=`` config group picks one by ``name``; each
choice has its own module, named after its config (``configs/encoder/<name>.yaml`` ->
``srnn_bench/encoders/<name>.py``), and :data:`ENCODERS` / :func:`build_encoder` here map the names.
"""

from __future__ import annotations

from torch import nn

from ..resources import with_defaults
from ..utils.checks import check_choice
from .identity import Identity
from .latency import Latency
from .level_crossing import LevelCrossing
from .population import Population
from .rate import Rate
from .ternary import Ternary

__all__ = ["ENCODERS", "Identity", "Latency", "LevelCrossing", "Population", "Rate", "Ternary", "build_encoder"]

ENCODERS = {
    "identity": Identity,
    "population": Population,
    "level_crossing": LevelCrossing,
    "rate": Rate,
    "latency": Latency,
    "ternary": Ternary,
}


def build_encoder(cfg, binary_input: bool = False) -> nn.Module:
    check_choice("encoder", cfg["name"], sorted(ENCODERS))
    cfg = with_defaults("encoder", cfg)  # configs/encoder/<name>.yaml: the one place of each default
    name = cfg.pop("name")
    if name == "identity":
        return Identity(binary_input=binary_input, hold_steps=cfg["hold_steps"])
    try:
        return ENCODERS[name](**cfg)
    except TypeError as e:
        raise ValueError(f"encoder '{name}': {e}") from None
