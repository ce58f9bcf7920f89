"""Training-step benchmark on the SHD-sized workload: neuron.backend=fused vs the naive reference loop and peers.

Workload (issue #6): 700 -> 128 recurrent ALIF -> 128 recurrent ALIF -> 20 leaky-integrator readout,
T = 250, batch 64, ~1.5 % binary input density, float32, Multi-Gaussian surrogate, Adam, the SHD loss
(sum of per-step softmaxes). One process, runs alternated (naive, fused, peers, naive, ...), medians.
Peers (scripts/bench_peers.py): a per-step loop in the style of the authors' SHD script, and snnTorch,
Norse and SpikingJelly networks of the same sizes when installed (``pip install .[peers]``).

    python scripts/bench.py [--threads 2] [--repeats 7] [--peers all] [--mnist1d] [--out results/bench.md]

Prints a table, writes it to ``--out`` with the machine description, and ends with the line
``speedup_vs_naive=<x> memory_ratio_vs_naive=<y>`` (training step, time and peak memory), preceded by
``speedup_vs_best_peer=<z>`` (fastest training step among the peers that ran).
Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pin_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7, help="timed runs per variant (after 2 warm-ups)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--density", type=float, default=0.015)
    ap.add_argument("--peers", default="all", help="comma-separated peers to time (authors, snntorch, norse, "
                    "spikingjelly), 'all' or 'none'")  # fmt: skip
    ap.add_argument("--mnist1d", action="store_true", help="also time one epoch of the default experiment")
    ap.add_argument("--long", action="store_true", help="also measure memory at T = 784 and 1301 (S-MNIST, ECG)")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench.md"))
    args = ap.parse_args(argv)
    _pin_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_peers

    wanted = {"all": list(bench_peers.PEERS), "none": []}.get(args.peers, [p for p in args.peers.split(",") if p])
    for p in wanted:
        if p not in bench_peers.PEERS:
            ap.error(f"--peers: unknown peer '{p}'; valid choices: {', '.join(bench_peers.PEERS)}, all, none")

    import copy
    import platform
    import statistics
    import time

    import torch
    from omegaconf import OmegaConf

    from srnn_bench.kernels import _build
    from srnn_bench.kernels.memory import peak_bytes, saved_bytes
    from srnn_bench.models import build_model
    from srnn_bench.surrogates import build_surrogate
    from srnn_bench.training.losses import loss_and_correct

    torch.set_num_threads(args.threads)
    T, B, N_IN, H, C = args.steps, args.batch, 700, 128, 20
    # the SHD cell's own neuron and model settings (Table S1 time constants), composed like the CLI does
    from srnn_bench.resources import compose

    shd = compose(["experiment=shd_alif"])
    neuron = OmegaConf.to_container(shd.neuron, resolve=True)
    mcfg = OmegaConf.to_container(shd.model, resolve=True)
    mcfg["hidden"], mcfg["recurrent"] = [H, H], True
    sur = build_surrogate({"name": "multi_gaussian"})

    t0 = time.perf_counter()
    _build.load()
    build_s = time.perf_counter() - t0

    models = {}
    for backend in ("naive", "fused"):  # same seed, same weights; the backend is chosen when a layer is built
        torch.manual_seed(0)
        layer_backend = "reference" if backend == "naive" else backend
        models[backend] = build_model(mcfg, N_IN, C, {**neuron, "backend": layer_backend}, sur)
    # peers: same sizes; the authors'-style loop also copies the naive model's weights (same numbers)
    peer_models, peer_missing = {}, {}
    for p in wanted:
        reason = bench_peers.missing(p)
        if reason is None:
            torch.manual_seed(0)
            peer_models[p] = bench_peers.build_peer(p, models["naive"])
        else:
            peer_missing[p] = reason
    nets = {**models, **peer_models}
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in nets.items()}
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(T, B, N_IN, generator=g) < args.density).float()
    y = torch.randint(0, C, (B,), generator=g)

    def loss_of(out):
        return loss_and_correct("sum_softmax", out, y)[0]

    def train_step(name):
        m, opt = nets[name], opts[name]
        opt.zero_grad(set_to_none=True)
        torch.manual_seed(2)  # initial membranes
        loss = loss_of(m(x))
        loss.backward()
        opt.step()
        return loss

    def fwd_bwd(name):  # no optimiser step: weights stay equal for the memory runs
        m = nets[name]
        m.zero_grad(set_to_none=True)
        torch.manual_seed(2)
        loss_of(m(x)).backward()

    def infer(name):
        with torch.no_grad():
            torch.manual_seed(2)
            return nets[name](x).output

    # same numbers: one forward/backward of each on identical weights
    fwd_bwd("naive"), fwd_bwd("fused")
    grad_err = max(
        ((a.grad - b.grad).abs().max() / a.grad.abs().max().clamp_min(1e-30)).item()
        for a, b in zip(models["naive"].parameters(), models["fused"].parameters())
        if a.grad is not None
    )
    out_err = (infer("naive") - infer("fused")).abs().max().item()
    authors_err = (infer("naive") - infer("authors")).abs().max().item() if "authors" in nets else None
    rate = None
    with torch.no_grad():
        torch.manual_seed(2)
        rate = models["fused"](x).activity["layer0"].mean().item()

    # memory (deterministic; before the optimiser steps so the weights are equal)
    mem = {}
    for name in ("naive", "fused"):
        models[name].zero_grad(set_to_none=True)
        mem[name] = {
            "peak": peak_bytes(lambda n=name: fwd_bwd(n)),
            "saved": saved_bytes(models[name], x, loss_of),
        }
        models[name].zero_grad(set_to_none=True)
    for name, m in peer_models.items():
        m.zero_grad(set_to_none=True)
        mem[name] = {"peak": peak_bytes(lambda n=name: fwd_bwd(n))}
        m.zero_grad(set_to_none=True)

    # matmul ceiling in this process: the input projection's shape and a square product
    def mm_gflops(m, k, n, reps=5):
        a, b = torch.randn(m, k), torch.randn(k, n)
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t)
        return 2 * m * k * n / best / 1e9

    # timings, alternated
    times = {f"{k}_{w}": [] for k in nets for w in ("train", "infer")}
    ceil = []
    for name in nets:
        for _ in range(2):
            train_step(name)
            infer(name)
    for _ in range(args.repeats):
        ceil.append(max(mm_gflops(T * B, N_IN, H), mm_gflops(1024, 1024, 1024, 3)))
        for name in nets:
            t = time.perf_counter()
            train_step(name)
            times[f"{name}_train"].append(time.perf_counter() - t)
            t = time.perf_counter()
            infer(name)
            times[f"{name}_infer"].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    spread = {k: (min(v), max(v)) for k, v in times.items()}
    ceiling = statistics.median(ceil)

    # dense-equivalent FLOPs of one training step (the 10.7 GFLOP): forward products,
    # weight gradients of all of them, input gradients of all but the first projection
    fwd_macs = T * B * (N_IN * H + 3 * H * H + H * C)
    step_flops = 2 * fwd_macs * 2 + 2 * T * B * (3 * H * H + H * C)
    infer_flops = 2 * fwd_macs

    speedup = med["naive_train"] / med["fused_train"]
    mem_ratio = mem["fused"]["peak"] / mem["naive"]["peak"]
    saved_ratio = mem["fused"]["saved"] / mem["naive"]["saved"]

    def mb(b):
        return f"{b / 2**20:.1f} MiB"

    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    machine = (
        f"{cpu}, {os.cpu_count()} logical CPUs, {args.threads} torch threads; torch {torch.__version__}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)"
    )

    rows = [
        ("training step (fwd + bwd + Adam)", "naive_train", "fused_train", step_flops),
        ("inference (forward, no grad)", "naive_infer", "fused_infer", infer_flops),
    ]
    lines = [
        "# Benchmark: fused BPTT kernels vs the naive per-step loop",
        "",
        f"Workload: {N_IN} -> {H} rec ALIF -> {H} rec ALIF -> {C} integrator, T = {T}, batch {B}, "
        f"{args.density:.1%} binary input density (layer-0 firing rate {rate:.3f}), float32, Multi-Gaussian "
        "surrogate, SHD loss, Adam.",
        f"Machine: {machine}.",
        f"Command: `make bench` (= `python scripts/bench.py --threads {args.threads}`), {args.repeats} alternated "
        "runs per variant after 2 warm-ups; medians (min-max).",
        "",
        "| | naive loop (s) | fused (s) | speedup | fused GFLOP/s (dense-equiv.) | % of matmul ceiling |",
        "|---|---|---|---|---|---|",
    ]
    for label, kn, kf, flops in rows:
        gf = flops / med[kf] / 1e9
        lines.append(
            f"| {label} | {med[kn]:.3f} ({spread[kn][0]:.3f}-{spread[kn][1]:.3f}) | {med[kf]:.3f} "
            f"({spread[kf][0]:.3f}-{spread[kf][1]:.3f}) | {med[kn] / med[kf]:.2f}x | {gf:.1f} | {100 * gf / ceiling:.0f} % |"
        )
    lines += [
        "",
        f"Matmul ceiling measured in the same run: {ceiling:.1f} GFLOP/s (median over rounds of the best of a "
        f"[{T * B}x{N_IN}]x[{N_IN}x{H}] and a 1024^3 product). A training step is {step_flops / 1e9:.2f} GFLOP "
        "dense-equivalent; the fused backend skips the zeros of the sparse input and of the spikes, so its "
        "GFLOP/s are 'dense-equivalent' (work avoided counts as done).",
        "",
        "| memory of one forward + backward | naive loop | fused | ratio |",
        "|---|---|---|---|",
        f"| peak live bytes allocated (profiler) | {mb(mem['naive']['peak'])} | {mb(mem['fused']['peak'])} | "
        f"{mem_ratio:.3f} |",
        f"| bytes saved for the backward (unique storages) | {mb(mem['naive']['saved'])} | "
        f"{mb(mem['fused']['saved'])} | {saved_ratio:.3f} |",
        "",
        "Memory method: the CPU allocator keeps no statistics, so (1) the peak is the running sum of "
        "torch's allocation/free events recorded by `torch.profiler` (`profile_memory=True`) over one "
        "forward + backward, relative to the memory held before it (inputs and weights excluded); "
        "(2) the saved bytes are the storages packed by `torch.autograd.graph.saved_tensors_hooks` during "
        "the forward, each storage counted once (the input batch, saved by the first projection of the "
        "naive loop, is counted there).",
        "",
        f"Same numbers: on this batch the readout outputs differ by at most {out_err:.2e} (absolute) and every "
        f"parameter gradient by at most {grad_err:.2e} (relative to its largest entry) between the two backends.",
        f"C++ extension build/load time in this run: {build_s:.1f} s (0 when cached).",
        "",
        (
            f"Contention: the 1-minute load average ({load[0]:.2f}) exceeded this benchmark's own {args.threads} "
            "threads, so other jobs shared the cores: absolute times are noisy and inflated"
            if isinstance(load[0], float) and load[0] > args.threads + 0.5
            else f"Load: the 1-minute load average ({load[0]:.2f}) was about this benchmark's own {args.threads} threads "
            "(no other busy jobs seen)"
        )
        + "; the ratios come from runs alternated in one process and are the figures to compare across machines.",
    ]
    peer_rows, best_peer, speedup_peer = bench_peers.table_lines(med, spread, mem, list(peer_models), peer_missing)
    lines += [
        "",
        "## Peers and baselines (same workload, same loop, alternated)",
        "",
        *peer_rows,
        "",
        bench_peers.NOTES,
    ]
    if authors_err is not None:
        lines.append(
            f"The authors'-style loop's readout differs from the in-repo reference loop's by at most {authors_err:.2e}."
        )
    if args.long:
        lines += ["", *_long_sequences(models, N_IN, C, args.density, peak_bytes, saved_bytes, mb)]
    if args.mnist1d:
        lines += ["", *_mnist1d_epoch(time)]

    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from srnn_bench.utils.io import atomic_write_text

    atomic_write_text(out, text)
    if best_peer is not None:
        print(f"speedup_vs_best_peer={speedup_peer:.2f}")
    print(f"speedup_vs_naive={speedup:.2f} memory_ratio_vs_naive={mem_ratio:.3f}")
    return 0


NAIVE_FULL_PROFILE_MAX_T = 250


def _long_sequences(models, n_in, n_classes, density, peak_bytes, saved_bytes, mb, tbptt_k=100) -> list[str]:
    """Memory of one forward + backward at the long sequence lengths of S-MNIST (784) and ECG (1301),
    full BPTT and truncated BPTT (``trainer.tbptt_steps``, through the trainer's own training step)."""
    import torch

    from srnn_bench.training.trainer import Trainer, TrainerConfig

    B = 16
    out = [
        f"Long sequences (same model, batch {B}): memory of one forward + backward. The fused backend keeps "
        "the spikes and input currents (8 bytes per neuron-step in float32) and recomputes u and b from "
        "sqrt(T) checkpoints, so its memory grows linearly with a small slope; the naive loop keeps ~8 "
        "float tensors per neuron-step. The `+ TBPTT k` columns are one training step of the trainer with "
        f"`trainer.tbptt_steps={tbptt_k}` (chunks of {tbptt_k} steps, state detached between them, gradients "
        "accumulated, one update; the SHD loss needs the two-pass form: a forward without graph for "
        "dL/d(output_t), then chunk by chunk forward + backward), plain SGD so no optimiser state is allocated.",
        "",
        f"| T | naive peak | naive + TBPTT {tbptt_k} | fused peak | fused + TBPTT {tbptt_k} | ratio (fused/naive) | "
        f"fused + TBPTT / naive | naive saved | fused saved |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for T in (250, 784, 1301):
        g = torch.Generator().manual_seed(T)
        x = (torch.rand(T, B, n_in, generator=g) < density).float()
        y = torch.randint(0, n_classes, (B,), generator=g)

        def loss_of(o, y=y):
            return torch.nn.functional.cross_entropy(torch.softmax(o.output, -1).sum(0), y)

        res = {}
        for name, m in models.items():
            m.zero_grad(set_to_none=True)

            def fb(m=m, x=x):
                torch.manual_seed(2)
                loss_of(m(x)).backward()

            # the profiler's own memory grows faster than linearly with the events of one step: for the naive
            # loop's full BPTT it took 1.6 GiB RSS at T = 250, 10.7 GiB at T = 784, and was OOM-killed (24 GiB)
            # at T = 1301 on a 23 GiB machine shared with other jobs
            profile = name != "naive" or T <= NAIVE_FULL_PROFILE_MAX_T
            res[name] = (peak_bytes(fb) if profile else None, saved_bytes(m, x, loss_of))
            m.zero_grad(set_to_none=True)
            # truncated BPTT: the trainer's training step (lr 0: the weights stay those of the other rows)
            cfg = TrainerConfig(loss="sum_softmax", tbptt_steps=tbptt_k, progress=False)
            sgd = torch.optim.SGD(m.parameters(), lr=0.0)
            tr = Trainer(m, torch.nn.Identity(), None, sgd, None, cfg, ".", torch.device("cpu"), None)

            def step(tr=tr, x=x, y=y):
                torch.manual_seed(2)
                assert tr.train_batch(x, y)[0]

            res[f"{name}_tbptt"] = peak_bytes(step)
            m.zero_grad(set_to_none=True)
        naive = res["naive"][0]

        def ratio(a, naive=naive):
            return f"{a / naive:.3f}" if naive else "n/a"

        out.append(
            f"| {T} | {mb(naive) if naive else 'not measured (see below)'} | {mb(res['naive_tbptt'])} | "
            f"{mb(res['fused'][0])} | {mb(res['fused_tbptt'])} | {ratio(res['fused'][0])} | "
            f"{ratio(res['fused_tbptt'])} | {mb(res['naive'][1])} | {mb(res['fused'][1])} |"
        )
    out += [
        "",
        "Truncated BPTT (`trainer.tbptt_steps`, srnn_bench/training/tbptt.py): only one chunk's graph is alive, so "
        "its memory is that of a k-step sequence plus the [T, B, C] readout outputs; the gradient equals the full "
        "loss's with the paths through the state cut at chunk ends (tests/unit/test_tbptt.py).",
        f"The naive loop's full-BPTT peak is profiled only up to T = {NAIVE_FULL_PROFILE_MAX_T}: torch.profiler's "
        "memory recording of its one long step grows faster than linearly (1.6 GiB of RSS at T = 250, 10.7 GiB at "
        "T = 784, OOM-killed at T = 1301 on a 23 GiB shared machine); its saved bytes (no profiler) are given.",
    ]
    return out


def _mnist1d_epoch(time) -> list[str]:
    """Wall time of one epoch of the default experiment (MNIST-1D, ALIF SRNN), both backends, alternated."""
    import tempfile

    from srnn_bench.resources import compose
    from srnn_bench.run import run

    res = {"reference": [], "fused": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(2):
            for backend in ("reference", "fused"):
                cfg = compose(
                    [
                        f"neuron.backend={backend}", "trainer.epochs=1", "trainer.progress=false",
                        "trainer.device=cpu", f"paths.output_dir={tmp}/o", f"paths.run_dir={tmp}/r{rep}{backend}",
                        f"paths.data_dir={tmp}/data",
                    ]
                )  # fmt: skip
                t = time.perf_counter()
                run(cfg)
                res[backend].append(time.perf_counter() - t)
    ref, fus = min(res["reference"]), min(res["fused"])
    return [
        "Default experiment (MNIST-1D, `python -m srnn_bench trainer.epochs=1`, training + evaluation, "
        f"best of 2 alternated runs): reference {ref:.1f} s, fused {fus:.1f} s per epoch ({ref / fus:.2f}x).",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
