"""Network topologies. ``build_model(model_cfg, n_in, n_classes, neuron_cfg, surrogate)``."""

from __future__ import annotations

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
        )
    raise ValueError(f"unknown model '{name}'; valid choices: {', '.join(MODELS)}")


__all__ = ["MODELS", "SRNN", "ModelOutput", "Synapses", "build_model"]
