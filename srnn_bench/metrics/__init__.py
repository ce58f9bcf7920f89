"""Activity and cost metrics — each defined once, here and in the README ("Metrics").

Firing rate
    events per neuron per time step: mean over steps, samples and neurons of ``activity != 0``
    (for binary spikes this is the spike probability per step, Yin Fig. 3f).

Synaptic operations
    An event of a *binary* (spiking) source costs one accumulate (AC) per outgoing synapse
    (``fan_out``, recurrent synapses included). A *non-binary* source (analog input current,
    ReLU activations) costs one multiply-accumulate (MAC) per synapse per step, whether zero or not.
    Every neuron's state update costs ``cell.state_macs_per_step`` MACs per step (Yin Fig. 2a).
    ``sop_per_sample`` = ACs per sample (all spikes x fan-out); ``ac_per_step`` = sop / T.

Energy (Yin et al. 2021, Table 2, after Horowitz 2014, 45 nm)
    ``energy_per_step_pj = 3.1 * mac_per_step + 0.1 * ac_per_step``.
"""

from __future__ import annotations

from collections import defaultdict

import torch

E_MAC_PJ = 3.1
E_AC_PJ = 0.1


def energy_pj(mac: float, ac: float, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> float:
    """Yin et al. 2021, Table 2: Energy = 3.1 pJ * MAC + 0.1 pJ * AC."""
    return e_mac * mac + e_ac * ac


class ActivityMeter:
    """Accumulates event counts of a model's populations over evaluation batches.

    ``update(x_encoded, output)`` after each forward; ``summary(model, input_binary)`` gives firing
    rates, SOPs, MACs and energy with the definitions of this module.
    """

    def __init__(self) -> None:
        self.events: dict[str, float] = defaultdict(float)
        self.sizes: dict[str, int] = {}
        self.samples = 0
        self.steps = 0

    @torch.no_grad()
    def update(self, x: torch.Tensor, output) -> None:
        t, b = x.shape[:2]
        self.samples += b
        self.steps = t
        pops = {"input": x, **output.activity}
        for name, a in pops.items():
            self.events[name] += (a != 0).sum().item()
            self.sizes[name] = a.shape[-1]

    def firing_rates(self) -> dict[str, float]:
        denom = lambda n: max(self.samples * self.steps * self.sizes[n], 1)  # noqa: E731
        return {n: self.events[n] / denom(n) for n in self.sizes if n != "input"}

    def summary(self, model, input_binary: bool) -> dict:
        rates = self.firing_rates()
        hidden = [n for n in rates if n.startswith("layer")]
        weighted = lambda names: sum(rates[n] * self.sizes[n] for n in names) / max(sum(self.sizes[n] for n in names), 1)  # noqa: E731
        n = max(self.samples, 1)
        steps = max(self.steps, 1)
        ac_per_sample = 0.0
        mac_per_step = 0.0
        for syn in model.synapses():
            binary = input_binary if syn.source == "input" else model.populations()[syn.source].spiking
            if binary:
                ac_per_sample += self.events[syn.source] / n * syn.fan_out
            else:
                mac_per_step += self.sizes[syn.source] * syn.fan_out
        mac_per_step += sum(cell.size * cell.state_macs_per_step for cell in model.populations().values())
        ac_per_step = ac_per_sample / steps
        return {
            "firing_rate": weighted(hidden),
            "firing_rate_with_output": weighted(list(rates)),
            "firing_rate_per_layer": rates,
            "sop_per_sample": ac_per_sample,
            "ac_per_step": ac_per_step,
            "mac_per_step": mac_per_step,
            "energy_per_step_pj": energy_pj(mac_per_step, ac_per_step),
        }
