"""Converters for the published ``RNN_custom`` / ``RNN_s`` networks of Yin, Corradi & Bohté 2021.

Six checkpoints (``../shared/reference/yin2021_checkpoints/<name>.json`` says what every tensor does; the
experiment configs ``configs/experiment/yin2021/*.yaml`` carry the constants and say where each came from):

============== ======================================= ================================================
zoo name       authors' layers -> ours                  decision (``trainer.loss``, ``skip_steps``)
============== ======================================= ================================================
ecg_0.8589     i2h+h2h -> layer0 (36 rec, beta 0),       per step t >= 10 log_softmax of the output
               h2o -> spiking readout (6, beta 1.8)      membrane (per_step, 10)
shd_90.7       i_2_h1+h1_2_h1 -> layer0, h1_2_h2+h2_2_h2 sum_{t > 10} softmax(u_o) (sum_softmax, 11)
shd_87.41      -> layer1 (128 rec each), h2o -> integrator
ssc_74.19      the same names, 400 rec each, 35 outputs  log_softmax(sum_{t > 0} u_o / 250) (masked_mean, 1)
smnist_98.21   i2h+h2h -> layer0 (64 rec), h2d+d2d ->    output spike count over all steps (spike_count, 0)
               layer1 (256 rec), dense1 -> layer2 (256
               dense), d2o -> spiking readout (10)
psmnist_94.73  the same with a 4-pixel input             spike count over t > 0 (spike_count, 1)
============== ======================================= ================================================

What the conversion does, and nothing else:

* A recurrent layer's two biased ``Linear`` maps are summed in the authors' forward
  (``I = i2h(x_t) + h2h(s_prev)``): the two biases are **folded into one** (``w_in.bias``; ``w_rec`` has
  none), summed in float64, which is exact for two float32 values. Load the result into a float64 model
  (``trainer.dtype: float64``) so the sum is not rounded back to float32.
* Time constants are copied **as stored**: no clamping, no re-parameterisation (SSC's readout
  ``tau_m_o`` 0.02-0.05 and PS-MNIST's ``tau_m_r1`` down to 0.05 run as they are).
* ``tau_adp_o`` of the integrator readouts (SHD, SSC) is unused by the authors' forward and dropped.
* Last-batch neuron states stored in whole-module pickles (``b_h1``, ``r1_mem``, ...) are not model
  parameters and are not imported (the imported configs start from the deterministic zero state).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .convert import Converter, shapes_match
from .safe_load import AuthorsCheckpoint


@dataclass(frozen=True)
class LayerMap:
    """One of our layers and the authors' tensors it takes.

    ff: the authors' feed-forward ``Linear`` (weight [N, n_in] and bias); rec: their recurrent ``Linear``
    (weight [N, N], its bias folded into ours) or None for a dense layer; tau: the suffix of their
    ``tau_m_<tau>`` / ``tau_adp_<tau>``; adaptive: whether ``tau_adp`` is a parameter of our layer.
    """

    ours: str  # "layers.0", ..., "readout"
    ff: str
    rec: str | None
    tau: str
    size: int
    adaptive: bool = True


@dataclass(frozen=True)
class Network:
    n_in: int
    n_classes: int
    layers: tuple[LayerMap, ...]
    unused: tuple[str, ...] = ()  # authors' tensors their forward never reads

    def expected(self) -> dict[str, tuple[int, ...]]:
        """Every tensor of the authors' state_dict with its shape."""
        shapes, n_prev = {}, self.n_in
        for m in self.layers:
            shapes[f"{m.ff}.weight"], shapes[f"{m.ff}.bias"] = (m.size, n_prev), (m.size,)
            if m.rec is not None:
                shapes[f"{m.rec}.weight"], shapes[f"{m.rec}.bias"] = (m.size, m.size), (m.size,)
            shapes[f"tau_m_{m.tau}"] = shapes[f"tau_adp_{m.tau}"] = (m.size,)
            n_prev = m.size
        return shapes

    def matches(self, ckpt: AuthorsCheckpoint) -> bool:
        """The checkpoint holds exactly these parameter names, with these shapes."""
        expected = self.expected()
        return set(ckpt.state) == set(expected) and shapes_match(ckpt, expected)

    def state_dict(self, ckpt: AuthorsCheckpoint, model: nn.Module) -> dict[str, torch.Tensor]:
        """Our ``model.state_dict()`` filled from ``ckpt`` (float64; taus as stored)."""
        if not self.matches(ckpt):
            raise ValueError(f"{ckpt.path}: not this network's parameters (expected {sorted(self.expected())})")
        src = {k: v.detach().to(torch.float64) for k, v in ckpt.state.items()}
        out: dict[str, torch.Tensor] = {}
        for m in self.layers:
            out[f"{m.ours}.w_in.weight"] = src[f"{m.ff}.weight"]
            bias = src[f"{m.ff}.bias"]
            if m.rec is not None:
                out[f"{m.ours}.w_rec.weight"] = src[f"{m.rec}.weight"]
                bias = bias + src[f"{m.rec}.bias"]  # two summed biases -> one (exact in float64)
            out[f"{m.ours}.w_in.bias"] = bias
            out[f"{m.ours}.cell.tau_m"] = src[f"tau_m_{m.tau}"]
            if m.adaptive:
                out[f"{m.ours}.cell.tau_adp"] = src[f"tau_adp_{m.tau}"]
        ours = model.state_dict()
        if set(out) != set(ours):
            missing, extra = sorted(set(ours) - set(out)), sorted(set(out) - set(ours))
            raise ValueError(
                f"{ckpt.path}: the model built from the experiment config does not fit this checkpoint "
                f"(missing {missing}, unexpected {extra})"
            )
        for k, v in out.items():
            if tuple(v.shape) != tuple(ours[k].shape):
                raise ValueError(f"{ckpt.path}: {k} has shape {list(v.shape)}, the model wants {list(ours[k].shape)}")
        return out


def _shd(width: int, n_classes: int) -> Network:
    return Network(
        n_in=700,
        n_classes=n_classes,
        layers=(
            LayerMap("layers.0", "i_2_h1", "h1_2_h1", "h1", width),
            LayerMap("layers.1", "h1_2_h2", "h2_2_h2", "h2", width),
            LayerMap("readout", "h2o", None, "o", n_classes, adaptive=False),  # integrator: tau_adp_o unused
        ),
        unused=("tau_adp_o",),
    )


def _mnist(n_in: int) -> Network:
    return Network(
        n_in=n_in,
        n_classes=10,
        layers=(
            LayerMap("layers.0", "i2h", "h2h", "r1", 64),
            LayerMap("layers.1", "h2d", "d2d", "r2", 256),
            LayerMap("layers.2", "dense1", None, "d1", 256),  # feed-forward ALIF layer
            LayerMap("readout", "d2o", None, "o", 10),  # spiking adaptive outputs
        ),
    )


ECG = Network(
    n_in=4,
    n_classes=6,
    layers=(
        LayerMap("layers.0", "i2h", "h2h", "h", 36),  # beta 0: tau_adp_h still a parameter (all 7.0, never trained)
        LayerMap("readout", "h2o", None, "o", 6),  # spiking adaptive outputs
    ),
)
SHD = _shd(128, 20)
SSC = _shd(400, 35)
SMNIST = _mnist(8)
PSMNIST = _mnist(4)


def _has_dropout(ckpt: AuthorsCheckpoint) -> bool:
    """SHD/SHD_2layer_ALIF.py (the 90.7 file) is the only SHD script whose class has ``dp = Dropout(0.1)``."""
    return "dp" in ckpt.classes


def _converter(experiment: str, net: Network, extra=None) -> Converter:
    def matches(ckpt: AuthorsCheckpoint) -> bool:
        return net.matches(ckpt) and (extra is None or extra(ckpt))

    return Converter(experiment, net.n_in, net.n_classes, matches, net.state_dict)


CONVERTERS: dict[str, Converter] = {
    "ecg_0.8589": _converter("yin2021/ecg_0_8589", ECG),
    # the two SHD files have the same parameters; the script that saved 90.7 had an (unused) Dropout. A file
    # without one (or a plain state_dict) goes to 87.41, whose config is the same network and decision.
    "shd_90.7": _converter("yin2021/shd_90_7", SHD, _has_dropout),
    "shd_87.41": _converter("yin2021/shd_87_41", SHD, lambda c: not _has_dropout(c)),
    "ssc_74.19": _converter("yin2021/ssc_74_19", SSC),
    "smnist_98.21": _converter("yin2021/smnist_98_21", SMNIST),
    "psmnist_94.73": _converter("yin2021/psmnist_94_73", PSMNIST),
}
"""zoo name (= golden set name) -> converter."""
