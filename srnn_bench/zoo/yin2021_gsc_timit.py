"""Converters for Yin et al. 2021's published GSC and TIMIT networks (zoo names ``gsc_0.91398``,
``timit_0.66292``): the authors' tensors -> the parameters of the model that
``configs/experiment/yin2021/{gsc_0_91398,timit_0_66292}.yaml`` builds.

What each of the authors' state_dict keys is comes from the golden JSONs
(``shared/reference/yin2021_checkpoints/<name>.json``, "state_dict_roles"):

GSC (``RNN_spike``, GSC/srnn_fin.py + GSC/SRNN_layers): ``dense_1`` a feed-forward ALIF layer 120 -> 300,
``rnn_1`` a recurrent ALIF layer 300 -> 300 whose current is ``dense(s1_t) + recurrent(s2_{t-1})`` (two
biased Linear maps: the two biases are FOLDED into our single ``w_in.bias`` at import), ``dense_2`` the
leaky-integrator readout 300 -> 12, ``thr`` the ternary input threshold (a scalar, float32(0.05); it lives
in the experiment config as ``encoder.threshold``, not in the model, and is checked here).

TIMIT (``RNN_s``, bi_srnn-Dense-512-multiG.py): ``rnn_fw1`` / ``rnn_bw1`` recurrent ALIF layers 39 -> 512
(forward / backward stack; biases folded as above), ``dense_mean`` the readout 1024 -> 61 whose input
columns 0..511 are the forward spikes and 512..1023 the backward ones (``model.bidirectional_merge=concat``).

Time constants are copied as stored: no clamping (GSC ``dense_1`` neuron 172 is NaN throughout, TIMIT
``rnn_fw1.tau_adp[363]`` is negative; golden README quirks 2-3). The returned tensors are float64 (the
folded bias is summed in float64, as the authors' float64 forward adds the two biases): load them into a
model already converted to its run dtype (``model.double()`` first for the golden float64 precision).
"""

from __future__ import annotations

import torch
from torch import nn

from .convert import Converter, shapes_match
from .safe_load import AuthorsCheckpoint

GSC_THRESHOLD = float(torch.tensor(0.05, dtype=torch.float32))
"""The checkpoint's ``thr`` (float32 0.05 = 0.05000000074505806), = ``encoder.threshold`` of the config."""

_GSC_SHAPES = {
    "thr": (1,),
    "dense_1.dense.weight": (300, 120), "dense_1.dense.bias": (300,), "dense_1.tau_m": (300,),
    "dense_1.tau_adp": (300,),
    "rnn_1.dense.weight": (300, 300), "rnn_1.dense.bias": (300,), "rnn_1.recurrent.weight": (300, 300),
    "rnn_1.recurrent.bias": (300,), "rnn_1.tau_m": (300,), "rnn_1.tau_adp": (300,),
    "dense_2.dense.weight": (12, 300), "dense_2.dense.bias": (12,), "dense_2.tau_m": (12,),
}  # fmt: skip


def _timit_shapes(n: int = 512) -> dict[str, tuple[int, ...]]:
    out = {}
    for d in ("fw", "bw"):
        out |= {f"rnn_{d}1.dense.weight": (n, 39), f"rnn_{d}1.dense.bias": (n,), f"rnn_{d}1.recurrent.weight": (n, n),
                f"rnn_{d}1.recurrent.bias": (n,), f"rnn_{d}1.tau_m": (n,), f"rnn_{d}1.tau_adp": (n,)}
    return out | {"dense_mean.dense.weight": (61, 2 * n), "dense_mean.dense.bias": (61,), "dense_mean.tau_m": (61,)}


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float64).clone()


def _alif_layer(s: dict, src: str, dst: str, recurrent: bool) -> dict[str, torch.Tensor]:
    """One of the authors' spike_dense / spike_rnn layers -> our SpikingLayer keys (biases folded)."""
    out = {
        f"{dst}.cell.tau_m": _f64(s[f"{src}.tau_m"]),
        f"{dst}.cell.tau_adp": _f64(s[f"{src}.tau_adp"]),
        f"{dst}.w_in.weight": _f64(s[f"{src}.dense.weight"]),
        f"{dst}.w_in.bias": _f64(s[f"{src}.dense.bias"]),
    }
    if recurrent:  # I = dense(x) + recurrent(s_prev): two biases, summed in float64 into one
        out[f"{dst}.w_in.bias"] = out[f"{dst}.w_in.bias"] + _f64(s[f"{src}.recurrent.bias"])
        out[f"{dst}.w_rec.weight"] = _f64(s[f"{src}.recurrent.weight"])
    return out


def _readout(s: dict, src: str) -> dict[str, torch.Tensor]:
    return {"readout.cell.tau_m": _f64(s[f"{src}.tau_m"]), "readout.w_in.weight": _f64(s[f"{src}.dense.weight"]),
            "readout.w_in.bias": _f64(s[f"{src}.dense.bias"])}


def _complete(name: str, out: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Check the mapping covers exactly the model's keys with their shapes (one line otherwise)."""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in out.items()}
    if want != got:
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        wrong = sorted(k for k in set(want) & set(got) if want[k] != got[k])
        config = f"configs/experiment/yin2021/{name.replace('.', '_')}.yaml"
        raise ValueError(f"{name}: the model does not fit the checkpoint (missing {missing}, unexpected {extra}, "
                         f"wrong shapes {wrong}); build it from {config}")
    return out


def gsc_state_dict(ckpt: AuthorsCheckpoint, model: nn.Module) -> dict[str, torch.Tensor]:
    s = ckpt.state
    thr = float(s["thr"].reshape(-1)[0])
    if thr != GSC_THRESHOLD:
        raise ValueError(f"{ckpt.path}: input threshold thr = {thr!r}, but the experiment yin2021/gsc_0_91398 "
                         f"fixes encoder.threshold = {GSC_THRESHOLD!r}; import with encoder.threshold={thr!r}")
    out = {**_alif_layer(s, "dense_1", "layers.0", recurrent=False), **_alif_layer(s, "rnn_1", "layers.1", True),
           **_readout(s, "dense_2")}
    return _complete("gsc_0.91398", out, model)


def timit_state_dict(ckpt: AuthorsCheckpoint, model: nn.Module) -> dict[str, torch.Tensor]:
    s = ckpt.state
    out = {**_alif_layer(s, "rnn_fw1", "layers.0", True), **_alif_layer(s, "rnn_bw1", "layers_bwd.0", True),
           **_readout(s, "dense_mean")}
    return _complete("timit_0.66292", out, model)


def _is_gsc(ckpt: AuthorsCheckpoint) -> bool:
    return shapes_match(ckpt, _GSC_SHAPES) and "dense_1.recurrent.weight" not in ckpt.state


def _is_timit(ckpt: AuthorsCheckpoint) -> bool:
    return shapes_match(ckpt, _timit_shapes())


CONVERTERS: dict[str, Converter] = {
    "gsc_0.91398": Converter("yin2021/gsc_0_91398", 120, 12, _is_gsc, gsc_state_dict),
    "timit_0.66292": Converter("yin2021/timit_0_66292", 39, 61, _is_timit, timit_state_dict),
}
