"""Analytic cost of a configured model — no data, no training.

    python -m srnn_bench.energy [group=choice key=value ...] --n-in 700 --n-classes 20 --steps 250 --rate 0.05
    python -m srnn_bench.energy neuron=lif --rate layer0=0.08 --rate layer1=0.03 --input-rate 0.02
    python -m srnn_bench.energy --run-dir outputs/runs/mnist1d_alif/<run>        # measured rates of a run
    python -m srnn_bench.energy --arch lstm --n-in 700 --hidden 128 128 --n-classes 20 --bidirectional --dense 100

The config is composed exactly like ``python -m srnn_bench`` does (same config tree, same overrides) or
read from a run directory's ``config.yaml``; the model is built (random weights, never run) and
described through ``Model.synapses()`` / ``Model.populations()``; the operations per step follow
:mod:`srnn_bench.metrics.cost` (the definitions the trainer uses for measured runs). ``--arch
NEURON`` (a neuron choice: alif, lif, relu, lstm, ...) skips the config and costs a network given by its layer sizes.

Input size, classes and steps come from ``--n-in`` / ``--n-classes`` / ``--steps``, else from the dataset
config (``n_inputs``, ``n_classes``, ``n_steps``), else (with ``--run-dir``) from the run's checkpoint
and metrics. Firing rates: ``--rate R`` (every population and, unless ``--input-rate``, the input) and/or
``--rate NAME=R`` per population, or the measured ``firing_rate_per_layer`` / ``input_rate`` of
``--run-dir``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import compose_checked
from ..metrics.cost import (
    E_AC_PJ,
    E_MAC_PJ,
    RNN_BASELINES,
    Architecture,
    architecture_of,
    count_ops,
    rnn_architecture,
    srnn_architecture,
)
from ..neurons import CELLS
from ..utils import layout


def _shape_from_checkpoint(run_dir: Path) -> tuple[int | None, int | None]:
    """(n_in, n_classes) from the first input and the readout weight of a run's checkpoint."""
    for name in (layout.BEST, layout.LAST, layout.INIT):
        path = layout.checkpoint(run_dir, name)
        if path.is_file():
            import torch

            sd = torch.load(path, map_location="cpu", weights_only=False)["model"]
            first = next((v for k, v in sd.items() if k.endswith("w_in.weight")), None)
            ro = sd.get("readout.w_in.weight")
            return (int(first.shape[1]) if first is not None else None, int(ro.shape[0]) if ro is not None else None)
    return None, None


def parse_rates(items: list[str]) -> tuple[float | None, dict[str, float]]:
    common, per = None, {}
    for item in items:
        try:
            if "=" in item:
                name, value = item.split("=", 1)
                per[name] = float(value)
            else:
                common = float(item)
        except ValueError:
            raise ValueError(f"--rate '{item}': expected a number R or NAME=R (e.g. layer0=0.05)") from None
    for name, r in ([("--rate", common)] if common is not None else []) + list(per.items()):
        if not 0.0 <= r <= 1.0:
            raise ValueError(f"firing rate {name}={r} is outside [0, 1] (events per neuron per step)")
    return common, per


def architecture_from_config(cfg, n_in: int, n_classes: int, binary_input: bool = False) -> tuple[Architecture, int]:
    """Build the configured model (random weights) and describe it; returns (architecture, parameters).

    ``binary_input``: the dataset's inputs are spikes (``DataSplits.binary_input``; also read from the
    dataset config key ``binary_input``); the encoder decides what reaches the network."""
    from ..encoders import build_encoder
    from ..models import build_model
    from ..surrogates import build_surrogate

    binary_input = bool(binary_input or cfg.dataset.get("binary_input", False))
    encoder = build_encoder(cfg.encoder, binary_input=binary_input)
    n_enc = encoder.out_features(n_in)
    model = build_model(cfg.model, n_enc, n_classes, cfg.neuron, build_surrogate(cfg.surrogate))
    arch = architecture_of(model, n_enc, bool(getattr(encoder, "binary", False)))
    arch.name = f"{cfg.model.name}/{cfg.neuron.name} ({cfg.get('experiment_name', '')})"
    return arch, sum(p.numel() for p in model.parameters())


def report(arch: Architecture, rates: dict[str, float], steps: int | None, e_mac: float, e_ac: float) -> dict:
    ops = count_ops(arch, rates)
    out = {
        "architecture": arch.name,
        "n_in": arch.n_in,
        "input_binary": arch.input_binary,
        "populations": {
            p.name: {"size": p.size, "binary": p.binary, "state_macs": p.state_macs} for p in arch.populations
        },
        "synapses": arch.n_synapses(),
        "rates": rates,
        "e_mac_pj": e_mac,
        "e_ac_pj": e_ac,
        **ops.as_dict(e_mac, e_ac),
    }
    if steps:
        out["steps"] = steps
        for k in ("sop", "ac", "mac", "energy"):
            key = f"{k}_per_step_pj" if k == "energy" else f"{k}_per_step"
            out[f"{k}_per_sample{'_pj' if k == 'energy' else ''}"] = out[key] * steps
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m srnn_bench.energy", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, as for python -m srnn_bench")
    ap.add_argument("--run-dir", type=Path, help="read config.yaml and measured rates from this run directory")
    ap.add_argument("--arch", choices=["config", *sorted(CELLS)], default="config",
                    help="cost a network of these neurons given by its layer sizes instead of the config")
    ap.add_argument("--hidden", type=int, nargs="+", help="layer sizes (with --arch)")
    ap.add_argument("--dense", type=int, nargs="*", default=[],
                    help="dense layers after the recurrent ones (model.head; with --arch)")
    ap.add_argument("--bidirectional", action="store_true")
    ap.add_argument("--binary-input", action="store_true",
                    help="the dataset's inputs are spikes: their events cost ACs (with the identity encoder)")
    ap.add_argument("--n-in", type=int)
    ap.add_argument("--n-classes", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--rate", action="append", default=[], help="R (all) or NAME=R; repeatable")
    ap.add_argument("--input-rate", type=float)
    ap.add_argument("--e-mac", type=float, default=E_MAC_PJ, help="pJ per MAC (default 3.1)")
    ap.add_argument("--e-ac", type=float, default=E_AC_PJ, help="pJ per AC (default 0.1)")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    args = ap.parse_args(argv)
    try:
        out = run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"srnn_bench.energy: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(format_report(out))
    return 0


def run(args) -> dict:
    common, per = parse_rates(args.rate)
    measured: dict = {}
    n_in, n_classes, steps = args.n_in, args.n_classes, args.steps
    params, ck_in = None, None
    if args.arch != "config":
        if n_in is None or n_classes is None or not args.hidden:
            raise ValueError("--arch needs --n-in, --n-classes and --hidden")
        if args.arch in RNN_BASELINES:
            arch = rnn_architecture(args.arch, n_in, args.hidden, n_classes, args.bidirectional, args.dense)
        else:
            arch = srnn_architecture(n_in, args.hidden, n_classes, args.arch, input_binary=args.binary_input,
                                     bidirectional=args.bidirectional, head=args.dense)
    else:
        if args.run_dir is not None:
            from omegaconf import OmegaConf

            cfg_path = args.run_dir / layout.CONFIG
            if not cfg_path.is_file():
                raise FileNotFoundError(f"{cfg_path} not found: --run-dir must be a run directory of srnn_bench")
            cfg = OmegaConf.merge(OmegaConf.load(cfg_path), OmegaConf.from_dotlist(args.overrides))
            # a finished run's metrics, else those of `python -m srnn_bench.evaluate` (an imported network)
            mpath = next((p for p in (args.run_dir / layout.METRICS, args.run_dir / layout.EVAL / layout.METRICS) if p.is_file()),
                         args.run_dir / layout.METRICS)
            if mpath.is_file():
                measured = json.loads(mpath.read_text())
            ck_in, ck_classes = _shape_from_checkpoint(args.run_dir)
            n_in = n_in or ck_in
            n_classes = n_classes or ck_classes
            steps = steps or measured.get("steps")
        else:
            cfg = compose_checked(args.overrides)
        ds = cfg.dataset
        n_in = n_in or ds.get("n_inputs")
        n_classes = n_classes or ds.get("n_classes")
        steps = steps or ds.get("n_steps")
        if n_in is None or n_classes is None:  # the dataset itself knows (e.g. the default, MNIST-1D)
            from ..data import DataError, build_data

            try:
                data = build_data(ds, str(cfg.paths.data_dir))
            except DataError as e:
                raise ValueError(f"dataset '{ds.name}' does not state its input size / classes and cannot be loaded "
                                 f"({str(e).splitlines()[0]}): pass --n-in and --n-classes") from None
            n_in, n_classes, steps = n_in or data.n_inputs, n_classes or data.n_classes, steps or data.n_steps
        arch, params = _config_arch(cfg, n_in, int(n_classes), ck_in, args.binary_input)
        if "input_binary" in measured:  # what the trainer's encoder actually fed the network
            arch.input_binary = bool(measured["input_binary"])
    names = ["input", *(p.name for p in arch.populations)]
    rates: dict[str, float] = {}
    if measured:
        rates.update(measured.get("firing_rate_per_layer") or {})
        if "input_rate" in measured:
            rates["input"] = measured["input_rate"]
    if common is not None:
        rates.update({n: common for n in names})
    unknown = sorted(set(per) - set(names))
    if unknown:
        raise ValueError(f"--rate for unknown population(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    rates.update(per)
    if args.input_rate is not None:
        rates["input"] = args.input_rate
    needed = {pr.source for pr in arch.projections if arch.binary(pr.source)}
    missing = sorted(needed - set(rates))
    if missing:
        raise ValueError(f"no firing rate for {', '.join(missing)}: give --rate R, --rate NAME=R or --run-dir")
    out = report(arch, {k: rates[k] for k in names if k in rates}, steps, args.e_mac, args.e_ac)
    if params is not None:
        out["n_params"] = params
    if measured:
        out["rates_from"] = str(mpath)
    return out


def _config_arch(cfg, n_in: int, n_classes: int, encoded_in: int | None, binary_input: bool):
    if encoded_in is not None:  # from a checkpoint: the model's own (already encoded) input width
        from omegaconf import OmegaConf

        binary = binary_input or bool(getattr(_encoder(cfg, binary_input), "binary", False))
        cfg = OmegaConf.merge(cfg, {"encoder": {"name": "identity"}})
        return architecture_from_config(cfg, encoded_in, n_classes, binary)
    return architecture_from_config(cfg, int(n_in), n_classes, binary_input)


def _encoder(cfg, binary_input: bool):
    from ..encoders import build_encoder

    return build_encoder(cfg.encoder, binary_input=binary_input)


def format_report(out: dict) -> str:
    lines = [f"{out['architecture']}: {out['n_in']} {'binary' if out['input_binary'] else 'analog'} inputs, "
             f"{out['synapses']:,} synapses" + (f", {out['n_params']:,} parameters" if "n_params" in out else "")]
    for name, p in out["populations"].items():
        r = out["rates"].get(name)
        lines.append(f"  {name:<10} {p['size']:>6} {'spiking' if p['binary'] else 'analog ':<7} "
                     f"state {p['state_macs']:g} MAC/neuron/step   rate {'-' if r is None else f'{r:.4f}'}")
    if "input" in out["rates"]:
        lines.append(f"  input rate {out['rates']['input']:.4f}")
    lines.append(f"per step:   AC {out['ac_per_step']:,.1f}   MAC {out['mac_per_step']:,.1f} "
                 f"(synaptic {out['mac_syn_per_step']:,.0f} + state {out['mac_state_per_step']:,.0f})   "
                 f"energy {out['energy_per_step_pj']:,.1f} pJ  [{out['e_mac_pj']} pJ/MAC, {out['e_ac_pj']} pJ/AC]")
    lines.append(f"dense:      AC {out['ac_per_step_dense']:,.0f}   energy {out['energy_per_step_pj_dense']:,.1f} pJ "
                 f"(every neuron an event every step)")
    lines.append(f"zero-skip:  MAC {out['mac_event_per_step']:,.1f}   energy {out['energy_per_step_pj_event']:,.1f} pJ "
                 f"(analog sources cost only their non-zero messages, Ponghiran eq. 10)")
    if "steps" in out:
        lines.append(f"per sample ({out['steps']} steps): SOP {out['sop_per_sample']:,.0f}   "
                     f"energy {out['energy_per_sample_pj']:,.0f} pJ")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
