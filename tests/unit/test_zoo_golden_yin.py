"""Golden tests of the imported RNN_custom / RNN_s networks of Yin et al. 2021 (srnn_bench.zoo.yin2021_rnn).

For each of the six published checkpoints: the model built from its experiment config
(``configs/experiment/yin2021/*.yaml``), loaded through its converter, on the golden input of
``../shared/reference/yin2021_checkpoints/<name>.npz`` (the authors' own code's outputs, float64,
deterministic zero initial state) must give

* reference backend, float64: every spike count equal (per layer, per sample, per step) and every output
  (decision values, readout / output membranes, per-step log-probabilities) within 1e-9 relative;
* fused backend, float64: spikes equal, outputs within 1e-6;
* float32: the ``*_float32`` golden keys where the authors' float32 run agrees with their float64 one
  (SHD, SSC, PS-MNIST analog: spikes equal, outputs within 1e-5 relative); where float32 diverges over
  the long sequences (S-MNIST, PS-MNIST binarised, ECG: golden README quirk 10) only the predictions,
  which agree with float64 there.

Skips with the reason when ``../shared`` (or ``$SRNN_BENCH_DATA``) is absent.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, compose

from srnn_bench.data.datasets.mnist import window_index
from srnn_bench.models import build_model
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training.losses import sequence_logits

DATA = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data")
GOLDEN = DATA.parent / "reference" / "yin2021_checkpoints"

# golden set -> the npz names of its spiking populations, in our order (hidden layers, then spiking readout)
POPULATIONS = {
    "ecg_0.8589": ("hidden", "output"),
    "shd_90.7": ("l1", "l2"),
    "shd_87.41": ("l1", "l2"),
    "ssc_74.19": ("l1", "l2"),
    "smnist_98.21": ("r1", "r2", "d1", "out"),
    "psmnist_94.73": ("r1", "r2", "d1", "out"),
}
NAMES = sorted(POPULATIONS)
FLOAT32_AGREES = {"shd_90.7", "shd_87.41", "ssc_74.19"}  # golden float32 = float64 spikes (JSON float32_vs_float64)


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} absent (needs ../shared/data and ../shared/reference beside the repository, or $SRNN_BENCH_DATA)")


@lru_cache(maxsize=None)
def _golden(name: str) -> tuple[dict, dict]:
    _need(GOLDEN / f"{name}.npz")
    meta = json.loads((GOLDEN / f"{name}.json").read_text())
    z = np.load(GOLDEN / f"{name}.npz")
    return meta, {k: z[k] for k in z.files}


@lru_cache(maxsize=None)
def _checkpoint(name: str):
    from srnn_bench.zoo.safe_load import load_authors_checkpoint

    meta, _ = _golden(name)
    path = DATA / "yin2021" / meta["checkpoint"]
    _need(path)
    return load_authors_checkpoint(path)


def _model(name: str, backend: str, dtype: torch.dtype, overrides: tuple[str, ...] = ()):
    from srnn_bench.zoo.yin2021_rnn import CONVERTERS

    conv = CONVERTERS[name]
    cfg = compose([f"experiment={conv.experiment}", f"neuron.backend={backend}", *overrides])
    torch.manual_seed(0)
    model = build_model(cfg.model, conv.n_in, conv.n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).to(dtype)
    model.load_state_dict(conv.state_dict(_checkpoint(name), model), strict=True)
    return model.eval(), cfg


def _input(name: str, cfg, x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """The golden ``x`` as our model reads it, [T, B, F]; MNIST: x / 255 (binarised at ``dataset.binarize``)
    through the project's sliding window (srnn_bench.data.datasets.mnist.window_index)."""
    x = torch.from_numpy(x)
    if cfg.dataset.name in ("smnist", "psmnist"):
        pix = x.reshape(x.shape[0], 784).to(dtype) / 255.0
        if cfg.dataset.binarize is not None:
            pix = (pix > float(cfg.dataset.binarize)).to(dtype)
        x = pix[:, window_index(784, int(cfg.dataset.window), int(cfg.dataset.stride))]
    return x.to(dtype).transpose(0, 1).contiguous()


def _run(name: str, backend: str = "reference", dtype: torch.dtype = torch.float64, analog: bool = False) -> dict:
    model, cfg = _model(name, backend, dtype, ("dataset.binarize=null",) if analog else ())
    _, z = _golden(name)
    with torch.no_grad():
        out, final = model(_input(name, cfg, z["x"], dtype), return_state=True)
    pops = [out.activity[f"layer{i}"] for i in range(len(model.layers))]
    pops += [out.activity["readout"]] if "readout" in out.activity else []
    res = {"spikes": dict(zip(POPULATIONS[name], pops)), "membrane": out.output.transpose(0, 1),
           "mem_l1_final": final[0].cell.u, "b_l1_final": final[0].cell.b}
    if cfg.trainer.loss == "per_step":  # ECG: per-step log_softmax of the output membrane from skip_steps on
        res["log_probs"] = F.log_softmax(out.output[cfg.trainer.skip_steps :], dim=-1).transpose(0, 1)
    else:
        res["output"] = sequence_logits(cfg.trainer.loss, out, cfg.trainer.skip_steps)
    return res


def _rel(ours: torch.Tensor, ref: np.ndarray) -> float:
    ref_t = torch.from_numpy(np.asarray(ref)).to(torch.float64)
    return ((ours.to(torch.float64) - ref_t).abs().max() / ref_t.abs().max().clamp_min(1e-300)).item()


def _outputs(res: dict, z: dict, suffix: str = "") -> dict[str, float]:
    """Max relative error of every output the golden set has."""
    errs = {}
    for key in ("output", "log_probs"):
        if key in res and key + suffix in z:
            errs[key] = _rel(res[key], z[key + suffix])
    for key in ("readout_mem", "output_mem_per_step"):
        if key + suffix in z:
            errs[key] = _rel(res["membrane"], z[key + suffix])
    for key in ("mem_l1_final", "b_l1_final"):  # layer 1's state after the last step (SHD, SSC)
        if key + suffix in z:
            errs[key] = _rel(res[key], z[key + suffix])
    if "nll_loss_sum" in z and "log_probs" in res:  # ECG: NLLLoss (batch mean) per step t >= 10, summed over steps;
        lp = res["log_probs"]  # unlabelled steps count as class 0 (the authors' argmax of an all-zero label)
        labels = torch.from_numpy(z["labels"][:, -lp.shape[1]:])
        nll = F.nll_loss(lp.flatten(0, 1), labels.flatten(), reduction="sum") / lp.shape[0]
        errs["nll_loss_sum"] = _rel(nll.reshape(1), z["nll_loss_sum"].reshape(1))
    return errs


def _check_spikes(res: dict, z: dict, suffix: str = "") -> None:
    for pop, s in res["spikes"].items():
        assert s.sum().item() == float(z[f"spike_count_{pop}{suffix}"]), pop
        assert s.sum((0, 2)).tolist() == z[f"spike_count_per_sample_{pop}{suffix}"].tolist(), pop
        per_step = f"spikes_{pop}_per_step{suffix}"
        if per_step in z:
            assert torch.equal(s.sum(-1).transpose(0, 1).double(), torch.from_numpy(z[per_step])), pop
    if f"output_spikes_per_step{suffix}" in z:  # spiking readouts: every spike of every output neuron
        assert torch.equal(res["spikes"][POPULATIONS[res["name"]][-1]].transpose(0, 1).double(),
                           torch.from_numpy(z[f"output_spikes_per_step{suffix}"]))


def _need_backend(backend: str) -> None:
    if backend == "fused":
        from srnn_bench.kernels import _build

        try:
            _build.load()
        except RuntimeError as e:
            pytest.skip(f"fused backend unavailable here (it would run the reference loop): {str(e).splitlines()[0]}")


@pytest.mark.parametrize("backend, tol", [("reference", 1e-9), ("fused", 1e-6)])
@pytest.mark.parametrize("name", NAMES)
def test_golden_float64(name, backend, tol):
    _need_backend(backend)
    _, z = _golden(name)
    res = {**_run(name, backend), "name": name}
    _check_spikes(res, z)
    errs = _outputs(res, z)
    assert errs and max(errs.values()) <= tol, errs
    print(f"{name} {backend}: max relative error {max(errs.values()):.2e} ({errs})")
    pred = (res["log_probs"] if "log_probs" in res else res["output"]).argmax(-1)
    assert pred.tolist() == z["pred"].tolist()  # argmax: first index on ties, as torch.max


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_golden_psmnist_analog_input(backend):
    """The evaluation notebook's analog x / 255 input (``*_analog`` keys); sample 1 ties 3 ways."""
    _need_backend(backend)
    _, z = _golden("psmnist_94.73")
    res = {**_run("psmnist_94.73", backend, analog=True), "name": "psmnist_94.73"}
    _check_spikes(res, z, "_analog")
    errs = _outputs(res, z, "_analog")
    assert max(errs.values()) <= (1e-9 if backend == "reference" else 1e-6), errs
    assert res["output"].argmax(-1).tolist() == z["pred_analog"].tolist()
    counts = torch.from_numpy(z["output_analog"])
    assert int((counts[1] == counts[1].max()).sum()) == 3  # the tie is there, and first-index argmax resolves it


@pytest.mark.parametrize("backend", ["reference", "fused"])
@pytest.mark.parametrize("name", NAMES)
def test_golden_float32(name, backend):
    _need_backend(backend)
    _, z = _golden(name)
    res = {**_run(name, backend, torch.float32), "name": name}
    if name in FLOAT32_AGREES:
        for pop, s in res["spikes"].items():
            assert s.sum().item() == float(z[f"spike_count_{pop}_float32"]) == float(z[f"spike_count_{pop}"]), pop
        assert _rel(res["output"], z["output_float32"]) <= 1e-5
    # where float32 diverges from float64 over 784 / 1301 steps the predictions still agree (JSON)
    if "log_probs" in res:
        assert res["log_probs"].argmax(-1).tolist() == z["pred"].tolist()
    else:
        assert res["output"].argmax(-1).tolist() == np.asarray(z["output_float32"]).argmax(-1).tolist() == z["pred"].tolist()


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_float32_analog_psmnist_agrees(backend):
    _need_backend(backend)
    _, z = _golden("psmnist_94.73")
    res = _run("psmnist_94.73", backend, torch.float32, analog=True)
    assert torch.equal(res["output"].double(), torch.from_numpy(z["output_float32_analog"]).double())


@pytest.mark.parametrize("name", NAMES)
def test_converter_recognises_only_its_file(name):
    from srnn_bench.zoo.yin2021_rnn import CONVERTERS

    ckpt = _checkpoint(name)
    assert [n for n, c in CONVERTERS.items() if c.matches(ckpt)] == [name]


def test_taus_imported_as_stored():
    """No clamping on the import path: SSC's readout tau_m_o (0.02-0.05) and its tau_m_h1 minimum arrive as stored."""
    model, _ = _model("ssc_74.19", "reference", torch.float64)
    ckpt = _checkpoint("ssc_74.19")
    assert torch.equal(model.readout.cell.tau_m.detach(), ckpt.state["tau_m_o"].double())
    assert model.readout.cell.tau_m.min().item() < 0.03
    assert torch.equal(model.layers[0].cell.tau_m.detach(), ckpt.state["tau_m_h1"].double())
    bias = ckpt.state["i_2_h1.bias"].double() + ckpt.state["h1_2_h1.bias"].double()
    assert torch.equal(model.layers[0].w_in.bias.detach(), bias)  # the two summed biases, folded in float64


@pytest.mark.parametrize("name", NAMES)
def test_converter_fits_its_config_without_data(name):
    """No shared data needed: a synthetic checkpoint with the authors' names and shapes converts into the
    model the experiment config builds (strict load), biases folded, every tensor placed where it belongs."""
    from srnn_bench.config_validation import validate_config
    from srnn_bench.zoo import yin2021_rnn
    from srnn_bench.zoo.safe_load import AuthorsCheckpoint

    conv = yin2021_rnn.CONVERTERS[name]
    net = {"ecg": yin2021_rnn.ECG, "shd": yin2021_rnn.SHD, "ssc": yin2021_rnn.SSC, "smnist": yin2021_rnn.SMNIST,
           "psmnist": yin2021_rnn.PSMNIST}[name.split("_")[0]]
    g = torch.Generator().manual_seed(0)
    state = {k: torch.rand(s, generator=g) + 0.5 for k, s in net.expected().items()}
    ckpt = AuthorsCheckpoint(Path("synthetic.pth"), state, {}, {"dp": "torch.nn.modules.dropout.Dropout"} if name == "shd_90.7" else {})
    assert [n for n, c in yin2021_rnn.CONVERTERS.items() if c.matches(ckpt)] == [name]
    cfg = compose([f"experiment={conv.experiment}"])
    validate_config(cfg)
    assert cfg.trainer.dtype == "float64" and cfg.neuron.u0 == "zero"
    model = build_model(cfg.model, conv.n_in, conv.n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).double()
    model.load_state_dict(conv.state_dict(ckpt, model), strict=True)
    for m in net.layers:
        layer = getattr(model, m.ours) if m.ours == "readout" else model.layers[int(m.ours.split(".")[1])]
        assert torch.equal(layer.w_in.weight, state[f"{m.ff}.weight"].double())
        bias = state[f"{m.ff}.bias"].double() + (state[f"{m.rec}.bias"].double() if m.rec else 0.0)
        assert torch.equal(layer.w_in.bias, bias)
        assert (layer.w_rec is None) == (m.rec is None)
        assert torch.equal(layer.cell.tau_m, state[f"tau_m_{m.tau}"].double())
    bad = dict(state)
    bad.pop(next(iter(bad)))
    assert not conv.matches(AuthorsCheckpoint(Path("x.pth"), bad))
    with pytest.raises(ValueError, match="not this network's parameters"):
        conv.state_dict(AuthorsCheckpoint(Path("x.pth"), bad), model)
