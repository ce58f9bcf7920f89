"""Network topologies. ``build_model(model_cfg, n_in, n_classes, neuron, surrogate)``.

There is one topology, ``srnn`` (Yin et al. Figure 1b / S2a), for every ``neuron=`` choice — spiking,
ReLU, SRC, PLIF and the LSTM/GRU/RNN baselines: each cell declares the synapses it needs (gate
multiplicity, recurrent input form, BatchNorm), so no neuron-specific model class is required.
"""

from __future__ import annotations

from .readouts import READOUTS
from .srnn import SRNN, ModelOutput, Synapses

MODELS = ("srnn",)


def build_model(cfg, n_in: int, n_classes: int, neuron, surrogate):
    name = cfg["name"]
    if name == "srnn":
        return SRNN(
            n_in,
            n_classes,
            hidden=list(cfg["hidden"]),
            recurrent=cfg["recurrent"] if isinstance(cfg["recurrent"], bool) else list(cfg["recurrent"]),
            neuron=neuron,
            surrogate=surrogate,
            readout=cfg["readout"],
            layer_overrides=list(cfg.get("layer_overrides") or []),
            bias=cfg.get("bias", True),
            bidirectional=bool(cfg.get("bidirectional", False)),
            bidirectional_merge=str(cfg.get("bidirectional_merge", "mean")),
            backward_input=str(cfg.get("backward_input", "reversed")),
            head=list(cfg.get("head") or []),
            head_activation=str(cfg.get("head_activation", "relu")),
        )
    raise ValueError(f"unknown model '{name}'; valid choices: {', '.join(MODELS)}")


__all__ = ["MODELS", "READOUTS", "SRNN", "ModelOutput", "Synapses", "build_model"]
