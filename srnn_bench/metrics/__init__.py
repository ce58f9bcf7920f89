"""Activity, cost and accuracy metrics — each defined once, here and in the README ("Metrics").

Firing rate (:mod:`.activity`)
    events per neuron per time step, an event being an output ``!= 0`` (a spike; for SRC ``s > 0``,
    De Geeter eq. 4; a non-zero multi-bit/ReLU message). Per population (``firing_rate_per_layer``),
    over the hidden populations together (``firing_rate``) and with a spiking readout
    (``firing_rate_with_output``).

Operations per step (:mod:`.cost`)
    a spike of a binary population costs one AC per outgoing synapse (onward and recurrent);
    an analog / multi-bit source costs one MAC per synapse every step (``mac_syn``; Yin Fig. 2a) or,
    skipping zeros, per non-zero message (``mac_syn_event``; Ponghiran eq. 10); every neuron's state
    update costs a fixed number of MACs per step (each cell class's ``state_macs_per_step``, collected in
    ``STATE_MACS``; gated cells add their ``gates`` to the synapses' fan-out).
    ``mac_per_step = mac_syn + mac_state`` (Yin Table 2). ``sop_per_step = AC + mac_syn_event`` (the
    synaptic operations actually triggered), ``sop_per_sample = sop_per_step x T``. "Dense" variants
    count every synapse every step (rate 1).

Energy
    ``energy_per_step_pj = 3.1 * mac_per_step + 0.1 * ac_per_step`` (Yin Table 2, 45 nm; both costs
    configurable); Table S2 ratios against a reference row: :func:`table_s2_ratios`.

Accuracy (:mod:`.accuracy`)
    per sequence (``acc``), per frame (``frame_acc``), any-time (``anytime_acc`` [T]), confusion matrix;
    per-step labels: ``acc_masked`` and ``acc_class0`` (unlabelled steps counted as class 0, Yin's ECG).
"""

from __future__ import annotations

from .accuracy import ConfusionMatrix, per_step_counts
from .activity import ActivityMeter, event_count, firing_rate, pooled_rate
from .cost import (
    E_AC_PJ,
    E_MAC_PJ,
    STATE_MACS,
    Architecture,
    OpCounts,
    Population,
    Projection,
    architecture_of,
    count_ops,
    energy_pj,
    rnn_architecture,
    srnn_architecture,
    table_s2_ratios,
)

__all__ = [
    "E_AC_PJ",
    "E_MAC_PJ",
    "STATE_MACS",
    "ActivityMeter",
    "Architecture",
    "ConfusionMatrix",
    "OpCounts",
    "Population",
    "Projection",
    "architecture_of",
    "count_ops",
    "energy_pj",
    "event_count",
    "firing_rate",
    "per_step_counts",
    "pooled_rate",
    "rnn_architecture",
    "srnn_architecture",
    "table_s2_ratios",
]
