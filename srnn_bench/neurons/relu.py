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

    spiking = False  # analog outputs: every synapse is a MAC each step (Yin Fig. 2a)
    sparse_output = True  # ReLU outputs are exactly zero below threshold
    supported_backends = ("reference",)  # the ALIF kernels emit Heaviside spikes, not ReLU(u - theta)
    state_macs_per_step = 5
    """MACs per neuron per step: the ALIF count 3 (rho*eta, beta*eta, alpha*u; Yin eqs 5-7) plus
    (1 - rho) * y (eq. 6) and theta * y (eq. 5), which become multiplications with an analog output y
    (Yin Table 2, ReLU SRNN rows; README "Metrics")."""

    def __init__(self, size: int, **kwargs) -> None:
        super().__init__(size, torch.relu, **kwargs)

    @staticmethod
    def attributes_for(adaptive: bool = True) -> dict:
        """No option changes the count (ALIFCell's LIF case does not apply): the class attributes hold."""
        return {}
