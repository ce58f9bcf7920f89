"""Readouts (``model.readout.kind``): one class per kind, each a :class:`SpikingLayer` of C output units.

- ``integrator`` — non-spiking leaky integrator, ``u_o = alpha_o u_o + (1 - alpha_o) W_o y_t`` (Yin Methods);
- ``spiking``    — a population of the hidden neuron type (ALIF outputs: ECG; with
  ``trainer.loss=spike_count`` the spike-count readout of (P)S-MNIST); ``output`` is its membrane;
- ``linear``     — ``W_o y_t + b`` per step (Ponghiran & Roy's fully connected output, RNN baselines);
- ``population`` — De Geeter et al. Sec. 4.2: a final layer of ``group * C`` neurons of the hidden type
  (activity ``layer{L}``), connected by FROZEN weights (+``w_pos`` from its own group of ``group``
  neurons, ``w_neg`` from all others; +1 / -0.1) to C leaky integrators ``u = alpha u + I`` (alpha 0.99).

``model.readout.block_steps = k`` (default 1; the authors' TIMIT code: 5, each frame held 5 steps): the
readout is updated once per block of ``k`` steps with the mean of the block's ``k`` input vectors
(``sum(merge_k) / 5`` in bi_srnn-Dense-v3), so the output has ``T / k`` steps (one per frame); such a
readout cannot stream step by step (an output step needs a whole block).

A readout is the last stage of :class:`srnn_bench.models.srnn.SRNN` (its parameters ``readout.w_in.*``,
``readout.cell.*``); the population readout's final layer of ``group * C`` neurons is a stage of its own
before it (``final.*``), built by :meth:`Readout.final_layer`. The model asks its readout for the output
sequence (:meth:`Readout.read`), the output of one streaming step (:meth:`Readout.read_step`) and
nothing else, so adding a kind is adding a class here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from omegaconf import OmegaConf
from torch import nn

from ..neurons import IdentityCell, IntegratorCell, LeakySumCell, build_cell
from ..surrogates import Surrogate
from ..resources import group_defaults
from ..utils.checks import check_choice
from .layers import LayerState, SpikingLayer, backend_of


def merge_neuron(base: Mapping, override: Mapping | None) -> dict:
    """The ``neuron=`` config with ``override`` (``model.layer_overrides[i]``, ``model.readout.neuron``) merged in."""
    merged = OmegaConf.merge(OmegaConf.create(dict(base)), OmegaConf.create(dict(override or {})))
    return OmegaConf.to_container(merged, resolve=True)


def block_steps(cfg: Mapping) -> int:
    """``model.readout.block_steps``, checked."""
    block = cfg["block_steps"]
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"model.readout.block_steps must be > 0 (a whole number of steps), got {block!r}")
    return int(block)


def block_mean(h: torch.Tensor, k: int) -> torch.Tensor:
    """``model.readout.block_steps = k``: [T, B, F] -> [T / k, B, F], the mean of each block of k steps
    (the authors' TIMIT code: ``sum(merged spikes of the frame's 5 steps) / 5`` feeds the readout)."""
    if k == 1:
        return h
    if h.shape[0] % k:
        raise ValueError(f"model.readout.block_steps={k} needs a sequence length divisible by {k}, got "
                         f"{h.shape[0]} steps (hold each frame k steps: encoder.hold_steps={k})")
    return h.reshape(h.shape[0] // k, k, *h.shape[1:]).sum(1) / k


class Readout(SpikingLayer):
    """C output units fed by the top of the network; ``cfg`` is ``model.readout``.

    Subclasses set ``kind`` and build their cell in ``make_cell``; ``read`` / ``read_step`` give the
    model output (``ModelOutput.output``) of a whole sequence / of one step.
    """

    kind: ClassVar[str]

    def __init__(self, n_in: int, n_classes: int, cfg: Mapping, neuron: Mapping, surrogate: Surrogate,
                 bias: bool = True) -> None:
        super().__init__(n_in, self.make_cell(n_classes, cfg, neuron, surrogate), recurrent=False, bias=bias,
                         backend=self.backend(cfg, neuron))
        self.block_steps = block_steps(cfg)

    @staticmethod
    def make_cell(n_classes: int, cfg: Mapping, neuron: Mapping, surrogate: Surrogate) -> nn.Module:
        raise NotImplementedError

    @staticmethod
    def backend(cfg: Mapping, neuron: Mapping) -> str:
        """The readout layer's backend: ``reference`` unless the kind follows ``neuron.backend``."""
        return "reference"

    @staticmethod
    def final_layer(n_in: int, n_classes: int, cfg: Mapping, neuron: Mapping, surrogate: Surrogate,
                    bias: bool) -> SpikingLayer | None:
        """A layer between the network and the readout that only this kind has (``None``: none)."""
        return None

    def read(self, h: torch.Tensor, state: LayerState | None) -> tuple[torch.Tensor, dict, LayerState]:
        """``h`` [T, B, F] -> (output [T / block_steps, B, C], activities of the readout, final state)."""
        out, _, s = self(block_mean(h, self.block_steps), state)
        return out, {}, s

    def read_step(self, out: torch.Tensor, state: LayerState) -> torch.Tensor:
        """The model output of one streaming step, from this layer's step output and new state."""
        return out


class IntegratorReadout(Readout):
    """Non-spiking leaky integrator ``u_o = alpha_o u_o + (1 - alpha_o) W_o y_t`` (Yin Methods)."""

    kind = "integrator"

    @staticmethod
    def make_cell(n_classes, cfg, neuron, surrogate):
        return IntegratorCell(n_classes, dict(cfg["tau_m"]), train_tau_m=cfg["train_tau_m"],
                              u0=cfg["u0"])

    @staticmethod
    def backend(cfg, neuron):
        return backend_of(neuron)  # the readout follows neuron.backend


class SpikingReadout(Readout):
    """A population of the hidden neuron type (``model.readout.neuron`` merged in); the output is its
    membrane, its spikes are the activity ``readout`` (the spike-count loss reads them)."""

    kind = "spiking"

    @staticmethod
    def make_cell(n_classes, cfg, neuron, surrogate):
        return build_cell(merge_neuron(neuron, cfg.get("neuron")), n_classes, surrogate)

    @staticmethod
    def backend(cfg, neuron):
        return backend_of(merge_neuron(neuron, cfg.get("neuron")))

    def read(self, h, state):
        spikes, mem, s = self(block_mean(h, self.block_steps), state, record_membrane=True)
        return mem, {"readout": spikes}, s

    def read_step(self, out, state):
        return state.cell[0]  # membrane of the spiking readout


class LinearReadout(Readout):
    """``W_o y_t + b`` per step (Ponghiran & Roy's fully connected output, the RNN baselines)."""

    kind = "linear"

    @staticmethod
    def make_cell(n_classes, cfg, neuron, surrogate):
        return IdentityCell(n_classes)


class PopulationReadout(Readout):
    """De Geeter et al. Sec. 4.2: ``group * C`` neurons of the hidden type (:meth:`final_layer`) -> FROZEN
    weights (+``w_pos`` from a class's own group, ``w_neg`` from all others) -> C leaky integrators
    ``u = alpha u + I`` without bias."""

    kind = "population"

    def __init__(self, n_in, n_classes, cfg, neuron, surrogate, bias=True):
        super().__init__(n_in, n_classes, cfg, neuron, surrogate, bias=False)
        group = self.group(cfg)
        w = torch.full((n_classes, n_in), float(cfg["w_neg"]))
        for c in range(n_classes):
            w[c, c * group : (c + 1) * group] = float(cfg["w_pos"])
        self.w_in.weight.data.copy_(w)
        self.w_in.weight.requires_grad_(False)  # frozen (Sec. 4.2)

    @staticmethod
    def group(cfg: Mapping) -> int:
        group = int(cfg["group"])
        if group < 1:
            raise ValueError(f"model.readout.group must be >= 1, got {group}")
        return group

    @staticmethod
    def make_cell(n_classes, cfg, neuron, surrogate):
        return LeakySumCell(n_classes, float(cfg["alpha"]))

    @staticmethod
    def final_layer(n_in, n_classes, cfg, neuron, surrogate, bias):
        final = merge_neuron(neuron, cfg.get("neuron"))
        cell = build_cell(final, PopulationReadout.group(cfg) * n_classes, surrogate)
        return SpikingLayer(n_in, cell, recurrent=False, bias=bias, backend=backend_of(final))


READOUT_CLASSES: dict[str, type[Readout]] = {
    cls.kind: cls for cls in (IntegratorReadout, SpikingReadout, LinearReadout, PopulationReadout)
}
READOUTS = tuple(READOUT_CLASSES)


def readout_defaults() -> dict:
    """The ``model.readout`` defaults: the ``readout`` node of ``configs/model/srnn.yaml``."""
    return group_defaults("model", "srnn")["readout"]


def build_readout(cfg: Mapping, n_in: int, n_classes: int, neuron: Mapping, surrogate: Surrogate,
                  bias: bool = True) -> tuple[SpikingLayer | None, Readout]:
    """``model.readout`` -> (the kind's final layer or ``None``, the readout), fed by ``n_in`` features. ``cfg``
    is merged over the ``readout`` node of ``configs/model/srnn.yaml`` (:func:`readout_defaults`), so the
    readout classes index their keys and no default is written twice."""
    kind = cfg["kind"]
    check_choice("model.readout.kind", kind, READOUTS)
    cfg = {**readout_defaults(), **dict(cfg)}
    cls = READOUT_CLASSES[kind]
    final = cls.final_layer(n_in, n_classes, cfg, neuron, surrogate, bias)
    return final, cls(final.size if final is not None else n_in, n_classes, cfg, neuron, surrogate, bias)
