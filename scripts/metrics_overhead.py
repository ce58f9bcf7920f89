"""Overhead of the evaluation-time metrics (activity counting, confusion matrix, any-time accuracy).

    python scripts/metrics_overhead.py [--device cpu|cuda] [--batch 256] [--steps 40] [--reps 20] [overrides ...]

Times, on the configured model (default experiment: 16 population-coded inputs, 2 x 128 ALIF, 10 classes):
  forward only                  the evaluation forward pass, no metric
  forward + metrics             the same plus everything Trainer.evaluate() counts per batch
  training step                 forward + BPTT + optimiser step (for scale: counting never runs in training)
and prints the overhead of the metrics relative to the forward pass. Timings on a shared machine are
noisy: it reports the median of ``--reps`` repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srnn_bench.cli import compose_checked
from srnn_bench.metrics import ActivityMeter, ConfusionMatrix
from srnn_bench.models import build_model
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training.losses import anytime_correct, sequence_logits


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_time(fn, reps: int, device) -> float:
    times = []
    for _ in range(reps):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("overrides", nargs="*")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--n-in", type=int, default=16)
    ap.add_argument("--n-classes", type=int, default=10)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = compose_checked(args.overrides)
    torch.manual_seed(0)
    model = build_model(cfg.model, args.n_in, args.n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).to(device)
    x = torch.rand(args.steps, args.batch, args.n_in, device=device)
    y = torch.randint(0, args.n_classes, (args.batch,), device=device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    @torch.no_grad()
    def forward():
        return model(x)

    stored = forward()

    @torch.no_grad()
    def metrics_only(out=None):
        out = stored if out is None else out
        meter, cm = ActivityMeter(), ConfusionMatrix(args.n_classes)
        meter.update(x, out)
        cm.update(sequence_logits("last", out).argmax(-1), y)
        anytime_correct(out, y).double().cpu()
        meter.summary(model, input_binary=False)
        return out

    @torch.no_grad()
    def forward_metrics():
        return metrics_only(model(x))

    def train_step():
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out.output[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.eval()
    for fn in (forward, forward_metrics):  # warm-up
        fn()
    # interleaved, so that load changes on a shared machine hit both alike; median of the pairs
    pairs = [(median_time(forward, 1, device), median_time(forward_metrics, 1, device)) for _ in range(args.reps)]
    t_f = statistics.median(p[0] for p in pairs)
    t_fm = statistics.median(p[1] for p in pairs)
    t_diff = statistics.median(p[1] - p[0] for p in pairs)
    t_m = median_time(metrics_only, args.reps, device)
    model.train()
    train_step()
    t_t = median_time(train_step, max(args.reps // 4, 3), device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} thread(s)"
    print(f"device {device} ({where}), "
          f"batch {args.batch}, {args.steps} steps, model {cfg.model.hidden} {cfg.neuron.name}")
    print(f"forward only        {1e3 * t_f:9.2f} ms")
    print(f"forward + metrics   {1e3 * t_fm:9.2f} ms   overhead (median of paired differences) "
          f"{1e3 * t_diff:+.2f} ms ({100 * t_diff / t_f:+.1f}%)")
    print(f"metrics only        {1e3 * t_m:9.2f} ms   (on a stored output: {100 * t_m / t_f:.1f}% of the forward pass)")
    print(f"training step       {1e3 * t_t:9.2f} ms   (no metric is counted during training)")


if __name__ == "__main__":
    main()
