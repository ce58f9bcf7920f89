"""Firing rates, and the meter that counts events during evaluation.

Event
    an output ``a != 0`` of a population at one step. For binary spikes this is a spike; for SRC
    (``s = ReLU(h) >= 0``) it is ``s > 0``, De Geeter eq. 4 (the fraction of timesteps with a spike,
    spikes lasting several steps counted once per step); for multi-bit (Ponghiran) or ReLU outputs it is
    a non-zero message.
Firing rate of a population
    events / (steps x samples x neurons): the spike probability per neuron per step (Yin Fig. 3f);
    batches of different lengths pool their step-samples (padding steps inside a batch count as steps).
``firing_rate``
    over all hidden populations together (events / (steps x samples x total hidden neurons), i.e. the
    size-weighted mean of the per-layer rates); ``firing_rate_with_output`` also counts the outputs of
    a spiking readout (a non-spiking readout emits no events and is left out).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .cost import E_AC_PJ, E_MAC_PJ, architecture_of, count_ops


def event_count(a: torch.Tensor) -> int:
    """Number of events (``a != 0``) in an activity tensor [T, B, N] (module docstring)."""
    return int(torch.count_nonzero(a).item())


def firing_rate(a: torch.Tensor) -> float:
    """Events per neuron per step of one population's activity [T, B, N]."""
    return event_count(a) / max(a.numel(), 1)


def pooled_rate(events: Mapping[str, float], sizes: Mapping[str, int], names, steps_x_samples: float) -> float:
    """events / (steps x samples x neurons) over the populations ``names`` together."""
    names = list(names)
    neurons = sum(sizes[n] for n in names)
    return sum(events[n] for n in names) / max(steps_x_samples * neurons, 1)


class ActivityMeter:
    """Accumulates event counts of a model's populations over evaluation batches.

    ``update(x_encoded, output)`` after each forward (one ``count_nonzero`` per population: the only
    cost added to evaluation); ``summary(model, input_binary)`` returns firing rates, SOPs, MACs and
    energy with the definitions of :mod:`srnn_bench.metrics`.
    """

    def __init__(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> None:
        self.events: dict[str, float] = {}
        self.sizes: dict[str, int] = {}
        self.samples = 0
        self.slots = 0  # sum over batches of steps x samples (sequences may differ in length between batches)
        self.e_mac, self.e_ac = e_mac, e_ac

    @property
    def steps(self) -> float:
        """Mean sequence length (steps per sample)."""
        return self.slots / self.samples if self.samples else 0

    @torch.no_grad()
    def update(self, x: torch.Tensor, output) -> None:
        t, b = x.shape[:2]
        self.samples += b
        self.slots += t * b
        for name, a in {"input": x, **output.activity}.items():
            # count_nonzero stays on the device; one sync per population at summary()
            self.events[name] = self.events.get(name, 0) + torch.count_nonzero(a)
            self.sizes[name] = a.shape[-1]

    def rates(self) -> dict[str, float]:
        """name -> firing rate, for the input and every population in ``ModelOutput.activity``."""
        denom = max(self.slots, 1)
        return {n: float(self.events[n]) / (denom * max(self.sizes[n], 1)) for n in self.sizes}

    def summary(self, model, input_binary: bool) -> dict:
        rates = self.rates()
        events = {n: float(v) for n, v in self.events.items()}
        arch = architecture_of(model, self.sizes.get("input", 0), input_binary)
        outputs = {p.name for p in arch.populations if p.output}
        pops = [n for n in rates if n != "input"]
        hidden = [n for n in pops if n not in outputs]
        sxs = max(self.slots, 1)
        ops = count_ops(arch, rates)
        per_step = ops.as_dict(self.e_mac, self.e_ac)
        return {
            "firing_rate": pooled_rate(events, self.sizes, hidden, sxs),
            "firing_rate_with_output": pooled_rate(events, self.sizes, pops, sxs),
            "firing_rate_per_layer": {n: rates[n] for n in pops},
            "input_rate": rates.get("input", 0.0),
            "input_binary": bool(input_binary),
            "spikes_per_sample": sum(events[n] for n in pops) / max(self.samples, 1),
            "sop_per_sample": per_step["sop_per_step"] * self.steps,
            "sop_per_sample_dense": per_step["sop_per_step_dense"] * self.steps,
            "steps": self.steps,
            **per_step,
        }
