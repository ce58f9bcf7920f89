"""Figures from run directories (PNG, matplotlib Agg backend; no display needed).

    python -m srnn_bench.reporting.plots RUN_DIR [RUN_DIR ...] [--out DIR]
    python -m srnn_bench.reporting.plots --surrogates-only --out DIR

Per run (written to ``RUN_DIR/plots/`` unless ``--out``):

``anytime_acc.png``   test accuracy of the readout argmax at every step (Yin Fig. 4e-i), from
                      ``metrics.json`` (``test_anytime_acc``; ``test_frame_acc_per_step`` for per-step labels)
``firing_rate.png``   firing rate per layer at the end, and per epoch (``metrics.jsonl``)
``tau_hist.png``      histograms of every learnable time constant (``tau_m``, ``tau_adp``, per layer)
                      before and after training (Yin Fig. 4c). "Before": ``checkpoints/init.pt`` written by
                      the trainer; for runs without it, the initial model is re-created from
                      ``config.yaml`` + seed exactly as ``srnn_bench.run`` builds it. "After": ``last.pt``
                      (``--final best`` for ``best.pt``)
``surrogates.png``    every surrogate derivative of ``configs/surrogate/`` (Yin Fig. 1e); needs no run
``stream.png``        per-step-label runs (ECG, SoLi frames): the trained network's class probabilities
                      ``softmax(u_o,t)`` at every step of one test sequence (``--sequence``), under a colour
                      band of the true labels (Yin Fig. 4d); needs ``last.pt`` and the run's data set

Missing inputs are reported and skipped, never fatal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..resources import CONFIG_DIR
from ..utils import layout


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from ..utils.io import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png"), suffix=".png")
    _plt().close(fig)
    return path


def plot_anytime(metrics: dict, path: Path, title: str = "") -> Path | None:
    curve = metrics.get("test_anytime_acc") or metrics.get("test_frame_acc_per_step")
    if not curve:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    steps = range(1, len(curve) + 1)
    ax.plot(steps, [float("nan") if c is None else 100 * c for c in curve], lw=1.8)
    if metrics.get("test_acc") is not None:
        acc = 100 * metrics["test_acc"]
        ax.axhline(acc, color="grey", ls="--", lw=1, label=f"test acc {acc:.1f}%")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("time step")
    ax.set_ylabel("accuracy at step t (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title or "any-time accuracy (Yin Fig. 4e-i)", fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_firing_rates(metrics: dict, history: list[dict], path: Path, title: str = "") -> Path | None:
    rates = metrics.get("firing_rate_per_layer")
    if not rates:
        return None
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    names = list(rates)
    a1.bar(names, [rates[n] for n in names], color="tab:blue")
    for i, n in enumerate(names):
        a1.text(i, rates[n], f"{rates[n]:.3f}", ha="center", va="bottom", fontsize=8)
    if metrics.get("firing_rate") is not None:
        a1.axhline(metrics["firing_rate"], color="k", ls="--", lw=1, label=f"hidden {metrics['firing_rate']:.3f}")
        a1.legend(fontsize=8)
    a1.set_ylabel("spikes / neuron / step")
    a1.set_title("firing rate per layer (test, final)", fontsize=10)
    epochs = [h for h in history if h.get("firing_rate_per_layer")]
    if epochs:
        for n in names:
            ys = [h["firing_rate_per_layer"].get(n) for h in epochs]
            a2.plot([h["epoch"] for h in epochs], ys, marker="o", ms=3, label=n)
        a2.set_xlabel("epoch")
        a2.legend(fontsize=8)
    a2.set_title("per epoch", fontsize=10)
    a2.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10, y=1.03)
    return _save(fig, path)


def time_constants(state_dict: dict) -> dict[str, torch.Tensor]:
    """Every parameter whose name ends in ``tau_m`` / ``tau_adp`` (e.g. ``layers.0.cell.tau_m``)."""
    return {
        k: v.detach().float().cpu().flatten() for k, v in state_dict.items() if k.rsplit(".", 1)[-1].startswith("tau")
    }


def recreate_initial_state(run_dir: Path) -> dict:
    """The untrained parameters of a run, rebuilt from ``config.yaml`` + seed as ``srnn_bench.run`` does
    (seed, then ``build_model``); input/class sizes are read from the run's final checkpoint."""
    from omegaconf import OmegaConf

    from ..models import build_model
    from ..surrogates import build_surrogate
    from ..training.trainer import seed_everything

    cfg = OmegaConf.load(run_dir / layout.CONFIG)
    final = _load(run_dir, (layout.LAST, layout.BEST))
    if final is None:
        raise FileNotFoundError(
            f"{run_dir / layout.CHECKPOINTS} has no {layout.LAST}/{layout.BEST} to read the layer sizes from"
        )
    n_in = int(next(v for k, v in final.items() if k.endswith("w_in.weight")).shape[1])
    n_classes = int(final["readout.w_in.weight"].shape[0])
    surrogate = build_surrogate(cfg.surrogate)
    seed_everything(int(cfg.trainer.seed))
    model = build_model(cfg.model, n_in, n_classes, cfg.neuron, surrogate)
    return model.state_dict()


def _load(run_dir: Path, names) -> dict | None:
    for name in names:
        path = layout.checkpoint(run_dir, name)
        if path.is_file():
            return torch.load(path, map_location="cpu", weights_only=False)["model"]
    return None


def plot_tau_hist(run_dir: Path, path: Path, final: str = "last") -> Path | None:
    after_sd = _load(run_dir, ({"last": layout.LAST, "best": layout.BEST}[final],))
    if after_sd is None:
        return None
    before_sd = _load(run_dir, (layout.INIT,))
    source = layout.INIT
    if before_sd is None:
        before_sd, source = recreate_initial_state(run_dir), "re-created from config + seed"
    before, after = time_constants(before_sd), time_constants(after_sd)
    keys = [k for k in after if k in before]
    if not keys:
        return None
    kinds = sorted({k.rsplit(".", 1)[-1] for k in keys})
    plt = _plt()
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.5 * len(kinds), 3.2), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, kind in zip(axes[0], kinds):
        for i, k in enumerate(k for k in keys if k.endswith("." + kind)):
            layer = k.rsplit(".", 2)[0].replace(".cell", "")
            lo = float(min(before[k].min(), after[k].min()))
            hi = float(max(before[k].max(), after[k].max()))
            bins = torch.linspace(lo, hi + 1e-6, 31).tolist()
            c = colors[i % len(colors)]
            ax.hist(before[k].numpy(), bins=bins, histtype="step", ls="--", color=c, lw=1.2, label=f"{layer} before")
            ax.hist(after[k].numpy(), bins=bins, alpha=0.45, color=c, label=f"{layer} after")
        ax.set_xlabel(f"{kind} (steps)")
        ax.set_ylabel("neurons")
        ax.set_title(f"{kind}: before (dashed) / after ({final}.pt)", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"time constants before and after training (Yin Fig. 4c); before = {source}", fontsize=9)
    return _save(fig, path)


def plot_surrogates(path: Path, x_range: float = 2.0) -> Path:
    """Every surrogate config of ``configs/surrogate/`` (with its gamma), Yin Fig. 1e."""
    import yaml

    from ..surrogates import build_surrogate

    plt = _plt()
    x = torch.linspace(-x_range, x_range, 801, dtype=torch.float64)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for cfg_path in sorted(CONFIG_DIR.glob("surrogate/*.yaml")):
        cfg = yaml.safe_load(cfg_path.read_text())
        s = build_surrogate(cfg)
        lw = 1.8 if cfg["name"] == "multi_gaussian" else 1.1
        ax.plot(x.numpy(), s.derivative(x).numpy(), lw=lw, label=cfg["name"])
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("x = u - θ")
    ax.set_ylabel("surrogate dS/dx")
    ax.set_title("surrogate gradients (Yin Fig. 1e; configs/surrogate)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def stream_probabilities(run_dir: Path, sequence: int = 0, final: str = "last", data_dir: str | None = None):
    """``(probabilities [T, C], labels [T], class names)`` of test sequence ``sequence`` under the trained
    network of ``run_dir`` (model rebuilt from ``config.yaml``, weights from ``checkpoints/<final>.pt``,
    data set from the config's ``paths.data_dir`` or ``data_dir``), or ``None`` for a run without per-step
    labels or without a checkpoint. The initial state draws from a fixed seed (u0 = U[0, b_j0))."""
    import importlib

    from omegaconf import OmegaConf

    from ..data import DATASETS, build_data
    from ..encoders import build_encoder
    from ..models import build_model
    from ..surrogates import build_surrogate

    sd = _load(run_dir, (f"{final}.pt",))
    if sd is None or not (run_dir / "config.yaml").is_file():
        return None
    cfg = OmegaConf.load(run_dir / "config.yaml")
    data = build_data(cfg.dataset, data_dir or cfg.paths.data_dir)
    if not data.per_step_labels:
        return None
    encoder = build_encoder(cfg.encoder, binary_input=data.binary_input)
    model = build_model(cfg.model, encoder.out_features(data.n_inputs), data.n_classes, cfg.neuron,
                        build_surrogate(cfg.surrogate))
    model.load_state_dict(sd)
    model.eval()
    x, y = data.test[sequence]
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(0)
        out = model(encoder(x[:, None].float()))
    probs = torch.softmax(out.output[:, 0].double(), -1)
    names = getattr(importlib.import_module(DATASETS[cfg.dataset.name]), "CLASSES", None)
    return probs, y, list(names) if names else [str(c) for c in range(data.n_classes)]


def plot_stream(run_dir: Path, path: Path, sequence: int = 0, final: str = "last", title: str = "") -> Path | None:
    """Yin Fig. 4d: per-step class probabilities of one test sequence, true labels as a colour band."""
    got = stream_probabilities(run_dir, sequence, final)
    if got is None:
        return None
    probs, y, names = got
    plt = _plt()
    from matplotlib.colors import ListedColormap

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"][: len(names)]
    fig, (band, ax) = plt.subplots(2, 1, figsize=(10, 3.6), sharex=True, gridspec_kw={"height_ratios": [1, 5]})
    labels = y.double().masked_fill(y < 0, float("nan"))[None].numpy()  # unlabelled steps: blank
    band.imshow(labels, aspect="auto", cmap=ListedColormap(colors), vmin=-0.5, vmax=len(names) - 0.5,
                interpolation="nearest", extent=(-0.5, len(y) - 0.5, 0, 1))
    band.set_yticks([])
    band.set_ylabel("true", rotation=0, ha="right", va="center", fontsize=8)
    for c, name in enumerate(names):
        ax.plot(probs[:, c].numpy(), color=colors[c], lw=1.0, label=name)
    correct = (probs.argmax(-1) == y) & (y >= 0)
    acc = float(correct.sum()) / max(int((y >= 0).sum()), 1)
    ax.set_xlabel("time step")
    ax.set_ylabel("p(class)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(-0.5, len(y) - 0.5)
    ax.legend(fontsize=7, ncol=len(names), loc="upper right")
    ax.grid(alpha=0.3)
    band.set_title(title or f"test sequence {sequence}: softmax of the readout per step (Yin Fig. 4d); "
                   f"{100 * acc:.1f}% of its labelled steps correct", fontsize=9)
    return _save(fig, path)


def plot_run(run_dir: Path, out: Path | None = None, final: str = "last", sequence: int = 0) -> dict[str, Path | None]:
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "plots"
    mpath = run_dir / layout.METRICS
    metrics = json.loads(mpath.read_text()) if mpath.is_file() else {}
    hpath = run_dir / layout.HISTORY
    history = [json.loads(line) for line in hpath.read_text().splitlines() if line.strip()] if hpath.is_file() else []
    if not metrics and history:
        metrics = history[-1]
    title = f"{metrics.get('experiment', run_dir.name)} ({run_dir.name})"
    return {
        "anytime_acc": plot_anytime(metrics, out / "anytime_acc.png", title),
        "firing_rate": plot_firing_rates(metrics, history, out / "firing_rate.png", title),
        "tau_hist": plot_tau_hist(run_dir, out / "tau_hist.png", final),
        "surrogates": plot_surrogates(out / "surrogates.png"),
        "stream": _optional(plot_stream, run_dir, out / "stream.png", sequence, final),
    }


def _optional(fn, *args):
    """A plot that needs the run's data set: a missing data set is reported and skipped, never fatal."""
    from ..data import DataError

    try:
        return fn(*args)
    except (DataError, FileNotFoundError) as e:
        print(f"{args[0]}: {fn.__name__} skipped: {str(e).splitlines()[0]}")
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m srnn_bench.reporting.plots", description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dirs", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, help="output folder (default RUN_DIR/plots)")
    ap.add_argument("--final", choices=["last", "best"], default="last", help="checkpoint for 'after training'")
    ap.add_argument("--surrogates-only", action="store_true")
    ap.add_argument("--sequence", type=int, default=0, help="test sequence of the per-step probability plot (stream.png)")
    args = ap.parse_args(argv)
    if args.surrogates_only:
        print(plot_surrogates((args.out or Path(".")) / "surrogates.png"))
        return 0
    if not args.run_dirs:
        ap.error("give at least one RUN_DIR (or --surrogates-only)")
    status = 0
    for run_dir in args.run_dirs:
        if not run_dir.is_dir():
            print(f"{run_dir}: not a directory, skipped")
            status = 2
            continue
        out = args.out / run_dir.name if (args.out and len(args.run_dirs) > 1) else args.out
        for name, path in plot_run(run_dir, out, args.final, args.sequence).items():
            print(f"{run_dir}: {name}: {path if path else 'skipped (inputs missing in the run directory)'}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
