"""A layer = synapses (feed-forward ``W_in``, optional recurrent ``W_rec``) + a neuron cell + the time loop.

The cell holds the neuron dynamics as a pure step function (``srnn_bench.neurons``); this module only
computes the synaptic current ``I_t = W_in x_t + W_rec y_{t-1} (+ bias)`` (Yin et al. 2021, Methods)
and iterates over time. Tensors are time-first: [T, B, F].

The cell's optional attributes shape the synapses (see ``srnn_bench.neurons``): ``gates`` widens both
projections to ``gates * N`` (LSTM 4, GRU 3, gated PLIF 2); ``recurrent_input = "concat"`` hands the
cell ``[W_in x, W_rec y]`` instead of their sum (GRU); ``ff_norm`` puts a BatchNorm (no bias in
``W_in``) on the feed-forward projection, with statistics over all T x B frames of the batch
(Ponghiran & Roy's code; in ``step`` it normalises over the batch of that one step in training mode,
and with the running statistics in evaluation mode — the streaming use).

Initialisation follows Yin et al. (Methods, "Network initialization"): feed-forward weights
Xavier-uniform, recurrent weights orthogonal, biases zero.

The time loop is chosen once, when the layer is built, from ``backend`` (``neuron.backend``, one of
:data:`srnn_bench.kernels.BACKENDS`) and what the cell declares in ``supported_backends``: ``reference``
steps the cell in Python (plain autograd); ``fused`` hands the whole sequence to the cell's
``fused_sequence`` (ALIF/LIF and the leaky integrator: :mod:`srnn_bench.kernels`; LSTM/GRU/RNN: torch's
sequence kernels). A ``fused`` request for a cell without it says so once and uses ``reference``. A
``stateless`` cell (output_t = f(I_t)) in a feed-forward layer runs all steps at once in either backend.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..kernels import BACKENDS
from ..kernels.dispatch import fallback
from ..resources import with_defaults
from ..state import LayerState, detach_state  # noqa: F401 - defined below kernels/ and models/, re-exported
from ..utils.checks import check_choice


def backend_of(neuron: Mapping) -> str:
    """``neuron.backend`` of a neuron config, over its ``configs/neuron/<name>.yaml`` like every other neuron key
    (:func:`srnn_bench.neurons.build_cell`); checked by :func:`choose_backend`."""
    return with_defaults("neuron", neuron)["backend"]


def choose_backend(cell: nn.Module, requested: str) -> str:
    """The backend a layer of ``cell`` runs: ``requested`` when the cell supports it, else ``reference``
    (said once per reason)."""
    check_choice("neuron.backend", requested, BACKENDS)
    supported = tuple(getattr(cell, "supported_backends", ("reference",)))
    if requested in supported:
        return requested
    why = getattr(cell, "reference_only", None) or (
        f"{type(cell).__name__} has no fused kernel (supported backends: {', '.join(supported)})")
    fallback(why, stacklevel=4)
    return "reference"


class SpikingLayer(nn.Module):
    """Feed-forward or recurrent layer of any cell with ``init_state`` / ``forward(i_t, state)``."""

    def __init__(self, n_in: int, cell: nn.Module, recurrent: bool = True, bias: bool = True,
                 backend: str = "reference") -> None:
        super().__init__()
        gates = int(getattr(cell, "gates", 1))
        self.n_in, self.size, self.recurrent = n_in, cell.size, recurrent
        self.concat = getattr(cell, "recurrent_input", "sum") == "concat"
        self.cell = cell
        self.backend = choose_backend(cell, backend)
        norm = bool(getattr(cell, "ff_norm", False))
        bias = bias and not norm
        self.w_in = nn.Linear(n_in, gates * cell.size, bias=bias)
        nn.init.xavier_uniform_(self.w_in.weight)
        if bias:
            nn.init.zeros_(self.w_in.bias)
        self.norm = nn.BatchNorm1d(gates * cell.size, momentum=getattr(cell, "bn_momentum", 0.1)) if norm else None
        self.w_rec = None
        if recurrent:
            self.w_rec = nn.Linear(cell.size, gates * cell.size, bias=False)
            nn.init.orthogonal_(self.w_rec.weight)

    def init_state(self, batch: int, device=None, dtype=None) -> LayerState:
        cell_state = self.cell.init_state(batch, device, dtype)
        # the recurrent input of step 0 reads the cell's initial spikes where it has them (ALIF ``s``: 0, or the
        # initial membrane with neuron.s0=u0, as the authors' code), else zeros
        s0 = getattr(cell_state, "s", None)
        return LayerState(cell_state, torch.zeros_like(cell_state[0]) if s0 is None else s0)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Feed-forward current ``W_in x`` (+ BatchNorm over all leading dims) for [..., n_in]."""
        i_ff = self.w_in(x)
        if self.norm is not None:
            flat = i_ff.reshape(-1, i_ff.shape[-1])
            if self.norm.training and flat.shape[0] < 2:
                raise ValueError(
                    "BatchNorm (neuron ff_norm) needs more than one frame (T x B > 1) in training mode; "
                    "use a larger batch or model.eval()"
                )
            i_ff = self.norm(flat).reshape(i_ff.shape)
        return i_ff

    def step(self, x_t: torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        """One time step: ``x_t`` [B, n_in] -> output [B, N]."""
        return self._step_projected(self.project(x_t), state)

    def _step_projected(self, i_ff: torch.Tensor, state: LayerState) -> tuple[torch.Tensor, LayerState]:
        if self.w_rec is None:
            i_t = torch.cat([i_ff, torch.zeros_like(i_ff)], -1) if self.concat else i_ff
        elif self.concat:
            i_t = torch.cat([i_ff, self.w_rec(state.out)], -1)
        else:
            i_t = i_ff + self.w_rec(state.out)
        out, cell_state = self.cell(i_t, state.cell)
        return out, LayerState(cell_state, out)

    def forward(
        self, x: torch.Tensor, state: LayerState | None = None, record_membrane: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, LayerState]:
        """Run a whole sequence ``x`` [T, B, n_in].

        Returns ``(outputs [T, B, N], membranes [T, B, N] or None, final_state)``, by the loop chosen at
        construction (module docstring).
        """
        if getattr(self.cell, "stateless", False) and self.w_rec is None:  # output_t = f(I_t): all steps at once
            out, cell_state = self.cell.sequence(self.project(x))
            return out, (out if record_membrane else None), LayerState(cell_state, out[-1])
        if self.backend == "fused":
            out = self.cell.fused_sequence(self, x, state, record_membrane)
            if out is not None:
                return out  # else: this device, dtype or option needs the reference loop
        return self.reference_forward(x, state, record_membrane)

    def reference_forward(
        self, x: torch.Tensor, state: LayerState | None = None, record_membrane: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, LayerState]:
        """:meth:`forward` by the per-step loop over the cell's step function (the ``reference`` backend).
        The feed-forward projection of all steps is one matrix product (same numbers as stepping)."""
        if state is None:
            state = self.init_state(x.shape[1], x.device, x.dtype)
        i_ff = self.project(x)
        outs, mems = [], []
        for t in range(x.shape[0]):
            out, state = self._step_projected(i_ff[t], state)
            outs.append(out)
            if record_membrane:
                mems.append(state.cell[0])
        return torch.stack(outs), (torch.stack(mems) if record_membrane else None), state
