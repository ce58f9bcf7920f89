"""Baselines for scripts/bench.py: the SHD-ALIF workload built with peer libraries, and a naive loop
written the way the authors' SHD script is written.

Every builder takes our reference model (``srnn_bench.models.SRNN``: n_in -> recurrent hidden layers ->
leaky-integrator readout) and returns a module with the same layer sizes whose ``forward(x [T, B, n_in])``
returns ``ModelOutput(readout [T, B, C], {})``, so the bench applies the same loss (``sum_softmax``),
the same optimiser (Adam) and the same timers and memory probe to every variant.

``authors``      A hand-written per-step loop in the style of Yin et al.'s SHD script
                 (byin-cwi/Efficient-spiking-networks, ``SHD/SHD_2layer_ALIF.py``): ``nn.Linear`` input and
                 recurrent projections applied at every step (recurrent one with a bias), the ALIF update of
                 Yin et al. 2021 eqs 5-8 recomputing ``exp(-1/tau)`` every step, and the Multi-Gaussian
                 surrogate (semantics.md §1) in its own ``autograd.Function``. Weights, time constants and
                 the initial membranes are those of the reference model, so it computes the same numbers
                 (tests/e2e/test_bench_script.py checks this). The authors' per-step ``.cpu().numpy()`` copies of
                 the hidden activity (logging) are left out: they are not part of the training step.
                 With a spiking readout (``ecg_alif``) the output layer is an ALIF population updated the
                 same way, its membrane the per-step readout, as in the authors' ECG script
                 (``ECG/adapt_srnn_0.844_gpu-v1.py``, ``RNN_s``; scripts/bench_ecg.py times it).
``snntorch``     ``snn.RLeaky`` (all-to-all recurrent ``nn.Linear``, subtractive reset, threshold 1 fixed, ATan
                 surrogate: their defaults) with a learnable per-neuron ``beta = exp(-1/tau_m)`` from our
                 initial ``tau_m``; readout ``snn.Leaky(reset_mechanism="none")``, its membrane is the output.
                 The feed-forward ``nn.Linear`` is applied to the whole sequence at once (favours the peer).
``norse``        ``norse.torch.LSNNRecurrent`` (adaptive LIF, their default ``LSNNParameters``: SuperSpike
                 surrogate, alpha 100; dt 1 ms), readout ``nn.Linear`` + ``norse.torch.LI``.
``spikingjelly`` ``layer.Linear`` + ``layer.LinearRecurrentContainer(neuron.LIFNode())`` per hidden layer (their
                 defaults: tau 2, hard reset, Sigmoid surrogate alpha 4; the container feeds
                 ``Linear([x_t, y_{t-1}])`` to the neuron), readout ``layer.Linear`` + ``neuron.NonSpikingLIFNode``.

Peers are optional extras (``pip install .[peers]``); :func:`missing` says why one cannot be built.
Only their public APIs are used.
"""

from __future__ import annotations

import importlib
import math

import torch
from torch import nn

from srnn_bench.models.srnn import ModelOutput

PEERS = ("authors", "snntorch", "norse", "spikingjelly")
LABELS = {
    "authors": "authors'-style loop (Yin et al. SHD script)",
    "snntorch": "snnTorch RLeaky",
    "norse": "Norse LSNNRecurrent",
    "spikingjelly": "SpikingJelly LinearRecurrentContainer(LIFNode)",
}
_MODULES = {"snntorch": "snntorch", "norse": "norse.torch", "spikingjelly": "spikingjelly.activation_based"}
NOT_INSTALLED = "not installed (pip install .[peers])"


def missing(name: str) -> str | None:
    """``None`` when peer ``name`` can be built here, else a one-line reason."""
    if name not in PEERS:
        raise ValueError(f"unknown peer '{name}'; valid choices: {', '.join(PEERS)}")
    if name == "authors":
        return None
    try:
        importlib.import_module(_MODULES[name])
    except ImportError:
        return NOT_INSTALLED
    except Exception as e:  # noqa: BLE001 -- installed but broken beside this torch build
        return f"fails to import: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return None


def build_peer(name: str, ref: nn.Module) -> nn.Module:
    """Peer ``name`` with the layer sizes (and, where the peer has them, the time constants) of ``ref``."""
    reason = missing(name)
    if reason is not None:
        raise ValueError(f"peer '{name}' cannot be built: {reason}")
    return {
        "authors": AuthorsStyleSRNN,
        "snntorch": SnnTorchSRNN,
        "norse": NorseSRNN,
        "spikingjelly": SpikingJellySRNN,
    }[name](ref)


def _sizes(ref) -> tuple[list[int], list[int], int]:
    """(inputs of each hidden layer, hidden sizes, classes) of an SRNN with recurrent hidden layers."""
    if any(layer.w_rec is None for layer in ref.layers) or ref.readout_kind not in ("integrator", "spiking"):
        raise ValueError("the peers mirror recurrent hidden layers with an integrator (authors: or spiking) readout")
    return [layer.n_in for layer in ref.layers], [layer.size for layer in ref.layers], ref.readout.size


# -- the authors'-style loop ------------------------------------------------------------------------
def _gauss(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    return torch.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


class _MultiGaussianSpike(torch.autograd.Function):
    """Heaviside forward; Multi-Gaussian surrogate backward (semantics.md §1: sigma 0.5, h 0.15, s 6,
    times gamma 0.5), computed from the saved ``x = u - theta`` in the backward as the authors' code does."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.gt(0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        sigma, h, s = 0.5, 0.15, 6.0
        d = (1 + h) * _gauss(x, 0.0, sigma) - h * _gauss(x, sigma, s * sigma) - h * _gauss(x, -sigma, s * sigma)
        return grad * d * 0.5


class AuthorsStyleSRNN(nn.Module):
    """Per-step ALIF SRNN loop (Yin et al. 2021 eqs 5-8) in the style of the authors' SHD script."""

    def __init__(self, ref) -> None:
        super().__init__()
        n_ins, sizes, n_out = _sizes(ref)
        self.i2h = nn.ModuleList(nn.Linear(n, h) for n, h in zip(n_ins, sizes))
        self.h2h = nn.ModuleList(nn.Linear(h, h) for h in sizes)
        self.h2o = nn.Linear(sizes[-1], n_out)
        self.tau_m = nn.ParameterList(nn.Parameter(layer.cell.tau_m.detach().clone()) for layer in ref.layers)
        self.tau_adp = nn.ParameterList(nn.Parameter(layer.cell.tau_adp.detach().clone()) for layer in ref.layers)
        self.tau_m_o = nn.Parameter(ref.readout.cell.tau_m.detach().clone())
        self.spiking_out = ref.readout_kind == "spiking"  # ECG: an ALIF output layer (the authors' RNN_s)
        if self.spiking_out:
            out = ref.readout.cell
            self.tau_adp_o = nn.Parameter(out.tau_adp.detach().clone())
            self.b_j0_o, self.beta_o, self.u0_o = out.b_j0, out.beta, out.u0
        self.b_j0 = [layer.cell.b_j0 for layer in ref.layers]
        self.beta = [layer.cell.beta for layer in ref.layers]
        self.u0 = [layer.cell.u0 for layer in ref.layers]
        with torch.no_grad():
            for lin, layer in zip(self.i2h, ref.layers):
                lin.weight.copy_(layer.w_in.weight)
                lin.bias.copy_(layer.w_in.bias)
            for lin, layer in zip(self.h2h, ref.layers):
                lin.weight.copy_(layer.w_rec.weight)
                lin.bias.zero_()  # the authors' recurrent Linear has a bias, initialised to 0
            self.h2o.weight.copy_(ref.readout.w_in.weight)
            self.h2o.bias.copy_(ref.readout.w_in.bias)

    @staticmethod
    def _alif(i_t, mem, spike, b, tau_m, tau_adp, b_j0, beta):
        """Yin et al. 2021 eqs 5-8 in the authors' update order (dt = 1, R_m = 1)."""
        alpha = torch.exp(-1.0 / tau_m)
        rho = torch.exp(-1.0 / tau_adp)
        b = rho * b + (1 - rho) * spike  # eq. 6
        theta = b_j0 + beta * b  # eq. 7
        mem = mem * alpha + (1 - alpha) * i_t - theta * spike  # eq. 5
        spike = _MultiGaussianSpike.apply(mem - theta)  # eq. 8
        return mem, spike, b

    def forward(self, x: torch.Tensor) -> ModelOutput:
        B = x.shape[1]
        mems, spikes, bs = [], [], []
        for lin, u0, b_j0 in zip(self.h2h, self.u0, self.b_j0):  # the reference model's initial state
            n = lin.out_features
            r = torch.rand(B, n, dtype=x.dtype) if u0 != "zero" else torch.zeros(B, n, dtype=x.dtype)
            mems.append(r * b_j0 if u0 == "uniform" else r)
            spikes.append(torch.zeros(B, n, dtype=x.dtype))
            bs.append(b_j0)
        n_out = self.h2o.out_features
        mem_o = torch.zeros(B, n_out, dtype=x.dtype)
        if self.spiking_out:
            if self.u0_o != "zero":
                r = torch.rand(B, n_out, dtype=x.dtype)
                mem_o = r * self.b_j0_o if self.u0_o == "uniform" else r
            spike_o, b_o = torch.zeros(B, n_out, dtype=x.dtype), self.b_j0_o
        alpha_o = None
        outs = []
        for t in range(x.shape[0]):
            h = x[t]
            for i in range(len(self.i2h)):
                i_t = self.i2h[i](h) + self.h2h[i](spikes[i])
                mems[i], spikes[i], bs[i] = self._alif(
                    i_t, mems[i], spikes[i], bs[i], self.tau_m[i], self.tau_adp[i], self.b_j0[i], self.beta[i]
                )
                h = spikes[i]
            if self.spiking_out:  # ALIF outputs, their membrane read out (authors' ECG RNN_s)
                mem_o, spike_o, b_o = self._alif(
                    self.h2o(h), mem_o, spike_o, b_o, self.tau_m_o, self.tau_adp_o, self.b_j0_o, self.beta_o
                )
            else:
                alpha_o = torch.exp(-1.0 / self.tau_m_o)
                mem_o = mem_o * alpha_o + (1 - alpha_o) * self.h2o(h)  # leaky-integrator readout
            outs.append(mem_o)
        return ModelOutput(torch.stack(outs), {})


# -- snnTorch -----------------------------------------------------------------------------------------
class SnnTorchSRNN(nn.Module):
    def __init__(self, ref) -> None:
        super().__init__()
        import snntorch as snn

        n_ins, sizes, n_out = _sizes(ref)
        self.fc = nn.ModuleList(nn.Linear(n, h) for n, h in zip(n_ins, sizes))
        self.lif = nn.ModuleList(
            snn.RLeaky(beta=torch.exp(-1.0 / layer.cell.tau_m.detach()), linear_features=h, learn_beta=True)
            for layer, h in zip(ref.layers, sizes)
        )
        self.fc_out = nn.Linear(sizes[-1], n_out)
        self.li = snn.Leaky(
            beta=torch.exp(-1.0 / ref.readout.cell.tau_m.detach()), learn_beta=True, reset_mechanism="none"
        )

    def forward(self, x: torch.Tensor) -> ModelOutput:
        h = x
        for fc, lif in zip(self.fc, self.lif):
            cur = fc(h)
            spk = torch.zeros_like(cur[0])
            mem = torch.zeros_like(cur[0])
            outs = []
            for t in range(cur.shape[0]):
                spk, mem = lif(cur[t], spk, mem)
                outs.append(spk)
            h = torch.stack(outs)
        cur = self.fc_out(h)
        mem = torch.zeros_like(cur[0])
        outs = []
        for t in range(cur.shape[0]):
            _, mem = self.li(cur[t], mem)
            outs.append(mem)
        return ModelOutput(torch.stack(outs), {})


# -- Norse --------------------------------------------------------------------------------------------
class NorseSRNN(nn.Module):
    def __init__(self, ref) -> None:
        super().__init__()
        from norse.torch import LI, LSNNRecurrent

        n_ins, sizes, n_out = _sizes(ref)
        self.rec = nn.ModuleList(LSNNRecurrent(n, h) for n, h in zip(n_ins, sizes))
        self.fc_out = nn.Linear(sizes[-1], n_out)
        self.li = LI()

    def forward(self, x: torch.Tensor) -> ModelOutput:
        h = x
        for rec in self.rec:
            h, _ = rec(h)
        out, _ = self.li(self.fc_out(h))
        return ModelOutput(out, {})


# -- SpikingJelly -------------------------------------------------------------------------------------
class SpikingJellySRNN(nn.Module):
    def __init__(self, ref) -> None:
        super().__init__()
        from spikingjelly.activation_based import layer, neuron

        n_ins, sizes, n_out = _sizes(ref)
        mods = []
        for n, h in zip(n_ins, sizes):
            mods += [
                layer.Linear(n, h, step_mode="m"),
                layer.LinearRecurrentContainer(neuron.LIFNode(), h, h, step_mode="m"),
            ]
        mods.append(layer.Linear(sizes[-1], n_out, step_mode="m"))
        self.net = nn.Sequential(*mods)
        self.readout = neuron.NonSpikingLIFNode()

    def forward(self, x: torch.Tensor) -> ModelOutput:
        from spikingjelly.activation_based import functional

        functional.reset_net(self)  # their modules keep state between calls
        return ModelOutput(torch.stack(self.readout(self.net(x))), {})


# -- the bench's table ----------------------------------------------------------------------------------
NOTES = (
    "Peers use their own defaults where ours have no counterpart: snnTorch RLeaky with the ATan surrogate, "
    "threshold 1 (fixed), learnable per-neuron beta = exp(-1/tau_m) from our initial tau_m, its input Linear "
    "applied to the whole sequence at once; Norse LSNNRecurrent with default LSNNParameters (SuperSpike "
    "surrogate, alpha 100, dt 1 ms; its input weights are applied inside the per-step loop, as its API does) and "
    "an LI readout; SpikingJelly LIFNode (tau 2, hard reset, Sigmoid "
    "surrogate alpha 4) in a LinearRecurrentContainer (which feeds Linear([x_t, y_t-1]) to the neuron: one extra "
    "H x H product per step), NonSpikingLIFNode readout. The authors'-style loop uses "
    "the naive model's weights and the Multi-Gaussian surrogate, so its outputs match ours (line below). "
    "Each peer gets the same input batch, loss (sum of per-step softmaxes, CE), Adam and timers; their firing "
    "rates differ from ours, which does not change their (dense) cost. SpikingJelly is not in the `peers` extra: "
    "spikingjelly 2.0.0 requires torchaudio, and the only torchaudio available here (2.11.0) does not load "
    "beside torch 2.13 (OSError on _torchaudio.abi3.so); `pip install --no-deps spikingjelly loguru` gives a "
    "working install for this benchmark. Norse 1.1.0 pulls torchvision, whose PyPI wheel fails to load beside "
    "a +cpu torch build (norse.torch does not import it; uninstalling it is harmless)."
)


def table_lines(med: dict, spread: dict, mem: dict, ran: list[str], not_run: dict[str, str]):
    """Rows of the variants table; returns ``(lines, best_peer_name_or_None, fused_speedup_vs_best)``.

    ``med`` / ``spread`` map ``<variant>_train`` / ``<variant>_infer`` to the median / (min, max) seconds,
    ``mem[variant]["peak"]`` the peak bytes of one forward + backward; ``ran`` the peers timed,
    ``not_run`` the peers not timed with the reason.
    """

    def cell(key):
        return f"{med[key]:.3f} ({spread[key][0]:.3f}-{spread[key][1]:.3f})"

    lines = [
        "| variant | training step (s) | fused is | inference (s) | fused is | peak memory (fwd + bwd) | fused / variant |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [("naive", "in-repo reference loop (`neuron.backend=reference`)")]
    rows += [(p, LABELS[p]) for p in PEERS if p in ran or p in not_run]
    rows.append(("fused", "fused (`neuron.backend=fused`)"))
    for name, label in rows:
        if name in not_run:
            lines.append(f"| {label} | {not_run[name]} | | | | | |")
            continue
        mib = mem[name]["peak"] / 2**20
        if name == "fused":
            lines.append(f"| {label} | {cell('fused_train')} | | {cell('fused_infer')} | | {mib:.1f} MiB | 1 |")
            continue
        lines.append(
            f"| {label} | {cell(name + '_train')} | {med[name + '_train'] / med['fused_train']:.2f}x faster | "
            f"{cell(name + '_infer')} | {med[name + '_infer'] / med['fused_infer']:.2f}x faster | {mib:.1f} MiB | "
            f"{mem['fused']['peak'] / mem[name]['peak']:.3f} |"
        )
    best = min(ran, key=lambda p: med[p + "_train"]) if ran else None
    speedup = med[best + "_train"] / med["fused_train"] if best else None
    lines.append("")
    if best:
        lines.append(
            f"best peer: {LABELS[best]} {med[best + '_train']:.3f} s; fused is {speedup:.2f}x faster (target >= 2.8x)"
        )
    else:
        lines.append("best peer: none timed in this run")
    return lines, best, speedup
