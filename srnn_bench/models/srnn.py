"""The spiking recurrent network of Yin et al. 2021 (Figure 1b): input -> stacked layers, each dense or
recurrent -> readout. One class serves every ``neuron=`` choice: the cell declares the synapses it needs
(``gates``, ``recurrent_input``, ``recurrent_synapses``, ``ff_norm``; see ``srnn_bench.neurons``), so
``neuron=lstm`` with the default ``model=srnn`` is a stacked LSTM with the same readout and trainer.

Readouts (``model.readout.kind``: integrator, spiking, linear, population; ``model.readout.block_steps``):
one class per kind in :mod:`srnn_bench.models.readouts`.

``model.bidirectional=true`` (Yin Figure S2a, TIMIT): a forward and a backward stack of the hidden
layers read the sequence in both directions, merged by ``model.bidirectional_merge``:

- ``mean`` (default; the paper, Methods "TIMIT": "The mean of these layer's output is then fed into the
  last layer"): two separate stacks, the mean of their top outputs, aligned in time, drives the readout;
- ``concat``: the standard bidirectional RNN (Schuster & Paliwal 1997; the Bi-LSTM of Yin's Table S2):
  every layer's forward and backward halves both read the concatenation of the previous layer's two
  halves, and the top concatenation drives what follows. With one hidden layer this is the authors' TIMIT
  code (bi_srnn-Dense-v3: ``torch.cat((fw_spike, bw_spike), -1)``; the published checkpoint's readout
  weights are [61, 1024]).

``model.backward_input``: what the (first) backward layer reads at its step ``l`` (``T`` steps):
``reversed`` (default) ``x[T - 1 - l]``, or ``authors`` ``x[(-l) mod T]`` -- the authors' TIMIT code reads
``input[:, -l // 5]``, which Python evaluates as ``(-l) // 5`` (frame 0 first, then frames 99, 98, ..., 1,
then frame 0 again for the last 4 steps; golden README, quirk 4). On the frame-held input
(``encoder.hold_steps``) that is exactly the reversed sequence rotated by one step, ``roll(flip(x), 1)``.
Either way the backward outputs are flipped back (the authors' ``bw_spikes.insert(0, s)``): output ``k``
of a backward layer is the one of its processing step ``T - 1 - k``.

``model.head=[n1, n2, ...]``: dense layers ``y = f(W h + b)`` (``model.head_activation``: relu | tanh |
identity; activity ``head{j}``) between the hidden stack and the readout: the "three dense layers with
100, 20 and 6 neurons" of Yin's ECG Bi-LSTM 290 (Table S2 caption) are ``head=[100, 20]`` + a linear readout.

A bidirectional network cannot stream (its backward half needs the future), so its ``step`` raises; so
does a block readout (``model.readout.block_steps > 1``), whose output step needs a whole block.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from numbers import Integral
from typing import NamedTuple

import torch
from torch import nn

from ..neurons import IdentityCell, build_cell
from ..neurons.conventional import ACTIVATIONS
from ..surrogates import Surrogate
from ..utils.checks import check_choice
from .layers import LayerState, SpikingLayer, backend_of
from .readouts import Readout, build_readout, merge_neuron

log = logging.getLogger(__name__)

BIDIRECTIONAL_MERGES = ("mean", "concat")
BACKWARD_INPUTS = ("reversed", "authors")


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


def per_layer_recurrent(recurrent: bool | list[bool], n_layers: int) -> list[bool]:
    """``model.recurrent`` (one bool, or one per hidden layer) as one bool per layer, checked."""
    rec = [bool(recurrent)] * n_layers if isinstance(recurrent, bool) else [bool(r) for r in recurrent]
    if len(rec) != n_layers:
        raise ValueError(f"model.recurrent has {len(rec)} entries for {n_layers} hidden layers")
    return rec


def _layer(n_in: int, neuron: Mapping, size: int, surrogate: Surrogate, requested: bool, bias: bool,
           name: str) -> SpikingLayer:
    """Hidden layer ``name`` of the ``neuron`` config (its ``backend`` picks the layer's loop)."""
    cell = build_cell(neuron, size, surrogate)
    fixed = getattr(cell, "recurrent_synapses", None)
    if fixed is not None and bool(fixed) != bool(requested):
        log.warning("%s: this neuron is %s by definition; model.recurrent=%s ignored for it",
                    name, "recurrent" if fixed else "feed-forward", requested)
    return SpikingLayer(n_in, cell, recurrent=bool(requested if fixed is None else fixed), bias=bias,
                        backend=backend_of(neuron))


class SRNN(nn.Module):
    """Stacked layers and a readout.

    Args:
        n_in, n_classes: input features and output classes.
        hidden: sizes of the hidden layers.
        recurrent: one bool per hidden layer (or one for all): recurrent or dense.
        neuron: the ``neuron=`` config; ``layer_overrides[i]`` is merged into it for hidden layer i
            (per-layer time constants of Table S1, or any other neuron key).
        readout: ``{"kind": one of READOUTS, ...}`` (see the module docstring).
        bidirectional: forward + backward stacks (Yin Figure S2a), merged by ``bidirectional_merge``
            (``mean``: separate stacks, mean of the tops | ``concat``: concatenated at every layer, a standard
            bidirectional RNN); the first backward layer reads ``backward_input`` (``reversed`` | ``authors``).
        head, head_activation: dense layers between the hidden stack and the readout.
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
        bidirectional: bool = False,
        bidirectional_merge: str = "mean",
        backward_input: str = "reversed",
        head: list[int] | None = None,
        head_activation: str = "relu",
    ) -> None:
        super().__init__()
        check_choice("model.bidirectional_merge", bidirectional_merge, BIDIRECTIONAL_MERGES)
        check_choice("model.backward_input", backward_input, BACKWARD_INPUTS)
        self.bidirectional_merge, self.backward_input = bidirectional_merge, backward_input
        hidden = list(hidden)
        for i, size in enumerate(hidden):
            if isinstance(size, bool) or not isinstance(size, Integral) or size <= 0:
                raise ValueError(f"model.hidden[{i}] must be a positive integer (a layer size), got {size!r}")
        if not hidden and bidirectional:
            raise ValueError("model.bidirectional=true needs at least one hidden layer (model.hidden)")
        rec = per_layer_recurrent(recurrent, len(hidden))
        overrides = list(layer_overrides or [])
        if len(overrides) > len(hidden):
            raise ValueError(f"model.layer_overrides has {len(overrides)} entries for {len(hidden)} layers")
        overrides += [{}] * (len(hidden) - len(overrides))
        self.bidirectional = bool(bidirectional)
        self.concat = self.bidirectional and bidirectional_merge == "concat"
        width = 2 if self.concat else 1  # a layer's input width per unit of the layer below

        def stack() -> nn.ModuleList:
            layers, n_prev = nn.ModuleList(), n_in
            for i, (size, is_rec, over) in enumerate(zip(hidden, rec, overrides)):
                layers.append(_layer(n_prev, merge_neuron(neuron, over), int(size), surrogate, is_rec, bias, f"layer{i}"))
                n_prev = width * int(size)
            return layers

        self.layers = stack()
        self.layers_bwd = stack() if self.bidirectional else None
        n_prev = width * int(hidden[-1]) if hidden else n_in  # hidden=[]: the input feeds the readout (De Geeter's 1-layer net)
        self.head = nn.ModuleList()
        if head:
            check_choice("model.head_activation", head_activation, ACTIVATIONS)
        for size in head or []:
            if isinstance(size, bool) or int(size) <= 0:
                raise ValueError(f"model.head must list positive layer sizes, got {list(head)}")
            self.head.append(SpikingLayer(n_prev, IdentityCell(int(size), head_activation), recurrent=False, bias=bias))
            n_prev = int(size)

        # the readout (``readout.*``) and, for the population readout, its final layer (``final.*``)
        self.final: SpikingLayer | None
        self.readout: Readout
        self.final, self.readout = build_readout(readout, n_prev, n_classes, neuron, surrogate, bias)

    @property
    def readout_kind(self) -> str:
        """``model.readout.kind``."""
        return self.readout.kind

    @property
    def block_steps(self) -> int:
        """``model.readout.block_steps``."""
        return self.readout.block_steps

    @property
    def _stages(self) -> list[SpikingLayer]:
        """Layers that run in the forward direction, in order (hidden, head, final population, readout)."""
        return [*self.layers, *self.head, *([self.final] if self.final is not None else []), self.readout]

    # -- whole sequences -------------------------------------------------------------------------
    def forward(
        self, x: torch.Tensor, state: list[LayerState] | None = None, return_state: bool = False
    ) -> ModelOutput | tuple[ModelOutput, list[LayerState]]:
        """``x`` [T, B, n_in] -> :class:`ModelOutput`; ``state`` as from :meth:`init_state` (optional).

        ``return_state=True`` also returns the state after the last step (same layout as
        :meth:`init_state`), so a long sequence can be run chunk by chunk with the state carried
        (truncated BPTT, ``trainer.tbptt_steps``): ``out, state = model(x[a:b], state, return_state=True)``.
        A bidirectional network cannot be chunked (its backward half needs the future), so it raises.
        """
        if return_state and self.bidirectional:
            raise ValueError(
                "model.bidirectional=true cannot carry a state across chunks: its backward half needs the whole "
                "sequence"
            )
        n = len(self.layers)
        if state is None:
            state = [None] * (len(self._stages) + (n if self.bidirectional else 0))
        activity, final_state = {}, []
        h = x
        if self.concat:  # standard bidirectional RNN: both halves of layer i read [fwd, bwd] of layer i - 1
            for i, (fwd, bwd) in enumerate(zip(self.layers, self.layers_bwd)):
                hf, _, s = fwd(h, state[i])
                hb, _, _ = bwd(self.backward_sequence(h) if i == 0 else h.flip(0), state[len(self._stages) + i])
                hb = hb.flip(0)  # backward output k = its processing step T - 1 - k (authors: insert(0, s))
                activity[f"layer{i}"], activity[f"layer{i}_bwd"] = hf, hb
                h = torch.cat([hf, hb], -1)
                final_state.append(s)
        else:
            for i, layer in enumerate(self.layers):
                h, _, s = layer(h, state[i])
                activity[f"layer{i}"] = h
                final_state.append(s)
        if self.bidirectional and not self.concat:
            hb = self.backward_sequence(x)
            for i, layer in enumerate(self.layers_bwd):
                hb, _, _ = layer(hb, state[len(self._stages) + i])
                activity[f"layer{i}_bwd"] = hb.flip(0)
            h = 0.5 * (h + hb.flip(0))  # Figure S2a / Methods "TIMIT": mean of the two directions
        for j, layer in enumerate(self.head):
            h, _, s = layer(h, state[n + j])
            activity[f"head{j}"] = h
            final_state.append(s)
        if self.final is not None:
            h, _, s = self.final(h, state[n + len(self.head)])
            activity[f"layer{n}"] = h
            final_state.append(s)
        output, readout_activity, s = self.readout.read(h, state[len(self._stages) - 1])
        activity.update(readout_activity)
        out = ModelOutput(output, activity)
        final_state.append(s)
        return (out, final_state) if return_state else out

    def backward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """What the backward stack reads, step by step (``model.backward_input``): ``reversed`` ``x[T-1-l]``;
        ``authors`` ``x[(-l) mod T]`` = ``roll(flip(x), 1)`` (their TIMIT code's ``input[:, -l // 5]``)."""
        hb = x.flip(0)
        return hb.roll(1, 0) if self.backward_input == "authors" else hb

    # -- streaming: one step at a time -----------------------------------------------------------
    def init_state(self, batch: int, device=None, dtype=None) -> list[LayerState]:
        """Initial state of every layer: forward stages, then (bidirectional) the backward stack.
        ``device`` / ``dtype`` default to those of the model's parameters."""
        p = next(self.parameters())
        device, dtype = device or p.device, dtype or p.dtype
        layers = self._stages + (list(self.layers_bwd) if self.bidirectional else [])
        return [layer.init_state(batch, device, dtype) for layer in layers]

    def step(self, x_t: torch.Tensor, state: list[LayerState]) -> tuple[torch.Tensor, list[LayerState]]:
        """One time step for online use: ``x_t`` [B, n_in] -> (readout value [B, C], new state)."""
        if self.bidirectional:
            raise ValueError("model.bidirectional=true cannot stream: its backward half needs the whole sequence")
        if self.block_steps > 1:
            raise ValueError(f"model.readout.block_steps={self.block_steps} cannot stream step by step: an output "
                             "step needs a whole block")
        new_state = []
        h = x_t
        for layer, s in zip(self._stages, state):
            h, s = layer.step(h, s)
            new_state.append(s)
        return self.readout.read_step(h, new_state[-1]), new_state

    # -- structure, for metrics ------------------------------------------------------------------
    def synapses(self) -> list[Synapses]:
        """Every projection with its fan-out per source neuron (gate multiplicity included)."""
        syn = []
        n = len(self.layers)
        stacks = [("", self.layers)] + ([("_bwd", self.layers_bwd)] if self.bidirectional else [])
        for suffix, layers in stacks:
            for i, layer in enumerate(layers):
                if i == 0:
                    below = ["input"]
                else:  # concat: both halves of the layer below feed this half
                    below = [f"layer{i - 1}{d}" for d, _ in stacks] if self.concat else [f"layer{i - 1}{suffix}"]
                syn += [Synapses(src, layer.w_in.out_features) for src in below]
                if layer.w_rec is not None:
                    syn.append(Synapses(f"layer{i}{suffix}", layer.w_rec.out_features))
        top = [f"layer{n - 1}{suffix}" for suffix, _ in stacks] if n else ["input"]  # bidirectional: both feed the mean
        for j, layer in enumerate(self.head):
            syn += [Synapses(src, layer.w_in.out_features) for src in top]
            top = [f"head{j}"]
        nxt = self.final if self.final is not None else self.readout
        syn += [Synapses(src, nxt.w_in.out_features) for src in top]
        if self.final is not None:
            syn.append(Synapses(f"layer{n}", self.readout.w_in.out_features))
        return syn

    def populations(self) -> dict[str, nn.Module]:
        """name -> cell, for every population (hidden layers, final population, readout)."""
        pops = {f"layer{i}": layer.cell for i, layer in enumerate(self.layers)}
        if self.bidirectional:
            pops.update({f"layer{i}_bwd": layer.cell for i, layer in enumerate(self.layers_bwd)})
        pops.update({f"head{j}": layer.cell for j, layer in enumerate(self.head)})
        if self.final is not None:
            pops[f"layer{len(self.layers)}"] = self.final.cell
        pops["readout"] = self.readout.cell
        return pops
