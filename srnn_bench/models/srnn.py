"""The spiking recurrent network of Yin et al. 2021 (Figure 1b): input -> stacked (A)LIF layers,
each dense or recurrent -> readout (non-spiking leaky integrator, or spiking ALIF neurons).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from omegaconf import OmegaConf
from torch import nn

from ..neurons import IntegratorCell, build_cell
from ..surrogates import Surrogate
from .layers import LayerState, SpikingLayer


class ModelOutput(NamedTuple):
    """What every model returns. All tensors time-first.

    output:   [T, B, C] readout value per step (integrator or spiking-readout membrane); the loss
              modes in :mod:`srnn_bench.training.losses` turn it into logits.
    activity: name -> [T, B, N] outputs of each population that projects onward (hidden layers and,
              for spiking readouts, the readout spikes); used by the metrics.
    """

    output: torch.Tensor
    activity: dict[str, torch.Tensor]


class Synapses(NamedTuple):
    """A projection, for operation counting: ``source`` population -> ``fan_out`` targets per neuron."""

    source: str  # "input" or a population name of ModelOutput.activity
    fan_out: int


def _merge(base: Mapping, override: Mapping | None) -> dict:
    merged = OmegaConf.merge(OmegaConf.create(dict(base)), OmegaConf.create(dict(override or {})))
    return OmegaConf.to_container(merged, resolve=True)


class SRNN(nn.Module):
    """Stacked spiking layers and a readout.

    Args:
        n_in, n_classes: input features and output classes.
        hidden: sizes of the hidden layers.
        recurrent: one bool per hidden layer (or one for all): recurrent or dense.
        neuron: the ``neuron=`` config; ``layer_overrides[i]`` is merged into it for hidden layer i
            (e.g. per-layer time constants of Table S1).
        readout: ``{"kind": "integrator" | "spiking", "tau_m": {...}}``; a spiking readout uses the
            neuron config (ALIF outputs, the ECG model).
    """

    def __init__(
        self,
        n_in: int,
        n_classes: int,
        hidden: list[int],
        recurrent: bool | list[bool],
        neuron: Mapping,
        surrogate: Surrogate,
        readout: Mapping,
        layer_overrides: list[Mapping] | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        hidden = list(hidden)
        if not hidden or any(int(h) <= 0 for h in hidden):
            raise ValueError(f"model.hidden must be a non-empty list of positive sizes, got {hidden}")
        rec = [recurrent] * len(hidden) if isinstance(recurrent, bool) else list(recurrent)
        if len(rec) != len(hidden):
            raise ValueError(f"model.recurrent has {len(rec)} entries for {len(hidden)} hidden layers")
        overrides = list(layer_overrides or [])
        if len(overrides) > len(hidden):
            raise ValueError(f"model.layer_overrides has {len(overrides)} entries for {len(hidden)} layers")
        overrides += [{}] * (len(hidden) - len(overrides))

        self.layers = nn.ModuleList()
        n_prev = n_in
        for size, is_rec, over in zip(hidden, rec, overrides):
            cell = build_cell(_merge(neuron, over), int(size), surrogate)
            self.layers.append(SpikingLayer(n_prev, cell, recurrent=bool(is_rec), bias=bias))
            n_prev = int(size)

        self.readout_kind = readout["kind"]
        if self.readout_kind == "integrator":
            cell = IntegratorCell(n_classes, dict(readout["tau_m"]), train_tau_m=readout.get("train_tau_m", True))
            cell.backend = neuron.get("backend", "reference")  # the readout follows neuron.backend
        elif self.readout_kind == "spiking":
            cell = build_cell(_merge(neuron, readout.get("neuron")), n_classes, surrogate)
        else:
            raise ValueError(f"unknown model.readout.kind '{self.readout_kind}'; valid choices: integrator, spiking")
        self.readout = SpikingLayer(n_prev, cell, recurrent=False, bias=bias)

    # -- whole sequences -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> ModelOutput:
        """``x`` [T, B, n_in] -> :class:`ModelOutput`."""
        activity = {}
        h = x
        for i, layer in enumerate(self.layers):
            h, _, _ = layer(h)
            activity[f"layer{i}"] = h
        if self.readout_kind == "spiking":
            spikes, mem, _ = self.readout(h, record_membrane=True)
            activity["readout"] = spikes
            return ModelOutput(mem, activity)
        out, _, _ = self.readout(h)
        return ModelOutput(out, activity)

    # -- streaming: one step at a time -----------------------------------------------------------
    def init_state(self, batch: int, device=None, dtype=None) -> list[LayerState]:
        return [layer.init_state(batch, device, dtype) for layer in (*self.layers, self.readout)]

    def step(self, x_t: torch.Tensor, state: list[LayerState]) -> tuple[torch.Tensor, list[LayerState]]:
        """One time step for online use: ``x_t`` [B, n_in] -> (readout value [B, C], new state)."""
        new_state = []
        h = x_t
        for layer, s in zip((*self.layers, self.readout), state):
            h, s = layer.step(h, s)
            new_state.append(s)
        if self.readout_kind == "spiking":
            h = new_state[-1].cell[0]  # membrane of the spiking readout
        return h, new_state

    # -- structure, for metrics ------------------------------------------------------------------
    def synapses(self) -> list[Synapses]:
        """Every projection with its fan-out per source neuron (input, recurrent and onward)."""
        syn = []
        layers = list(self.layers) + [self.readout]
        sources = ["input"] + [f"layer{i}" for i in range(len(self.layers))]
        for src, layer in zip(sources, layers):
            syn.append(Synapses(src, layer.size))
        for i, layer in enumerate(self.layers):
            if layer.recurrent:
                syn.append(Synapses(f"layer{i}", layer.size))
        return syn

    def populations(self) -> dict[str, nn.Module]:
        """name -> cell, for every population (hidden layers and the readout)."""
        pops = {f"layer{i}": layer.cell for i, layer in enumerate(self.layers)}
        pops["readout"] = self.readout.cell
        return pops
