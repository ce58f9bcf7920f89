"""Truncated BPTT (``trainer.tbptt_steps = k > 0``): the pieces the trainer's chunk loop is made of.

The encoded batch ``x`` [T, B, F] is cut into chunks of ``k`` steps ``[a, b)`` (the last may be
shorter). Each chunk runs from the state the previous chunk ended in, *detached*, so the backward
of a chunk never reaches earlier chunks: the graph (and the memory) of only ``k`` steps is alive at
a time. Two ways to use the chunk gradients (``trainer.tbptt_update``):

``sequence`` (default)  gradients of all chunks are accumulated and the optimiser steps once per
    batch, after clipping the accumulated gradient: Yin et al. 2021 (Methods, "the error-gradient is
    calculated and accumulated through all timesteps after which the weights are updated") with the
    backward cut at the chunk boundaries. Every loss mode is supported and the gradient is exactly
    the full-sequence loss's with the paths through the carried state cut (nothing else changes):

    * additive losses (``per_step``: sum_t L_t; ``last``: L_T) are split into their chunk parts;
      ``per_step`` chunk [a, b) contributes sum_{t in [a, b), t >= skip_steps} L_t (each L_t already
      normalised by the labelled frames of step t, as in the full loss), ``last`` only contributes
      in the final chunk (earlier chunks run without a graph);
    * the other losses are functions of a sum over *all* steps (``mean``: log_softmax of the time
      mean; ``sum_softmax``: sum_t softmax(u_t); ``spike_count``: sum_t S_t), so no per-chunk loss
      has their gradient. A first pass without graph computes the full-sequence outputs, the loss
      L and g_t = dL/d(output_t) for every step (readout values and, for ``spike_count``, readout
      spikes); each chunk then back-propagates the linearised loss sum_{t in chunk} <g_t, output_t>,
      whose gradient w.r.t. the chunk's parameters is exactly dL/d(output_t) * d(output_t)/dtheta
      summed over the chunk. Cost: one extra forward without graph (no extra memory beyond the
      outputs, which the metrics need anyway). The random draws of both passes are the same
      (``torch.random.fork_rng``), so stochastic forwards (random initial membranes, SRC noise)
      give the same outputs in both.

``chunk``  standard TBPTT(k, k) (Williams & Peng 1990): clip and step the optimiser after every
    chunk, so later chunks run on updated weights. Needs a loss that is a sum over steps
    (``trainer.loss=per_step``: the streaming tasks, e.g. ECG); the others have no per-chunk loss.

With ``k >= T`` there is one chunk and the trainer takes the plain full-BPTT path (identical numbers).
Loss and accuracy of a training batch are computed on the concatenated outputs of the whole sequence
(with ``chunk`` updates, each chunk's outputs are those of the weights current at that chunk).
"""

from __future__ import annotations

import torch

from ..data import IGNORE_INDEX
from ..models.srnn import ModelOutput
from ..utils.checks import check_choice
from .losses import loss_and_correct

TBPTT_UPDATES = ("sequence", "chunk")
ADDITIVE_LOSSES = ("last", "per_step")
"""Loss modes that are a sum of per-step terms (``last``: one term), so each chunk has its own part."""


def check_steps(steps) -> None:
    """``trainer.tbptt_steps`` as given: ``null`` or an integer >= 0 (one-line ``ValueError``)."""
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ValueError(f"trainer.tbptt_steps must be an integer >= 0 (0 or null = full BPTT), got {steps!r}")


def check_tbptt(steps, update: str, loss: str) -> None:
    """One-line ``ValueError`` for an impossible ``trainer.tbptt_*`` setting (no model needed)."""
    if steps is None:
        return
    check_steps(steps)
    check_choice("trainer.tbptt_update", update, TBPTT_UPDATES)
    if steps and update == "chunk" and loss != "per_step":
        raise ValueError(
            f"trainer.tbptt_update=chunk needs trainer.loss=per_step (a sum over steps, so every chunk has its own "
            f"loss); trainer.loss={loss} has none: use trainer.tbptt_update=sequence"
        )


def check_model(model, steps: int) -> None:
    """Refuse models whose forward cannot be cut into chunks without changing what it computes."""
    if not steps:
        return
    if getattr(model, "bidirectional", False):
        raise ValueError(
            f"trainer.tbptt_steps={steps} cannot chunk a bidirectional model (model.bidirectional=true: its backward "
            "half needs the whole sequence); use trainer.tbptt_steps=0"
        )
    block = getattr(model, "block_steps", 1)
    if block != 1:
        raise ValueError(f"trainer.tbptt_steps={steps} cannot chunk a block readout (model.readout.block_steps="
                         f"{block}); use trainer.tbptt_steps=0")
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            raise ValueError(
                f"trainer.tbptt_steps={steps} cannot chunk {name}: its BatchNorm (neuron ff_norm, e.g. plif_*) "
                "normalises over all T x B frames of the batch; use trainer.tbptt_steps=0"
            )


def chunk_bounds(n_steps: int, k: int) -> list[tuple[int, int]]:
    """``[(0, k), (k, 2k), ..., (., n_steps)]``; one chunk ``(0, n_steps)`` when ``k`` is 0 or >= n_steps."""
    if k <= 0 or k >= n_steps:
        return [(0, n_steps)]
    return [(a, min(a + k, n_steps)) for a in range(0, n_steps, k)]


def chunk_loss(mode: str, out: ModelOutput, y: torch.Tensor, a: int, b: int, n_steps: int, skip_steps: int = 0):
    """The part of the full-sequence loss of an additive mode that steps ``[a, b)`` contribute
    (``None``: none, i.e. ``last`` before the final chunk). Summed over the chunks: the full loss."""
    if mode == "last":
        return loss_and_correct("last", out, y)[0] if b == n_steps else None
    if mode != "per_step":
        raise ValueError(f"trainer.loss={mode} is not a sum over steps; valid here: {', '.join(ADDITIVE_LOSSES)}")
    yc = y[a:b]
    if skip_steps > a:  # steps before skip_steps carry no loss (0 terms, 0 counted)
        yc = yc.clone()
        yc[: skip_steps - a] = IGNORE_INDEX
    return loss_and_correct("per_step", out, yc)[0]


def output_gradients(mode: str, out: ModelOutput, y: torch.Tensor, skip_steps: int = 0):
    """Full-sequence loss of ``out`` (computed without a graph to the model) and its gradient w.r.t.
    each output tensor: ``(loss, n_correct, n_counted, grads)``, ``grads`` a ModelOutput whose
    entries are ``dL/d(tensor)`` ([T, ...]) or ``None`` where the loss does not use the tensor."""
    leaf_out = out.output.detach().requires_grad_(True)
    leaf_act = {k: v.detach().requires_grad_(True) for k, v in out.activity.items()}
    with torch.enable_grad():
        loss, correct, counted = loss_and_correct(mode, ModelOutput(leaf_out, leaf_act), y, skip_steps)
        grads = torch.autograd.grad(loss, [leaf_out, *leaf_act.values()], allow_unused=True)
    return loss.detach(), correct, counted, ModelOutput(grads[0], dict(zip(leaf_act, grads[1:])))


def linearised_loss(grads: ModelOutput, out: ModelOutput, a: int, b: int) -> torch.Tensor:
    """sum_{t in [a, b)} <g_t, output_t> over the tensors the loss uses: its gradient w.r.t. the
    parameters is the full loss's gradient restricted to the paths through this chunk's outputs."""
    total = out.output.new_zeros(())
    if grads.output is not None:
        total = total + (grads.output[a:b] * out.output).sum()
    for k, g in grads.activity.items():
        if g is not None:
            total = total + (g[a:b] * out.activity[k]).sum()
    return total


LOSS_ACTIVITY = ("readout",)
"""Activities a loss mode reads (``spike_count``: the readout spikes); hidden-layer activity is not
kept across chunks (training batches report loss and accuracy only)."""


def cat_outputs(chunks: list[ModelOutput]) -> ModelOutput:
    """What the loss reads of consecutive chunks' outputs, joined along time and detached."""
    keys = [k for k in LOSS_ACTIVITY if k in chunks[0].activity]
    return ModelOutput(
        torch.cat([c.output.detach() for c in chunks]),
        {k: torch.cat([c.activity[k].detach() for c in chunks]) for k in keys},
    )
