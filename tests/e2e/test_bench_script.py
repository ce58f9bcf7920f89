"""scripts/bench.py and its baselines (scripts/bench_peers.py) on tiny workloads; no timing is asserted.

Peers are optional extras (``pip install .[peers]``): a peer that is not installed is skipped, by name.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, compose

sys.path.insert(0, str(ROOT / "scripts"))
import bench_peers

from srnn_bench.models import build_model
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training.losses import loss_and_correct

N_IN, HIDDEN, C, T, B = 13, [8, 6], 4, 5, 2


def _ref_model(u0: str = "uniform", beta: float = 1.8, dtype=torch.float32):
    """The bench's model (SHD-ALIF neuron and readout settings), at tiny sizes, on the reference backend."""
    from omegaconf import OmegaConf

    shd = compose(["experiment=shd_alif"])
    neuron = OmegaConf.to_container(shd.neuron, resolve=True)
    mcfg = OmegaConf.to_container(shd.model, resolve=True)
    mcfg["hidden"], mcfg["recurrent"] = HIDDEN, True
    neuron.update(backend="reference", u0=u0, beta=beta)
    torch.manual_seed(0)
    return build_model(mcfg, N_IN, C, neuron, build_surrogate({"name": "multi_gaussian"})).to(dtype)


def _batch(dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    return (torch.rand(T, B, N_IN, generator=g) < 0.5).to(dtype), torch.tensor([1, 3])


@pytest.mark.parametrize("name", bench_peers.PEERS)
def test_peer_builder_shapes_and_finite_nonzero_gradients(name):
    reason = bench_peers.missing(name)
    if reason is not None:
        pytest.skip(f"peer {name}: {reason}")
    peer = bench_peers.build_peer(name, _ref_model())
    x, y = _batch()
    torch.manual_seed(2)
    out = peer(x)
    assert out.output.shape == (T, B, C)
    assert torch.isfinite(out.output).all()
    loss_and_correct("sum_softmax", out, y)[0].backward()
    params = dict(peer.named_parameters())
    assert params and all(p.grad is not None for p in params.values()), [n for n, p in params.items() if p.grad is None]
    assert all(torch.isfinite(p.grad).all() for p in params.values())
    # the input projection [hidden0, n_in] is reached only through both hidden layers' surrogates
    w_in = [p for p in params.values() if p.ndim == 2 and p.shape == (HIDDEN[0], N_IN)]
    assert len(w_in) == 1
    assert w_in[0].grad.abs().sum() > 0
    # a second forward starts from the initial state again (SpikingJelly modules keep state between calls)
    torch.manual_seed(2)
    assert torch.equal(peer(x).output, out.output.detach())


@pytest.mark.parametrize("u0,beta", [("uniform", 1.8), ("uniform_unit", 1.8), ("zero", 0.0)])
def test_authors_style_loop_computes_the_reference_numbers(u0, beta):
    """The authors'-style loop (per-step nn.Linear, its own MG autograd.Function, Yin eqs 5-8) gives the
    reference loop's outputs and gradients on the same weights (float64): the baseline times the same maths."""
    ref = _ref_model(u0, beta, torch.float64)
    peer = bench_peers.build_peer("authors", ref).double()
    x, y = _batch(torch.float64)
    outs = []
    for m in (ref, peer):
        torch.manual_seed(2)
        out = m(x)
        loss_and_correct("sum_softmax", out, y)[0].backward()
        outs.append(out.output.detach())
    assert (outs[0] - outs[1]).abs().max() < 1e-12
    pairs = [(peer.h2o.weight, ref.readout.w_in.weight), (peer.tau_m_o, ref.readout.cell.tau_m)]
    for i, layer in enumerate(ref.layers):
        pairs += [
            (peer.i2h[i].weight, layer.w_in.weight),
            (peer.i2h[i].bias, layer.w_in.bias),
            (peer.h2h[i].weight, layer.w_rec.weight),
            (peer.tau_m[i], layer.cell.tau_m),
            (peer.tau_adp[i], layer.cell.tau_adp),
        ]
    for a, b in pairs:
        scale = b.grad.abs().max().clamp_min(1e-30)
        assert ((a.grad - b.grad).abs().max() / scale) < 1e-9
    assert ref.layers[0].w_in.weight.grad.abs().sum() > 0


def test_table_lines_ratios_best_peer_and_missing_rows():
    med = {"naive_train": 0.6, "fused_train": 0.1, "authors_train": 0.4, "norse_train": 0.3,
           "naive_infer": 0.2, "fused_infer": 0.05, "authors_infer": 0.1, "norse_infer": 0.15}  # fmt: skip
    spread = {k: (v * 0.9, v * 1.1) for k, v in med.items()}
    mem = {"naive": {"peak": 8 * 2**20}, "fused": {"peak": 2 * 2**20}, "authors": {"peak": 16 * 2**20},
           "norse": {"peak": 4 * 2**20}}  # fmt: skip
    lines, best, speedup = bench_peers.table_lines(
        med, spread, mem, ["authors", "norse"], {"snntorch": bench_peers.NOT_INSTALLED}
    )
    assert best == "norse" and speedup == pytest.approx(3.0)
    assert lines[-1] == "best peer: Norse LSNNRecurrent 0.300 s; fused is 3.00x faster (target >= 2.8x)"
    norse = next(ln for ln in lines if ln.startswith("| Norse"))
    assert "| 3.00x faster |" in norse and "| 4.0 MiB | 0.500 |" in norse and "| 3.00x faster | 4.0 MiB" in norse
    assert "| 0.125 |" in next(ln for ln in lines if ln.startswith("| authors"))
    assert "| snnTorch RLeaky | not installed (pip install .[peers]) |" in "\n".join(lines)
    assert not any(ln.startswith("| SpikingJelly") for ln in lines)  # not requested, not listed


def _bench(*args, timeout=240):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), *args],
        check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def test_bench_help_and_bad_peer():
    r = _bench("--help")
    assert r.returncode == 0 and "--peers" in r.stdout
    r = _bench("--peers", "nest")
    assert r.returncode == 2 and "unknown peer 'nest'" in r.stderr and "snntorch" in r.stderr


def test_bench_tiny_run_writes_table_and_ends_with_result_lines(tmp_path):
    out = tmp_path / "bench.md"
    r = _bench("--steps", "5", "--batch", "2", "--repeats", "1", "--threads", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    text = out.read_text()
    assert "## Peers and baselines" in text and re.search(
        r"^best peer: .+ s; fused is [\d.]+x faster", text, re.MULTILINE
    )
    for name in bench_peers.PEERS:
        row = next(ln for ln in text.splitlines() if ln.startswith(f"| {bench_peers.LABELS[name]} |"))
        if bench_peers.missing(name) is None:
            assert re.search(r"\| [\d.]+ \([\d.]+-[\d.]+\) \| [\d.]+x faster \|", row), row
        else:
            assert bench_peers.missing(name) in row
    last = r.stdout.strip().splitlines()[-2:]
    assert re.fullmatch(r"speedup_vs_best_peer=[\d.]+", last[0]), last
    assert re.fullmatch(r"speedup_vs_naive=[\d.]+ memory_ratio_vs_naive=[\d.]+", last[1]), last


def test_authors_style_loop_with_spiking_outputs_is_the_ecg_network():
    """ecg_alif (hidden beta 0, 6 spiking ALIF outputs whose membrane is read out): the authors'-style loop
    that scripts/bench_ecg.py times computes the reference loop's outputs and gradients (float64)."""
    from omegaconf import OmegaConf

    cfg = compose(["experiment=ecg_alif", "neuron.backend=reference"])
    torch.manual_seed(0)
    ref = build_model(OmegaConf.to_container(cfg.model, resolve=True), 4, 6, OmegaConf.to_container(cfg.neuron, resolve=True),
                      build_surrogate({"name": "multi_gaussian"})).double()
    peer = bench_peers.build_peer("authors", ref).double()
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(40, 3, 4, generator=g) < 0.3).double()
    y = torch.randint(0, 6, (40, 3), generator=g)
    outs = []
    for m in (ref, peer):
        torch.manual_seed(2)
        out = m(x)
        loss_and_correct("per_step", out, y, 10)[0].backward()
        outs.append(out.output.detach())
    assert (outs[0] - outs[1]).abs().max() < 1e-12
    for a, b in [(peer.h2o.weight, ref.readout.w_in.weight), (peer.tau_adp_o, ref.readout.cell.tau_adp),
                 (peer.i2h[0].weight, ref.layers[0].w_in.weight), (peer.tau_m[0], ref.layers[0].cell.tau_m)]:
        assert ((a.grad - b.grad).abs().max() / b.grad.abs().max().clamp_min(1e-30)) < 1e-9
    assert ref.readout.cell.tau_adp.grad.abs().sum() > 0


def test_bench_ecg_builds_the_composed_experiment_through_resources_compose():
    """scripts/bench_ecg.py's models come from srnn_bench.resources.compose (the one compose): the same
    parameters as the ecg_alif / ecg_lstm experiments built here, on the backend asked for."""
    from omegaconf import OmegaConf

    import bench_ecg

    assert "initialize_config_dir" not in (ROOT / "scripts" / "bench_ecg.py").read_text()
    for experiment in ("ecg_alif", "ecg_lstm"):
        cfg = compose([f"experiment={experiment}", "neuron.backend=reference"])
        torch.manual_seed(0)
        want = build_model(OmegaConf.to_container(cfg.model, resolve=True), 4, 6,
                           OmegaConf.to_container(cfg.neuron, resolve=True), build_surrogate(cfg.surrogate))
        got = bench_ecg._model("reference", experiment)
        assert type(got) is type(want)
        a, b = want.state_dict(), got.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
