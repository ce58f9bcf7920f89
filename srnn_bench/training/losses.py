"""Readout/loss modes: how the readout sequence [T, B, C] becomes a loss and a prediction.

``last``         CE on the readout at the last step.
``mean``         NLL of log_softmax(mean_{t >= skip} u_o,t) (Yin's GSC code: all steps).
``masked_mean``  NLL of log_softmax(sum_{t >= skip} u_o,t / T): the skipped steps count as zeros in a mean over
                 all T steps (Yin's SSC code: ``output_sum`` over i > 0 divided by ``seq_num`` = 250; with
                 ``skip_steps`` 0 the same as ``mean``).
``sum_softmax``  CE on sum_{t >= skip} softmax(u_o,t) (Yin's SHD code: a double softmax, kept as coded).
``per_step``     sum_t NLL(log_softmax(u_o,t), y_t) over labelled steps (streaming: ECG, SoLi frames).
``spike_count``  CE on the spike counts of a spiking readout (Yin Methods: y = softmax(sum_t S_out,t)).

``skip_steps`` k drops steps t < k: SHD ``i > 10`` is k = 11, ECG ``i >= 10`` k = 10, SSC and PS-MNIST
``i > 0`` k = 1 (yin2021_checkpoints/*.json). The prediction is ``argmax`` of the scores, which takes
the first index on ties, as ``torch.max`` in the authors' code does (integer spike counts do tie).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import IGNORE_INDEX
from ..utils.checks import check_choice

LOSS_MODES = ("last", "mean", "masked_mean", "sum_softmax", "per_step", "spike_count")


def check_loss(mode: str, readout_kind: str) -> None:
    """The one check of ``trainer.loss``: a known mode, and ``spike_count`` only with a spiking readout
    (it counts the readout's spikes). Called by the trainer and, before any work, by
    :func:`srnn_bench.config_validation.validate_config`."""
    check_choice("trainer.loss", mode, LOSS_MODES)
    if mode == "spike_count" and readout_kind != "spiking":
        raise ValueError("trainer.loss=spike_count needs a spiking readout: set model.readout.kind=spiking")


def check_labels(mode: str, per_step_labels: bool, dataset: str | None = None) -> None:
    """The one check that ``trainer.loss`` fits the labels: ``per_step`` needs per-step labels [T, B], every
    other mode one label per sequence [B]. ``dataset`` names them in the message (``None``: this batch).
    :func:`srnn_bench.config_validation.validate_against_data` calls it once the dataset is built."""
    where = f"dataset '{dataset}'" if dataset else "this batch"
    if mode == "per_step" and not per_step_labels:
        seq = "|".join(m for m in LOSS_MODES if m != "per_step")
        raise ValueError(f"trainer.loss=per_step needs per-step labels, but {where} has one label per sequence; "
                         f"use trainer.loss={seq}")
    if mode != "per_step" and per_step_labels:
        raise ValueError(f"trainer.loss={mode} needs one label per sequence, but {where} has per-step labels; "
                         "use trainer.loss=per_step")


def sequence_logits(mode: str, output, skip_steps: int = 0) -> torch.Tensor:
    """[B, C] scores of a sequence-label mode (argmax = prediction)."""
    u = output.output[skip_steps:]
    if mode == "last":
        return u[-1]
    if mode == "mean":
        return F.log_softmax(u.mean(0), dim=-1)
    if mode == "masked_mean":  # Yin's SSC code: sum over t >= skip, divided by the full length T
        return F.log_softmax(u.sum(0) / output.output.shape[0], dim=-1)
    if mode == "sum_softmax":
        return F.softmax(u, dim=-1).sum(0)
    if mode == "spike_count":  # a spiking readout's spikes (check_loss)
        return output.activity["readout"][skip_steps:].sum(0)
    raise ValueError(f"trainer.loss={mode} has no sequence scores (check_loss: {', '.join(LOSS_MODES)})")


def loss_and_correct(mode: str, output, y: torch.Tensor, skip_steps: int = 0) -> tuple[torch.Tensor, int, int]:
    """Return ``(loss, n_correct, n_counted)``; ``y`` is [B] (sequence) or [T, B] (per step)."""
    check_labels(mode, y.ndim == 2)
    if mode == "per_step":
        u, y = output.output[skip_steps:], y[skip_steps:]
        logp = F.log_softmax(u, dim=-1)  # [T, B, C]
        nll = F.nll_loss(logp.flatten(0, 1), y.flatten(), ignore_index=IGNORE_INDEX, reduction="none").view(y.shape)
        valid = y != IGNORE_INDEX
        per_t = nll.sum(1) / valid.sum(1).clamp(min=1)
        correct = ((u.argmax(-1) == y) & valid).sum().item()  # argmax of u, not of log_softmax(u): rounding ties
        return per_t.sum(), correct, int(valid.sum().item())
    scores = sequence_logits(mode, output, skip_steps)
    if mode in ("mean", "masked_mean"):
        loss = F.nll_loss(scores, y)
    else:
        loss = F.cross_entropy(scores, y)
    return loss, int((scores.argmax(-1) == y).sum().item()), int(y.numel())


def anytime_correct(output, y: torch.Tensor) -> torch.Tensor:
    """[T] number of sequences whose readout argmax at step t is the label (Yin Fig. 4e-i)."""
    if y.ndim != 1:
        valid = y != IGNORE_INDEX
        return ((output.output.argmax(-1) == y) & valid).sum(1)
    return (output.output.argmax(-1) == y.unsqueeze(0)).sum(1)
