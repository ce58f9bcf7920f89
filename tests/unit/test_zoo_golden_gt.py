"""Yin et al. 2021's published GSC and TIMIT networks imported into srnn_bench (issue #12, zoo-gt).

Golden tests: our model built from ``configs/experiment/yin2021/{gsc_0_91398,timit_0_66292}.yaml``, loaded by
``srnn_bench.zoo.yin2021_gsc_timit``, on the golden input of ``shared/reference/yin2021_checkpoints/<name>.npz``
(the authors' own code's outputs; float64, zero initial state): every spike count equal (per layer, sample,
step), every output within 1e-9 relative (reference backend) / 1e-6 (fused); float32 as the ``*_float32`` keys.
They skip when ``../shared`` is absent. The model options they need (frame holding, the authors' backward
frame order, concatenated directions, block readout, a NaN neuron that stays silent, a negative adaptation
tau) are also tested on small networks without the shared files.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import compose
from omegaconf import OmegaConf

from srnn_bench.config_validation import validate_config
from srnn_bench.encoders import build_encoder
from srnn_bench.models import build_model
from srnn_bench.neurons import ALIFState, alif_step
from srnn_bench.surrogates import build_surrogate

ROOT = Path(__file__).resolve().parents[2]
D = torch.float64
FILES = {"gsc_0.91398": "GSC/0.91398-gscv1-_class.pth", "timit_0.66292": "TIMIT/0.66292-bi-srnn-v3_MN-v1.pth"}
NAN_NEURON = 172  # GSC dense_1 (golden README, quirk 2)


# -- locating the shared files ---------------------------------------------------------------------
def _data_dir() -> Path | None:
    env = os.environ.get("SRNN_BENCH_DATA")
    for d in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (d / "yin2021").is_dir():
            return d
    return None


def _golden_paths(name: str) -> tuple[Path, Path]:
    data = _data_dir()
    if data is None:
        pytest.skip("needs the authors' checkpoints in ../shared/data/yin2021 (or $SRNN_BENCH_DATA/yin2021)")
    ckpt = data / "yin2021" / FILES[name]
    golden = data.parent / "reference" / "yin2021_checkpoints" / f"{name}.npz"
    for p in (ckpt, golden):
        if not p.is_file():
            pytest.skip(f"needs {p} (the authors' checkpoint and its golden set, ../shared)")
    return ckpt, golden


@cache
def _golden(name: str) -> dict:
    import numpy as np

    _, path = _golden_paths(name)
    with np.load(path) as g:
        return {k: torch.from_numpy(g[k].copy()) for k in g.files}


@cache
def _checkpoint(name: str):
    from srnn_bench.zoo.safe_load import load_authors_checkpoint

    return load_authors_checkpoint(_golden_paths(name)[0])


@cache
def _cfg(name: str, backend: str):
    from srnn_bench.zoo.yin2021_gsc_timit import CONVERTERS

    return compose([f"experiment={CONVERTERS[name].experiment}", f"neuron.backend={backend}"])


def imported(name: str, backend: str = "reference", dtype=D):
    """(model, encoder) of the imported checkpoint, converted to ``dtype`` BEFORE loading (float64 bias fold)."""
    from srnn_bench.zoo.yin2021_gsc_timit import CONVERTERS

    conv, cfg = CONVERTERS[name], _cfg(name, backend)
    model = build_model(cfg.model, conv.n_in, conv.n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).to(dtype)
    model.load_state_dict(conv.state_dict(_checkpoint(name), model))
    return model.eval(), build_encoder(cfg.encoder).to(dtype)


def golden_input(name: str, dtype=D) -> torch.Tensor:
    """The golden batch in our time-first layout [T, B, F]."""
    x = _golden(name)["x"]
    if name.startswith("gsc"):  # [B, 3, 101, 40]; step t reads x[:, :, t, :] flattened channel-major (JSON)
        return x.permute(2, 0, 1, 3).reshape(x.shape[2], x.shape[0], -1).to(dtype)
    return x.permute(1, 0, 2).to(dtype)  # TIMIT [B, 100, 39] frames


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (elementwise relative errors are meaningless near 0)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def per_step_counts(activity: torch.Tensor) -> torch.Tensor:
    """[T, B, N] spikes -> [B, T] spike counts per sample and step (the golden ``spikes_*_per_step``)."""
    return activity.sum(-1).T.double()


# -- golden: reference and fused backends, float64 -----------------------------------------------------
@pytest.mark.parametrize("backend, tol", [("reference", 1e-9), ("fused", 1e-6)])
def test_gsc_golden(backend, tol):
    g = _golden("gsc_0.91398")
    model, enc = imported("gsc_0.91398", backend)
    with torch.no_grad():
        xs = enc(golden_input("gsc_0.91398"))
        out, state = model(xs, return_state=True)
    # the ternary input H(x - thr) - H(-thr - x), thr = float32(0.05), laid out as the authors' [B, 3, 101, 40]
    authors_layout = xs.permute(1, 0, 2).reshape(4, 101, 3, 40).permute(0, 2, 1, 3)
    assert torch.equal(authors_layout.to(torch.int8), g["input_ternary"])
    for layer, key in (("layer0", "l1"), ("layer1", "l2")):
        a = out.activity[layer]
        assert torch.equal(per_step_counts(a), g[f"spikes_{key}_per_step"]), layer
        assert torch.equal(a.sum((0, 2)).double(), g[f"spike_count_per_sample_{key}"]), layer
        assert a.sum().item() == g[f"spike_count_{key}"].item()
    logp = F.log_softmax(out.output.mean(0), -1)  # trainer.loss=mean over all 101 steps
    assert rel_err(logp, g["output"]) <= tol
    assert rel_err(out.output.permute(1, 0, 2), g["readout_mem"]) <= tol
    assert rel_err(out.output.sum(0), g["readout_sum_all_steps"]) <= tol
    assert rel_err(state[1].cell.b, g["b_l2_final"]) <= tol
    assert torch.equal(logp.argmax(-1), g["pred"])


@pytest.mark.parametrize("backend, tol", [("reference", 1e-9), ("fused", 1e-6)])
def test_timit_golden(backend, tol):
    g = _golden("timit_0.66292")
    model, enc = imported("timit_0.66292", backend)
    with torch.no_grad():
        x = enc(golden_input("timit_0.66292"))  # each frame held 5 steps: [500, 4, 39]
        out = model(x)
    assert x.shape[0] == 500
    fw, bw = out.activity["layer0"], out.activity["layer0_bwd"]  # both aligned with forward step k
    assert torch.equal(per_step_counts(fw), g["spikes_fw_per_step"])
    assert torch.equal(per_step_counts(bw).flip(1), g["spikes_bw_per_step"])  # golden: backward processing order
    assert torch.equal(fw.sum((0, 2)).double(), g["spike_count_per_sample_fw"])
    assert torch.equal(bw.sum((0, 2)).double(), g["spike_count_per_sample_bw"])
    assert out.output.shape == (100, 4, 61)  # one readout step per frame (block_steps=5)
    logp = F.log_softmax(out.output, -1).permute(1, 0, 2)  # trainer.loss=per_step
    assert rel_err(logp, g["log_probs"]) <= tol
    assert rel_err(out.output.permute(1, 0, 2), g["readout_mem"]) <= tol
    assert torch.equal(logp.argmax(-1), g["pred"])


def test_timit_backward_frame_order_is_the_authors():
    """model.backward_input=authors on the held frames reads exactly the golden ``bw_input_frame_per_step``."""
    g = _golden("timit_0.66292")
    model, enc = imported("timit_0.66292")
    frames = torch.arange(100, dtype=D).view(100, 1, 1)  # frame j carries the value j
    seen = model.backward_sequence(enc(frames)).view(-1).long()
    assert torch.equal(seen, g["bw_input_frame_per_step"])
    assert torch.equal(seen, torch.tensor([((-step) // 5) % 100 for step in range(500)]))


@pytest.mark.parametrize("backend", ["reference", "fused"])
@pytest.mark.parametrize("name", sorted(FILES))
def test_float32_matches_the_authors_float32(name, backend):
    """float32 (the golden ``*_float32`` keys, which agree with float64 on this batch: same spikes, outputs within
    9.8e-6 GSC / 3.0e-5 TIMIT): the same spike totals, outputs within 1e-6 relative of the authors' float32."""
    g = _golden(name)
    model, enc = imported(name, backend, torch.float32)
    with torch.no_grad():
        out = model(enc(golden_input(name, torch.float32)))
    if name.startswith("gsc"):
        ours, theirs, theirs64 = F.log_softmax(out.output.mean(0), -1), g["output_float32"], g["output"]
        counts = {"l1": out.activity["layer0"], "l2": out.activity["layer1"]}
    else:
        ours, theirs, theirs64 = F.log_softmax(out.output, -1).permute(1, 0, 2), g["log_probs_float32"], g["log_probs"]
        counts = {"fw": out.activity["layer0"], "bw": out.activity["layer0_bwd"]}
    for key, a in counts.items():
        assert a.sum().item() == g[f"spike_count_{key}_float32"].item() == g[f"spike_count_{key}"].item(), key
    assert rel_err(ours, theirs) <= 1e-6
    assert torch.equal(ours.argmax(-1), theirs64.argmax(-1))


# -- the NaN neuron of the GSC checkpoint ---------------------------------------------------------------
@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_gsc_nan_neuron_stays_silent_and_contained(backend):
    """dense_1 neuron 172 (NaN tau_m, tau_adp, bias, input weights) never spikes, and no other membrane,
    spike or output is NaN: its NaN reaches no other neuron through any product."""
    ckpt = _checkpoint("gsc_0.91398")
    assert torch.isnan(ckpt.state["dense_1.tau_m"][NAN_NEURON])  # runs as stored: nothing cleaned at import
    model, enc = imported("gsc_0.91398", backend)
    assert torch.isnan(model.layers[0].cell.tau_m[NAN_NEURON])
    assert torch.isnan(model.layers[0].w_in.weight[NAN_NEURON]).all()
    with torch.no_grad():
        xs = enc(golden_input("gsc_0.91398"))
        s1, u1, _ = model.layers[0](xs, record_membrane=True)
        s2, u2, _ = model.layers[1](s1, record_membrane=True)
        out = model(xs)
    others = torch.arange(300) != NAN_NEURON
    assert torch.isnan(u1[..., NAN_NEURON]).all() and (s1[..., NAN_NEURON] == 0).all()
    assert torch.isfinite(u1[..., others]).all() and torch.isfinite(s1).all()
    assert torch.isfinite(u2).all() and torch.isfinite(s2).all() and torch.isfinite(out.output).all()


def _nan_twins(backend: str, layer: int):
    """Two identical small networks (3 -> 6 dense -> 5 recurrent -> 4), except that neuron 2 of ``layer`` is
    NaN (tau_m, tau_adp, bias, incoming weights) in the first and silenced by a -1e6 bias in the second."""
    cfg = compose(["neuron=alif", f"neuron.backend={backend}", "model.hidden=[6,5]", "model.recurrent=[false,true]",
                   "neuron.u0=zero", "neuron.b_j0=0.1"])
    nets = []
    for poison in (True, False):
        torch.manual_seed(0)
        m = build_model(cfg.model, 3, 4, cfg.neuron, build_surrogate(cfg.surrogate)).double()
        lay = m.layers[layer]
        with torch.no_grad():
            if poison:
                for p in (lay.cell.tau_m, lay.cell.tau_adp, lay.w_in.bias):
                    p[2] = float("nan")
                lay.w_in.weight[2] = float("nan")
                if lay.w_rec is not None:
                    lay.w_rec.weight[2] = float("nan")
            else:
                lay.w_in.bias[2] = -1e6
        nets.append(m)
    return nets


@pytest.mark.parametrize("backend", ["reference", "fused"])
@pytest.mark.parametrize("layer", [0, 1])
def test_nan_neuron_is_a_silent_neuron(backend, layer):
    """A NaN neuron (dense or recurrent layer) gives bitwise the network in which that neuron is silenced:
    spike 0, and NaN * 0 never happens (its outgoing weights meet only its zero spikes)."""
    poisoned, silenced = _nan_twins(backend, layer)
    x = torch.randn(30, 4, 3, dtype=D) * 3
    a, b = poisoned(x), silenced(x)
    assert (a.activity[f"layer{layer}"][..., 2] == 0).all()
    for k in a.activity:
        assert torch.equal(a.activity[k], b.activity[k]), k
    assert torch.equal(a.output, b.output)
    assert b.activity["layer0"].sum() > 0 and b.activity["layer1"].sum() > 0  # the networks do spike


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_nan_neuron_gradients_stay_in_its_own_parameters(backend):
    """Training through a NaN neuron of the first layer (the GSC case): only its own tau_m, tau_adp, bias and
    weight row get NaN gradients; every other gradient is finite and equals the silenced twin's."""
    poisoned, silenced = _nan_twins(backend, 0)
    x = torch.randn(30, 4, 3, dtype=D) * 3
    for m in (poisoned, silenced):
        m.train()
        m(x).output.square().mean().backward()
    for (n, p), (_, q) in zip(poisoned.named_parameters(), silenced.named_parameters()):
        gp, gq = p.grad.clone(), q.grad.clone()
        if n.startswith("layers.0.") and (n.endswith(("tau_m", "tau_adp", "bias", "weight"))):
            assert torch.isnan(gp[2]).all(), n
            gp, gq = gp[torch.arange(gp.shape[0]) != 2], gq[torch.arange(gq.shape[0]) != 2]
        assert torch.isfinite(gp).all(), n
        if not n.startswith("layers.0."):  # the first layer's other rows see the silenced twin's -1e6 nowhere
            torch.testing.assert_close(gp, gq, rtol=1e-12, atol=1e-12, msg=n)


# -- negative adaptation tau (TIMIT rnn_fw1.tau_adp[363] = -55.585) ------------------------------------------
def test_negative_tau_adp_runs_as_stored():
    """rho = exp(1/55.585) > 1: b grows, and a spike lowers it ((1 - rho) < 0) -- Yin eq. 6 as written."""
    sg = build_surrogate({"name": "multi_gaussian"})
    tau_m, tau_adp = torch.tensor([20.0], dtype=D), torch.tensor([-55.585], dtype=D)
    rho = float(torch.exp(torch.tensor(1 / 55.585, dtype=D)))
    st = ALIFState(torch.zeros(1, 1, dtype=D), torch.full((1, 1), 1.6, dtype=D), torch.zeros(1, 1, dtype=D))
    b, s_prev = 1.6, 0.0
    for t in range(60):
        s, st = alif_step(torch.full((1, 1), 40.0, dtype=D), st, tau_m, tau_adp, 1.6, 0.184, sg)
        b = rho * b + (1 - rho) * s_prev
        assert abs(float(st.b) - b) <= 1e-12 * abs(b)
        s_prev = float(s)
    assert b > 1.6 * rho**30  # grew although the neuron spiked


def test_negative_tau_adp_fused_equals_reference():
    cfgs = {be: compose(["neuron=alif", f"neuron.backend={be}", "model.hidden=[8]", "neuron.u0=zero",
                         "neuron.b_j0=1.6", "neuron.beta=0.184"]) for be in ("reference", "fused")}
    outs = {}
    for be, cfg in cfgs.items():
        torch.manual_seed(0)
        m = build_model(cfg.model, 3, 4, cfg.neuron, build_surrogate(cfg.surrogate)).double()
        with torch.no_grad():
            m.layers[0].cell.tau_adp[3] = -55.585
        torch.manual_seed(1)
        with torch.no_grad():
            outs[be] = m(torch.randn(200, 2, 3, dtype=D) * 5, return_state=True)
    (a, sa), (b, sb) = outs["reference"], outs["fused"]
    assert torch.equal(a.activity["layer0"], b.activity["layer0"]) and a.activity["layer0"][..., 3].sum() > 0
    torch.testing.assert_close(sb[0].cell.b, sa[0].cell.b, rtol=1e-12, atol=0)
    assert float(sa[0].cell.b[:, 3].max()) > 1.6  # grew with rho > 1


# -- the general options, on small networks --------------------------------------------------------------
def make(*overrides, n_in=3, n_classes=4):
    cfg = compose(["neuron=alif", "neuron.u0=zero", "model.hidden=[6]", *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, n_in, n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).double(), cfg


def test_identity_hold_steps_repeats_each_step():
    enc = build_encoder({"name": "identity", "hold_steps": 5})
    x = torch.randn(7, 2, 3, dtype=D)
    y = enc(x)
    assert y.shape == (35, 2, 3) and enc.out_steps(7) == 35
    assert all(torch.equal(y[t], x[t // 5]) for t in range(35))
    assert build_encoder({"name": "identity"})(x) is x
    with pytest.raises(ValueError, match="encoder.hold_steps must be an integer >= 1"):
        build_encoder({"name": "identity", "hold_steps": 0})


def test_backward_input_orders():
    x = torch.arange(12, dtype=D).view(12, 1, 1)
    rev, _ = make("model.bidirectional=true")
    auth, _ = make("model.bidirectional=true", "model.backward_input=authors")
    assert rev.backward_sequence(x).view(-1).tolist() == list(range(11, -1, -1))
    assert auth.backward_sequence(x).view(-1).tolist() == [(-step) % 12 for step in range(12)]  # x[(-l) mod T]


@pytest.mark.parametrize("backward_input", ["reversed", "authors"])
def test_concat_merge_and_block_readout(backward_input):
    """bidirectional_merge=concat: readout input [fw_k, bw_(T-1-k)]; block_steps=3: the readout runs once per
    block of 3 steps on the block's mean input."""
    model, _ = make("model.bidirectional=true", "model.bidirectional_merge=concat",
                    f"model.backward_input={backward_input}", "model.readout.block_steps=3")
    assert model.readout.w_in.in_features == 12
    x = torch.randn(12, 2, 3, dtype=D) * 3
    out = model(x)
    hf, _, _ = model.layers[0](x)
    xb = x.flip(0).roll(1, 0) if backward_input == "authors" else x.flip(0)
    hb, _, _ = model.layers_bwd[0](xb)
    merged = torch.cat([hf, hb.flip(0)], -1)
    ro, _, _ = model.readout(merged.view(4, 3, 2, 12).mean(1))
    torch.testing.assert_close(out.output, ro, rtol=1e-14, atol=1e-14)
    assert out.output.shape == (4, 2, 4) and out.activity["layer0"].shape == (12, 2, 6)
    with pytest.raises(ValueError, match="block_steps=3 needs a sequence length divisible by 3"):
        model(x[:10])


def test_defaults_unchanged_mean_merge():
    """The default bidirectional model still averages the two directions (existing configs unchanged)."""
    model, cfg = make("model.bidirectional=true")
    assert cfg.model.bidirectional_merge == "mean" and cfg.model.readout.block_steps == 1
    x = torch.randn(9, 2, 3, dtype=D)
    hf, _, _ = model.layers[0](x)
    hb, _, _ = model.layers_bwd[0](x.flip(0))
    ro, _, _ = model.readout(0.5 * (hf + hb.flip(0)))
    torch.testing.assert_close(model(x).output, ro, rtol=0, atol=0)


def test_block_readout_refuses_streaming_and_chunking():
    model, _ = make("model.readout.block_steps=2")
    with pytest.raises(ValueError, match="cannot stream"):
        model.step(torch.zeros(1, 3, dtype=D), model.init_state(1))
    with pytest.raises(ValueError, match="cannot chunk a block readout"):
        validate_config(compose(["model.readout.block_steps=2", "trainer.tbptt_steps=10"]))
    for bad, msg in (
        ("model.bidirectional_merge=sum", "unknown model.bidirectional_merge 'sum'; valid choices: mean, concat"),
        ("model.backward_input=x", "unknown model.backward_input 'x'; valid choices: reversed, authors"),
        ("model.readout.block_steps=0", "model.readout.block_steps must be > 0"),
    ):
        with pytest.raises(ValueError, match=msg):
            validate_config(compose([bad]))


def test_per_step_labels_need_block_equal_to_hold():
    from types import SimpleNamespace

    from srnn_bench.config_validation import validate_against_data

    data = SimpleNamespace(binary_input=False, per_step_labels=True, n_steps=100)
    cfg = OmegaConf.to_container(compose(["experiment=yin2021/timit_0_66292"]), resolve=True)
    validate_against_data(cfg, data)
    cfg["model"]["readout"]["block_steps"] = 1
    with pytest.raises(ValueError, match=r"block_steps \(1\) must equal encoder.hold_steps \(5\)"):
        validate_against_data(cfg, data)


# -- configs and converters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["yin2021/gsc_0_91398", "yin2021/timit_0_66292", "gsc_alif", "timit_bialif"])
def test_experiment_configs_validate(name):
    cfg = compose([f"experiment={name}"])
    validate_config(cfg)
    if "gsc" in name:
        assert list(cfg.model.recurrent) == [False, True] and cfg.encoder.name == "ternary"
        assert cfg.trainer.loss == "mean" and not cfg.trainer.skip_steps and list(cfg.model.hidden) == [300, 300]
    else:
        assert cfg.encoder.hold_steps == 5 and cfg.model.readout.block_steps == 5 and cfg.dataset.max_frames == 100
        assert cfg.model.bidirectional and cfg.model.bidirectional_merge == "concat" and cfg.trainer.loss == "per_step"
    assert (cfg.neuron.b_j0, cfg.neuron.beta) == (1.6, 0.184)
    if name.startswith("yin2021/"):
        assert cfg.trainer.dtype == "float64" and cfg.neuron.u0 == "zero"


def test_gsc_threshold_is_the_checkpoints():
    from srnn_bench.zoo.yin2021_gsc_timit import GSC_THRESHOLD

    cfg = compose(["experiment=yin2021/gsc_0_91398"])
    enc = build_encoder(cfg.encoder)
    assert GSC_THRESHOLD == cfg.encoder.threshold == 0.05000000074505806
    assert "theta" not in dict(enc.named_parameters())  # fixed: learnable=false (a buffer)
    assert float(enc.theta.double()) == GSC_THRESHOLD and float(enc.theta.to(D)) == GSC_THRESHOLD
    assert float(_checkpoint("gsc_0.91398").state["thr"]) == GSC_THRESHOLD


def test_converters_recognise_their_files_only():
    from srnn_bench.zoo.yin2021_gsc_timit import CONVERTERS

    for name, conv in CONVERTERS.items():
        for other in FILES:
            assert conv.matches(_checkpoint(other)) == (other == name), (name, other)


def test_converter_folds_biases_and_keeps_taus_as_stored():
    from srnn_bench.zoo.yin2021_gsc_timit import CONVERTERS

    ck = _checkpoint("timit_0.66292")
    model, _ = imported("timit_0.66292")
    sd = CONVERTERS["timit_0.66292"].state_dict(ck, model)
    s = ck.state
    folded = s["rnn_fw1.dense.bias"].double() + s["rnn_fw1.recurrent.bias"].double()  # summed in float64
    assert torch.equal(sd["layers.0.w_in.bias"], folded)
    assert torch.equal(sd["layers_bwd.0.w_rec.weight"], s["rnn_bw1.recurrent.weight"].double())
    assert torch.equal(sd["layers.0.cell.tau_adp"], s["rnn_fw1.tau_adp"].double())  # the negative one included
    tau = model.layers[0].cell.tau_adp.detach()
    assert float(tau.min()) < 0 and float(tau[363]) == float(s["rnn_fw1.tau_adp"][363])
    assert torch.equal(sd["readout.w_in.weight"][:, 512:], s["dense_mean.dense.weight"][:, 512:].double())  # bw columns


def test_converter_refuses_a_model_that_does_not_fit():
    from srnn_bench.zoo.yin2021_gsc_timit import CONVERTERS

    cfg = compose(["experiment=yin2021/gsc_0_91398", "model.hidden=[256,256]"])
    model = build_model(cfg.model, 120, 12, cfg.neuron, build_surrogate(cfg.surrogate))
    with pytest.raises(ValueError, match="gsc_0.91398: the model does not fit the checkpoint"):
        CONVERTERS["gsc_0.91398"].state_dict(_checkpoint("gsc_0.91398"), model)


def test_yaml_threshold_round_trips():
    """The config's threshold is the float64 value of float32(0.05) exactly (no YAML rounding)."""
    text = (ROOT / "configs" / "experiment" / "yin2021" / "gsc_0_91398.yaml").read_text()
    assert yaml.safe_load(text)["encoder"]["threshold"] == float(torch.tensor(0.05, dtype=torch.float32))
