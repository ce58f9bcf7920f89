"""The contract between a published checkpoint and an srnn_bench model.

A :class:`Converter` says which experiment config expresses a published network (architecture and every
constant the checkpoint implies: per-layer b_j0 / beta, dense vs recurrent layers, readout, decision rule,
input handling, float64, deterministic zero initial state) and how the authors' tensors map onto the
parameters of the model that config builds. Converter modules (``srnn_bench.zoo.yin2021_*``) expose
``CONVERTERS: dict[str, Converter]`` keyed by the zoo name (the golden set's name, e.g. ``"ecg_0.8589"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .safe_load import AuthorsCheckpoint


@dataclass(frozen=True)
class Converter:
    """experiment: config name under ``configs/experiment/`` (e.g. ``"yin2021/ecg_0_8589"``);
    n_in / n_classes: the model's input features (after the encoder) and classes;
    matches: True if a checkpoint read by :func:`~srnn_bench.zoo.safe_load.load_authors_checkpoint` has this
    network's parameter names and shapes (how ``zoo import FILE`` recognises a user's retrained file);
    state_dict: ``(checkpoint, model built from the experiment config) -> model.state_dict()``-compatible dict
    (every key of the model; taus as stored, never clamped)."""

    experiment: str
    n_in: int
    n_classes: int
    matches: Callable[[AuthorsCheckpoint], bool]
    state_dict: Callable[[AuthorsCheckpoint, nn.Module], dict[str, torch.Tensor]]


def shapes_match(ckpt: AuthorsCheckpoint, expected: dict[str, tuple[int, ...] | None]) -> bool:
    """True if every expected key is in ``ckpt.state`` with that shape (``None``: any shape)."""
    return all(k in ckpt.state and (s is None or tuple(ckpt.state[k].shape) == tuple(s)) for k, s in expected.items())
