"""Network topologies. ``build_model(model_cfg, n_in, n_classes, neuron, surrogate)``.

There is one topology, ``srnn`` (Yin et al. Figure 1b / S2a), for every ``neuron=`` choice — spiking,
ReLU, SRC, PLIF and the LSTM/GRU/RNN baselines: each cell declares the synapses it needs (gate
multiplicity, recurrent input form, BatchNorm), so no neuron-specific model class is required.
"""

from __future__ import annotations

from ..resources import with_defaults
from ..utils.checks import check_choice
from .readouts import READOUTS
from .srnn import SRNN, ModelOutput, Synapses

MODELS = ("srnn",)


def build_model(cfg, n_in: int, n_classes: int, neuron, surrogate):
    """The ``model=`` config ``cfg`` merged over its ``configs/model/<name>.yaml`` (readout keys too;
    :func:`srnn_bench.resources.with_defaults`, the one place of each default) -> the network."""
    check_choice("model", cfg["name"], MODELS)
    cfg = with_defaults("model", cfg)
    return SRNN(
        n_in,
        n_classes,
        hidden=list(cfg["hidden"]),
        recurrent=cfg["recurrent"] if isinstance(cfg["recurrent"], bool) else list(cfg["recurrent"]),
        neuron=neuron,
        surrogate=surrogate,
        readout=cfg["readout"],
        layer_overrides=list(cfg["layer_overrides"] or []),
        bias=cfg["bias"],
        bidirectional=bool(cfg["bidirectional"]),
        bidirectional_merge=str(cfg["bidirectional_merge"]),
        backward_input=str(cfg["backward_input"]),
        head=list(cfg["head"] or []),
        head_activation=str(cfg["head_activation"]),
    )


__all__ = ["MODELS", "READOUTS", "SRNN", "ModelOutput", "Synapses", "build_model"]
