"""The non-spiking "ReLU SRNN" neuron of Yin, Corradi & Bohté 2021 (Figure 3e, Table 2).

The paper: "we make the spiking neurons non-spiking by eliminating the spiking mechanism and
communicating the ReLU value of the membrane potential". The authors' code does it inside the ALIF
update, replacing the spike by the commented-out alternative ``spike = F.relu(inputs_)`` with
``inputs_ = mem - B`` (``SoLi/SRNN_layers/spike_neuron.py``, ``mem_update_adp``). So one step is the
ALIF step of :mod:`srnn_bench.neurons.alif` (eqs 5-7, same order) with the Heaviside of eq. 8 replaced:

    eta   = rho * eta + (1 - rho) * y_prev
    theta = b_0 + beta * eta
    u     = alpha * u + (1 - alpha) * I - theta * y_prev * dt
    y     = ReLU(u - theta)                    # instead of H(u - theta): analog, exact gradient

All ALIF options apply (trainable time constants, their init, b_j0, beta, u0).
"""

from __future__ import annotations

import torch

from .alif import ALIFCell, ALIFState, alif_step

ReLUState = ALIFState


def relu_step(i_t, state: ALIFState, tau_m, tau_adp, b_j0: float, beta: float, dt: float = 1.0):
    """One ReLU-SRNN step: :func:`alif_step` with ``ReLU`` as the output function."""
    return alif_step(i_t, state, tau_m, tau_adp, b_j0, beta, torch.relu, dt)


class ReLUCell(ALIFCell):
    """ALIF dynamics communicating ``ReLU(u - theta)`` instead of spikes (analog, non-binary output)."""

    spiking = False
    sparse_output = True  # ReLU outputs are exactly zero below threshold
    supported_backends = ("reference",)  # the ALIF kernels emit Heaviside spikes, not ReLU(u - theta)

    def __init__(self, size: int, **kwargs) -> None:
        super().__init__(size, torch.relu, **kwargs)

    @property
    def state_macs_per_step(self) -> int:
        """5 (srnn_bench.metrics.cost.STATE_MACS "relu"): the ALIF count 3 plus (1 - rho) * y and
        theta * y, which become multiplications with an analog output y (Yin Table 2, ReLU rows)."""
        return 5
