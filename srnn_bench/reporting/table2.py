"""Yin et al. 2021 Table 2 / Table S2 beside ours -> ``results/table2.md``.

    python -m srnn_bench.reporting.table2 [--runs outputs] [--out results/table2.md]   (= make reproduce-table2)
    python -m srnn_bench.reporting.table2 --block ECG --runs DIR --out results/table_s2_ecg.md   (one task's S2 block)

Three parts, all recomputed on every call (nothing typed by hand):

1. Analytic rows: every row of the paper's Table 2 / S2 (values read once from
   ``results/paper_values/yin2021_table2.yaml``) beside the MAC count and energy our cost model
   (:mod:`srnn_bench.metrics.cost`) gives for that architecture, with the assumption each row needs;
   ✓ where our number equals the printed one within its printed precision, ✗ (and why) where not.
2. Table S2 ratios recomputed from the paper's own energies and accuracies
   (:func:`srnn_bench.metrics.table_s2_ratios`) beside the printed ratios.
3. Measured rows: every run directory under ``--runs`` with a ``metrics.json`` (test accuracy, firing
   rate, MAC/AC/energy per step as measured during evaluation); rows of the paper without a run are
   listed as missing. Runs are matched to paper rows by their resolved ``config.yaml``: a run is the row
   of the experiment file it is an instance of (:func:`srnn_bench.utils.runs.experiment_of`); any other
   run is listed under its own name with ``(custom)``, never under a paper row.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..metrics.cost import (
    E_AC_PJ,
    E_MAC_PJ,
    RNN_BASELINES,
    STATE_MACS,
    Architecture,
    cost_of,
    count_ops,
    rnn_architecture,
    srnn_architecture,
    table_s2_ratios,
)
from ..utils import layout
from ..utils.io import atomic_write_text, git_info
from ..utils.runs import experiment_of, iter_run_dirs

ROOT = Path(__file__).resolve().parents[2]
PAPER_VALUES = ROOT / "results" / "paper_values" / "yin2021_table2.yaml"
OUT = ROOT / "results" / "table2.md"


@dataclass(frozen=True)
class RowSpec:
    arch: Architecture
    assumption: str


def _s(*a, **k) -> Architecture:
    return srnn_architecture(*a, **k)


def _r(*a, **k) -> Architecture:
    return rnn_architecture(*a, **k)


# Our reading of each network of the paper (sizes: Table 2 "Network" column, Table S2 caption, Methods).
ROW_SPECS: dict[str, RowSpec] = {
    "ecg_alif": RowSpec(_s(4, [36], 6, "lif", readout="alif", input_binary=True),
                        "the published network (yin2021_checkpoints/ecg_0.8589.json): 4 spike inputs (AC), "
                        "36 recurrent neurons with beta 0 (LIF, 1 MAC), 6 ALIF outputs (3 MACs)"),
    "ecg_lif": RowSpec(_s(4, [36], 6, "lif", readout="lif", input_binary=True), "as ecg_alif with LIF neurons"),
    "ecg_relu": RowSpec(_s(4, [36], 6, "relu", readout="relu"),
                        "ReLU neurons (5 MACs) in hidden AND output layer; input synapses as MACs"),
    "ecg_lstm": RowSpec(_r("lstm", 4, [36], 6), "LSTM 36 on the 4 input channels, linear readout 6"),
    "ecg_gru": RowSpec(_r("gru", 4, [36], 6), "GRU 36, linear readout 6"),
    "ecg_rnn": RowSpec(_r("rnn", 4, [36], 6), "tanh RNN 36, linear readout 6"),
    "ecg_bilstm": RowSpec(_r("lstm", 4, [120, 40], 6, bidirectional=True, dense=[100, 20]),
                          "bi-LSTM 120 then bi-LSTM 40 (per direction), dense 100, 20, readout 6"),
    "smnist_alif": RowSpec(_s(4, [64, 256, 256], 10, "alif", recurrent=[True, True, False], readout="alif"),
                           "4-pixel analog window as input MACs; 3rd layer not recurrent; 10 ALIF outputs"),
    "smnist_relu": RowSpec(_s(4, [64, 256, 256], 10, "relu", recurrent=[True, True, False], readout="relu"),
                           "4-pixel window; layers 1-2 recurrent, layer 3 dense; 10 ReLU outputs"),
    "psmnist_alif": RowSpec(_s(4, [64, 256, 256], 10, "alif", recurrent=[True, True, False], readout="alif"),
                            "as smnist_alif"),
    "psmnist_relu": RowSpec(_s(4, [64, 256, 256], 10, "relu", recurrent=[True, True, False], readout="relu"),
                            "as smnist_relu"),
    "shd_alif": RowSpec(_s(700, [128, 128], 20, "alif", input_binary=True),
                        "700 spike inputs (AC), 2 recurrent ALIF layers, integrator readout 20"),
    "shd_relu": RowSpec(_s(700, [128, 128], 20, "relu"),
                        "every synapse a MAC (the spike input too), ReLU 5 MACs, integrator 1 MAC"),
    "shd_bilstm": RowSpec(_r("lstm", 700, [128, 128], 20, bidirectional=True, dense=[100]),
                          "2 bi-LSTM layers of 128 per direction on 700 channels, dense 100, readout 20"),
    "ssc_alif": RowSpec(_s(700, [400, 400], 35, "alif", input_binary=True), "as shd_alif, 400+400, 35 classes"),
    "ssc_relu": RowSpec(_s(700, [400, 400], 35, "relu"), "as shd_relu, 400+400, 35 classes"),
    "soli_alif": RowSpec(_s(1024, [512, 512], 11, "alif", recurrent=[False, True], input_free=True),
                         "layer 1 dense, layer 2 recurrent; the 1024x512 analog input MACs NOT counted (paper)"),
    "soli_relu": RowSpec(_s(1024, [512, 512], 11, "relu", recurrent=[False, True]),
                         "layer 1 dense, layer 2 recurrent, 1024 analog inputs (MACs), 11 classes"),
    "soli_lstm": RowSpec(_r("lstm", 1024, [512], 11, dense=[512]), "LSTM 512 then dense 512 (Table S2 caption)"),
    "soli_gru": RowSpec(_r("gru", 1024, [512], 11, dense=[512]), "GRU 512 then dense 512"),
    "soli_rnn": RowSpec(_r("rnn", 1024, [512], 11, dense=[512]), "tanh RNN 512 then dense 512"),
    "gsc_alif": RowSpec(_s(120, [300, 300], 12, "alif", input_binary=True),
                        "120 inputs (40 mel x 3) as spikes (the code thresholds them), 12 classes"),
    "gsc_relu": RowSpec(_s(120, [300, 300], 12, "relu", recurrent=[True, False]),
                        "120 analog inputs; only ONE of the two layers recurrent; 12 classes"),
    "timit_bialif": RowSpec(_s(39, [256], 61, "alif", bidirectional=True, input_free=True),
                            "bi-directional 256 ALIF per direction, integrator 61; 39 analog input MACs NOT counted"),
    "timit_relu": RowSpec(_s(39, [256], 61, "relu", bidirectional=True),
                          "bi-directional 256 ReLU per direction, 39 analog inputs, 61 classes"),
}

_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6}


def parse_printed(v) -> tuple[float, float] | None:
    """A value as printed in the paper ("142.6k", ".5k", "788", 90) -> (value, half of its last digit)."""
    if v is None:
        return None
    text = str(v).strip().rstrip("x")
    m = re.fullmatch(r"([0-9]*\.?[0-9]*)\s*([kKM]?)", text)
    if not m or not m.group(1):
        raise ValueError(f"cannot parse printed value '{v}' in {PAPER_VALUES.name}")
    digits, suffix = m.group(1), m.group(2)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    scale = _SUFFIX[suffix]
    return float(digits) * scale, 0.5 * 10.0 ** (-decimals) * scale


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:.{digits - 1}g}M" if digits < 5 else f"{x:,.0f}"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def analytic_rows(paper: dict) -> list[dict]:
    """Per paper row: our MAC and energy per step beside the printed ones (see module docstring)."""
    rows = []
    refs = {r["task"]: k for k, r in paper["rows"].items() if r.get("reference")}
    ours_energy: dict[str, float] = {}
    for key, row in paper["rows"].items():
        spec = ROW_SPECS.get(key)
        t2, s2 = row.get("t2") or {}, row.get("s2") or {}
        out = {"key": key, "task": row["task"], "method": row["method"], "network": row["network"],
               "acc": t2.get("acc", s2.get("acc")), "note": row.get("note", "")}
        mac_p, ac_p = parse_printed(t2.get("mac")), parse_printed(t2.get("ac_fr"))
        e_p = s2.get("energy")
        out.update(paper_mac=mac_p, paper_ac=ac_p, paper_energy=e_p, paper_ratio=s2.get("energy_ratio"))
        if spec is None:
            out.update(mac=None, energy=None, assumption="no architecture given in the paper")
            rows.append(out)
            continue
        ops = count_ops(spec.arch, rates=0.0)  # MACs do not depend on the rates; ACs come from the paper
        mac = ops.mac
        spiking = any(p.binary for p in spec.arch.populations if not p.output) or ac_p is not None
        energy = E_MAC_PJ * mac + (E_AC_PJ * ac_p[0] if (spiking and ac_p) else 0.0)
        out.update(mac=mac, energy=energy, assumption=spec.assumption, spiking=spiking)
        out["mac_ok"] = None if mac_p is None else abs(mac - mac_p[0]) <= mac_p[1]
        if e_p is not None:
            tol = 0.05 + (E_AC_PJ * ac_p[1] if (spiking and ac_p) else 0.0)
            out["energy_ok"] = abs(energy - e_p) <= tol
            if spiking:  # the AC count the printed energy implies, given our MAC count
                out["implied_ac"] = (e_p - E_MAC_PJ * mac) / E_AC_PJ
        ours_energy[key] = energy
        rows.append(out)
    for out in rows:
        ref = refs.get(out["task"])
        if ref in ours_energy and out.get("energy") is not None:
            out["ratio"] = out["energy"] / ours_energy[ref]
    return rows


def s2_ratio_rows(paper: dict) -> list[dict]:
    rows = []
    refs = {r["task"]: r for r in paper["rows"].values() if r.get("reference")}
    for key, row in paper["rows"].items():
        s2, ref = row.get("s2") or {}, refs.get(row["task"])
        if row.get("reference") or not ref or s2.get("energy") is None or s2.get("acc") is None:
            continue
        got = table_s2_ratios(s2["energy"], s2["acc"], ref["s2"]["energy"], ref["s2"]["acc"])
        rows.append({"key": key, "task": row["task"], "method": row["method"], **got,
                     "p_energy_ratio": s2.get("energy_ratio"), "p_error_ratio": s2.get("error_ratio"),
                     "p_efficiency": s2.get("efficiency")})
    return rows


def find_runs(roots: list[Path]) -> tuple[list[dict], list[str]]:
    """Finished runs under ``roots`` (missing roots are skipped), newest first per experiment, and one
    line per run that failed or never finished (listed in the table, never silently dropped)."""
    runs, skipped = [], []
    for root in roots:
        if not root.is_dir():
            continue
        for record in iter_run_dirs(root):
            if not record.ok or "test_acc" not in record.metrics:
                skipped.append(f"`{record.run_dir}`: {record.status}" + (f" — {record.error}" if record.error else ""))
                continue
            if record.config is None:
                skipped.append(f"`{record.run_dir}`: no readable config.yaml (cannot tell which experiment it is)")
                continue
            name = experiment_of(record.config) or f"{record.metrics.get('experiment')} (custom)"
            m = {**record.metrics, "experiment": name, "_dir": str(record.run_dir),
                 "_mtime": (record.run_dir / layout.METRICS).stat().st_mtime}
            runs.append(m)
    return sorted(runs, key=lambda m: (str(m.get("experiment")), -m["_mtime"])), skipped


MEAN_KEYS = ("test_acc", "test_acc_masked", "test_acc_class0", "firing_rate", "ac_per_step", "mac_per_step",
             "energy_per_step_pj", "sop_per_step", "wall_time_s")


def _mean(values: list) -> float | None:
    values = [v for v in values if isinstance(v, (int, float))]
    return sum(values) / len(values) if values else None


def _sd(values: list) -> float | None:
    values = [v for v in values if isinstance(v, (int, float))]
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _pct_sd(values: list) -> str:
    """Accuracies (fractions) as ``mean`` (one run) or ``mean ± sd`` in %."""
    m, sd = _mean(values), _sd(values)
    if m is None:
        return "–"
    return f"{100 * m:.2f}" + (f" ± {100 * sd:.2f}" if sd is not None else "")


def group_runs(runs: list[dict]) -> dict[str, dict]:
    """experiment -> the mean of :data:`MEAN_KEYS` over its finished runs, the per-run accuracies
    (``<key>_all``), the epochs run and where the runs are (one run: its directory; several: their count)."""
    by_exp: dict[str, list[dict]] = {}
    for m in runs:
        by_exp.setdefault(str(m.get("experiment")), []).append(m)
    out = {}
    for exp, ms in by_exp.items():
        g = {k: _mean([m.get(k) for m in ms]) for k in MEAN_KEYS}
        g.update({f"{k}_all": [m.get(k) for m in ms] for k in ("test_acc", "test_acc_masked", "test_acc_class0")})
        epochs = sorted({m.get("epochs") for m in ms if m.get("epochs") is not None})
        g["epochs"] = "/".join(map(str, epochs)) or "–"
        g["n"] = len(ms)
        g["where"] = f"`{ms[0]['_dir']}`" if len(ms) == 1 else f"{len(ms)} runs, e.g. `{ms[0]['_dir']}`"
        out[exp] = g
    return out


def _mark(ok) -> str:
    return "" if ok is None else ("✓" if ok else "✗")


def _state_macs_text() -> str:
    """The state-MAC counts of the cells the table's rows use (srnn_bench.metrics.cost.STATE_MACS)."""
    s = STATE_MACS
    gated = f"GRU/LSTM {s['gru']}" if s["gru"] == s["lstm"] else f"GRU {s['gru']}, LSTM {s['lstm']}"
    return (f"LIF {s['lif']}, ALIF {s['alif']}, ReLU-SRNN {s['relu']}, integrator {s['integrator']}, {gated} "
            f"(Ponghiran eq. 10), RNN {s['rnn']}, linear {s['linear']}")


def render(paper: dict, runs: list[dict], roots: list[Path], reference: str | None = None) -> str:
    rows = analytic_rows(paper)
    g = git_info()
    lines = [
        "# Yin et al. 2021, Table 2 / Table S2 — the paper beside our cost model",
        "",
        f"Generated by `make reproduce-table2` (`python -m srnn_bench.reporting.table2`) at commit "
        f"`{(g.get('commit') or 'unknown')[:10]}`{' (dirty tree)' if g.get('dirty') else ''}. "
        f"Paper values: `{PAPER_VALUES.relative_to(ROOT)}` ({paper['source']['paper']}; "
        f"{paper['source']['table2']}; {paper['source']['tableS2']}).",
        "",
        "## Formulas (srnn_bench/metrics/cost.py; README \"Metrics\")",
        "",
        "- per step: `AC = Σ_binary sources rate·N_src·fan_out`; "
        "`MAC = Σ_analog sources N_src·fan_out + Σ_pop N·state_MACs`",
        f"- state MACs per neuron per step: {_state_macs_text()}",
        "- RNN/GRU/LSTM layer (per direction): `G·n·(m+n)` synaptic MACs + `3n` "
        f"(G = {', '.join(str(cost_of(k).gates) for k in RNN_BASELINES)})",
        f"- `Energy/step = {E_MAC_PJ} pJ · MAC + {E_AC_PJ} pJ · AC`; for spiking rows the AC term uses the paper's "
        "printed AC·fr (it needs the trained network's firing rates)",
        "- ✓: equal to the printed value within its printed precision (e.g. `142.6k` = ±50); "
        "✗: not reproduced (see the assumption column and the README)",
        "",
        "## Analytic rows",
        "",
        "| task | method | network | acc % | MAC/step paper | MAC/step ours | | E/step paper (S2) | E/step ours | | "
        "AC implied by S2 | ratio paper (S2) | ratio ours | our reading of the network |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['method']} | {r['network']} | {fmt(r['acc'])} | "
            f"{fmt(r['paper_mac'][0]) if r['paper_mac'] else '–'} | {fmt(r['mac'], 7)} | {_mark(r.get('mac_ok'))} | "
            f"{fmt(r['paper_energy'], 8)} | {fmt(r.get('energy'), 8)} | {_mark(r.get('energy_ok'))} | "
            f"{fmt(r.get('implied_ac'), 5)} | {fmt(r['paper_ratio'])} | {fmt(r.get('ratio'))} | "
            f"{r.get('assumption', '')}{'; ' + r['note'] if r['note'] else ''} |"
        )
    lines += [
        "",
        "## Table S2 ratios recomputed from the paper's own energies and accuracies",
        "",
        "energy ratio = E/E_ref, error ratio = (100−acc)/(100−acc_ref), efficiency = their product; "
        "reference = the task's Adaptive SRNN row.",
        "",
        "| task | method | energy ratio (printed) | error ratio (printed) | efficiency (printed) |",
        "|---|---|---|---|---|",
    ]
    for r in s2_ratio_rows(paper):
        lines.append(
            f"| {r['task']} | {r['method']} | {r['energy_ratio']:.1f} ({fmt(r['p_energy_ratio'])}) | "
            f"{r['error_ratio']:.2f} ({fmt(r['p_error_ratio'])}) | {r['efficiency']:.1f} ({fmt(r['p_efficiency'])}) |"
        )
    lines += ["", "## Measured rows (run directories)", ""]
    roots_txt = ", ".join(f"`{p}`" for p in roots)
    seen = group_runs(runs)
    refs = {r["task"]: r for r in paper["rows"].values() if r.get("reference")}
    if reference and reference not in seen:
        lines += [f"Reference run `{reference}` not found: ratios against the paper's reference rows instead.", ""]
        reference = None
    if runs:
        ref_txt = (f"the run(s) `{reference}`" if reference else
                   "the paper's Adaptive SRNN row (Table S2) of the same task")
        lines += [
            f"From {roots_txt}: every finished run, grouped by experiment (mean, ± sample std over its runs). "
            f"Table S2 ratios against {ref_txt} (energy ratio E/E_ref, error ratio, efficiency = product).",
            "",
            "| experiment | epochs | test acc % | firing rate (hidden) | AC/step | MAC/step | E/step pJ | reference | "
            "energy ratio | error ratio | efficiency | run |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
    for exp, g in seen.items():
        e, acc = g["energy_per_step_pj"], g["test_acc"]
        if reference:
            ref_name, ref_e, ref_acc = reference, seen[reference]["energy_per_step_pj"], seen[reference]["test_acc"]
        else:
            prow = paper["rows"].get(exp)
            ref = refs.get(prow["task"]) if prow else None
            ref_name = f"paper {ref['task']} ALIF" if ref else "–"
            ref_e, ref_acc = (ref["s2"]["energy"], ref["s2"]["acc"] / 100) if ref else (None, None)
        ratios = (table_s2_ratios(e, acc, ref_e, ref_acc) if None not in (e, acc, ref_e, ref_acc) else {})
        lines.append(
            f"| {exp} | {g['epochs']} | {_pct_sd(g['test_acc_all'])} | {fmt(g['firing_rate'])} | {fmt(g['ac_per_step'], 6)} | "
            f"{fmt(g['mac_per_step'], 7)} | {fmt(e, 7)} | {ref_name} | {fmt(ratios.get('energy_ratio'))} | "
            f"{fmt(ratios.get('error_ratio'))} | {fmt(ratios.get('efficiency'))} | {g['where']} |"
        )
    missing = [k for k in paper["rows"] if k not in seen]
    lines += ["", f"No run directory (under {roots_txt}) for: " + (", ".join(missing) if missing else "none") + "."]
    return "\n".join(lines) + "\n"


def render_block(paper: dict, runs: list[dict], roots: list[Path], task: str) -> str:
    """One task's block of Table S2 (e.g. ``ECG``) from run directories beside the paper: accuracy under both
    per-step counting rules, energy per step from each run's measured firing rates, and the energy ratio,
    error ratio and efficiency against OUR adaptive SRNN of the same task (the paper's reference row's
    experiment, e.g. ``ecg_alif``). Error ratios use the authors' counting (``test_acc_class0``) where a run
    has it, as the paper's accuracies do; else ``test_acc``."""
    rows = {k: r for k, r in paper["rows"].items() if r["task"] == task}
    if not rows:
        raise ValueError(f"no Table 2 / S2 rows for task '{task}'; valid: {', '.join(sorted({r['task'] for r in paper['rows'].values()}))}")
    ref_key = next(k for k, r in rows.items() if r.get("reference"))
    seen = group_runs(runs)
    g = git_info()

    def acc_for_ratio(grp):
        return grp["test_acc_class0"] if grp.get("test_acc_class0") is not None else grp["test_acc"]

    ref = seen.get(ref_key)
    lines = [
        f"# Yin et al. 2021, Table S2, {task} block — the paper beside our trained networks",
        "",
        f"Generated by `python -m srnn_bench.reporting.table2 --block {task}` at commit "
        f"`{(g.get('commit') or 'unknown')[:10]}`{' (dirty tree)' if g.get('dirty') else ''} from the run directories "
        f"under {', '.join(f'`{p}`' for p in roots)}. Paper values: `{PAPER_VALUES.relative_to(ROOT)}` "
        f"({paper['source']['tableS2']}).",
        "",
        f"Accuracy: mean ± sample std over seeds (final epoch), per step from step `trainer.skip_steps` on; "
        "*masked* = labelled steps only, *authors' counting* = unlabelled steps count as class 0 (the paper's rule). "
        f"E/step = {E_MAC_PJ} pJ · MAC + {E_AC_PJ} pJ · AC per step, from each run's measured firing rates "
        "(srnn_bench/metrics/cost.py), mean over seeds. Ratios against our "
        f"`{ref_key}` (energy E/E_ref; error (1−acc)/(1−acc_ref) with the authors' counting; efficiency = product).",
        "",
        "| method | network | paper acc % | ours acc % masked | ours acc % authors' counting | seeds | epochs | "
        "paper E/step pJ | ours E/step pJ | energy ratio paper / ours | error ratio paper / ours | "
        "efficiency paper / ours | training wall time / run (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for key, row in rows.items():
        s2 = row.get("s2") or {}
        grp = seen.get(key)
        if grp is None:
            missing.append(key)
            lines.append(f"| {row['method']} | {row['network']} | {fmt(s2.get('acc'))} | no run | | 0 | | "
                         f"{fmt(s2.get('energy'), 8)} | | {fmt(s2.get('energy_ratio'))} / | {fmt(s2.get('error_ratio'))} / | "
                         f"{fmt(s2.get('efficiency'))} / | |")
            continue
        r = {}
        if ref is not None and None not in (grp["energy_per_step_pj"], ref["energy_per_step_pj"]):
            r = table_s2_ratios(grp["energy_per_step_pj"], acc_for_ratio(grp), ref["energy_per_step_pj"], acc_for_ratio(ref))
        lines.append(
            f"| {row['method']} | {row['network']} | {fmt(s2.get('acc'))} | {_pct_sd(grp['test_acc_masked_all'])} | "
            f"{_pct_sd(grp['test_acc_class0_all'])} | {grp['n']} | {grp['epochs']} | {fmt(s2.get('energy'), 8)} | "
            f"{fmt(grp['energy_per_step_pj'], 6)} | {fmt(s2.get('energy_ratio'))} / {fmt(r.get('energy_ratio'), 3)} | "
            f"{fmt(s2.get('error_ratio'))} / {fmt(r.get('error_ratio'), 3)} | "
            f"{fmt(s2.get('efficiency'))} / {fmt(r.get('efficiency'), 3)} | {fmt(grp['wall_time_s'], 4)} |"
        )
    lines += ["", "Wall time: `wall_time_s` of each run's metrics.json (training and per-epoch evaluation, one thread, "
              "on whatever machine ran it; see its env.json), mean over seeds.",
              "", "No run directory for: " + (", ".join(missing) if missing else "none") + "."]
    return "\n".join(lines) + "\n"


def build(
    runs_roots: list[Path], out: Path = OUT, paper_path: Path = PAPER_VALUES, reference: str | None = None,
    block: str | None = None,
) -> Path:
    if not paper_path.is_file():
        raise FileNotFoundError(f"paper values file {paper_path} is missing (results/paper_values/)")
    paper = yaml.safe_load(paper_path.read_text())
    runs, skipped = find_runs(runs_roots)
    text = render_block(paper, runs, runs_roots, block) if block else render(paper, runs, runs_roots, reference)
    if skipped:
        text += "\nRuns skipped (failed or unfinished):\n" + "".join(f"- {line}\n" for line in skipped)
    return atomic_write_text(out, text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m srnn_bench.reporting.table2", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="*", type=Path, default=[ROOT / "outputs"], help="run-directory roots")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--reference", help="experiment name of the run the Table S2 ratios are taken against "
                    "(default: the paper's Adaptive SRNN row of each run's task)")
    ap.add_argument("--block", help="only this task's Table S2 block (e.g. ECG), ratios against our own adaptive SRNN run")
    args = ap.parse_args(argv)
    path = build(args.runs, args.out, reference=args.reference, block=args.block)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
