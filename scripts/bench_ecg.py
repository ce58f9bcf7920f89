"""Time one training step of the ECG cell (``experiment=ecg_alif``: 4 -> 36 recurrent LIF -> 6 spiking ALIF,
T = 1301, batch 64, per-step NLL from step 10, Adam) three ways, alternated in one process, medians:

    fused      our default (neuron.backend=fused: one C++ op per layer, hand-written BPTT)
    reference  our per-step autograd loop (neuron.backend=reference)
    authors    a per-step loop written like the authors' ECG script (scripts/bench_peers.py, AuthorsStyleSRNN
               with spiking outputs; same weights, same numbers: tests/e2e/test_bench_script.py)
    lstm_fused / lstm_reference   the ecg_lstm baseline (4 -> LSTM 36 -> linear 6) through torch's nn.LSTM
               kernel vs the per-step cell loop (neuron.backend=fused / reference; same numbers:
               tests/unit/test_conventional_fast.py)

    python scripts/bench_ecg.py [--threads 1] [--repeats 3] [--out results/bench_ecg.md]

Input: the first 64 training sequences of the authors' QTDB_train.mat when $SRNN_BENCH_DATA (or ../shared/data)
has it, else random spikes of the same shape and density. Timings are not tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import bench_peers  # noqa: E402

from srnn_bench.training.losses import loss_and_correct  # noqa: E402
from srnn_bench.utils.io import atomic_write_text  # noqa: E402


def _batch(b: int):
    from srnn_bench.data.datasets.ecg import read_yin_mat

    data = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data") / "yin2021" / "data" / "QTDB_train.mat"
    if data.is_file():
        x, y = read_yin_mat(data)
        x, y = torch.from_numpy(x[:b]).transpose(0, 1), torch.from_numpy(y[:b]).T.contiguous()
        return x.contiguous(), y.masked_fill(y < 0, 0), f"`{data}` (first {b} sequences)"
    g = torch.Generator().manual_seed(0)
    return (torch.rand(1301, b, 4, generator=g) < 0.08).float(), torch.randint(0, 6, (1301, b), generator=g), "random spikes"


def _model(backend: str, experiment: str = "ecg_alif"):
    from omegaconf import OmegaConf

    from srnn_bench.models import build_model
    from srnn_bench.resources import compose
    from srnn_bench.surrogates import build_surrogate

    cfg = compose([f"experiment={experiment}", f"neuron.backend={backend}"])
    torch.manual_seed(0)
    neuron = OmegaConf.to_container(cfg.neuron, resolve=True)
    return build_model(OmegaConf.to_container(cfg.model, resolve=True), 4, 6, neuron, build_surrogate(cfg.surrogate))


def _step(model, opt, x, y) -> float:
    t0 = time.perf_counter()
    loss = loss_and_correct("per_step", model(x), y, 10)[0]
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_ecg.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    x, y, source = _batch(args.batch)
    models = {"fused": _model("fused"), "reference": _model("reference")}
    models["authors"] = bench_peers.build_peer("authors", models["reference"])
    models["lstm_fused"], models["lstm_reference"] = _model("fused", "ecg_lstm"), _model("reference", "ecg_lstm")
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-2) for k, m in models.items()}
    for k in models:  # warm-up (the C++ kernels compile on first use)
        _step(models[k], opts[k], x, y)
    times = {k: [] for k in models}
    for _ in range(args.repeats):
        for k in models:
            times[k].append(_step(models[k], opts[k], x, y))
    med = {k: statistics.median(v) for k, v in times.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    steps = -(-618 // args.batch)
    lines = [
        "# ECG cell (ecg_alif), one training step: ours vs an authors'-style per-step loop; the LSTM baseline",
        "",
        f"`python scripts/bench_ecg.py --threads {args.threads} --repeats {args.repeats}`: T = 1301, batch {args.batch}, "
        f"per-step NLL from step 10, Adam; input {source}; {args.threads} thread(s); median of {args.repeats} "
        f"alternated steps after one warm-up each; load average {load:.1f} when it ended (other jobs shared the cores).",
        "",
        "| variant | s / training step (median, min-max) | ≈ s / epoch (618 sequences, forward+backward only) | "
        "ratio |",
        "|---|---|---|---|",
    ]
    for k in models:
        ref = "lstm_fused" if k.startswith("lstm") else "fused"
        lines.append(f"| {k} | {med[k]:.3f} ({min(times[k]):.3f}-{max(times[k]):.3f}) | {steps * med[k]:.1f} | "
                     f"{med[k] / med[ref]:.1f}x (vs {ref}) |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, text)
    print(text)
    print(f"speedup_vs_authors={med['authors'] / med['fused']:.2f} speedup_vs_reference={med['reference'] / med['fused']:.2f} "
          f"lstm_speedup={med['lstm_reference'] / med['lstm_fused']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
