"""Paper-table reproduction: run every cell whose data is present, then build the table from run directories.

    python -m srnn_bench.reporting.paper_tables table1|src_table2|ponghiran_table1 [--seeds 0 1 2] [--smoke] [--build-only]

A *table spec* (``TABLES``) names the paper values file under ``results/paper_values/`` and, per cell,
the experiment config that reproduces it. Runs go to ``<runs_root>/<table>/<cell>/seed<k>/`` (real) or
``<runs_root>/smoke/<table>/...`` (smoke); the markdown table is written atomically to
``results/<table>.md`` (``results/smoke/<table>.md`` for smoke runs, labelled as such in its first line).
Cells without runs, with failed runs or with absent data are listed, never silently dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..utils import layout
from ..utils.io import atomic_write_text, git_info
from ..utils.runs import iter_run_dirs

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"


@dataclass(frozen=True)
class Cell:
    name: str  # key in the paper values file
    experiment: str  # configs/experiment/<experiment>.yaml
    dataset: str  # dataset config name (for presence checks)
    paper_key: str = "accuracy"
    overrides: tuple[str, ...] = ()  # Hydra overrides on top of the experiment (e.g. the layer count)


@dataclass(frozen=True)
class Column:
    """An extra column: the paper's ``paper_key`` of each cell and/or ``ours`` computed from a run's
    metrics.json (mean over the finished runs; ``None`` = not measured)."""

    header: str
    paper_key: str | None = None
    ours: Callable[[dict], float | None] | None = None
    fmt: str = "{:.2f}"
    spread: bool = False  # ours as "mean ± sd (n=k)" over the runs (accuracies, in %), as the main column

@dataclass(frozen=True)
class TableSpec:
    title: str
    paper_values: str
    cells: tuple[Cell, ...]
    columns: tuple[Column, ...] = ()


def _acc_class0(m: dict) -> float | None:
    """Per-step accuracy with unlabelled steps counted as class 0 (Yin's ECG counting), when the run has it."""
    return m.get("test_acc_class0")


def _acc_masked(m: dict) -> float | None:
    """Per-step accuracy over labelled steps only, when the run has it."""
    return m.get("test_acc_masked")


def _sop_per_step(m: dict) -> float | None:
    return m.get("sop_per_step")


def _zero_output_pct(m: dict) -> float | None:
    """Ponghiran Table 1 columns 6-7: % of zero outputs of the hidden layers = 100 (1 - firing_rate), the
    firing rate being the fraction of non-zero messages (srnn_bench/metrics/activity.py)."""
    rate = m.get("firing_rate")
    return None if not isinstance(rate, (int, float)) else 100.0 * (1.0 - rate)


# De Geeter Table 2: "Layers" counts the final population layer (Fig. 4: 1 layer = "no hidden layer");
# the experiment files hold the 3-layer network, the cells set the hidden layers of 512.
_SRC_HIDDEN = {1: "[]", 2: "[512]", 3: "[512,512]", 5: "[512,512,512,512]"}
_SRC_TASKS = {"mnist_rate": "mnist", "mnist_latency": "mnist", "fmnist_rate": "fmnist", "fmnist_latency": "fmnist",
              "nmnist": "nmnist"}
_PONGHIRAN_ARCHS = ("lstm", "gru", "plif_traditional", "plif_v1", "plif_v2")


TABLES: dict[str, TableSpec] = {
    "table1": TableSpec(
        "Yin et al. 2021, Table 1 (SRNN rows)",
        "yin2021_table1.yaml",
        (
            Cell("ecg_alif", "ecg_alif", "ecg_yin2021"),
            Cell("shd_alif", "shd_alif", "shd"),
            Cell("ssc_alif", "ssc_alif", "ssc"),
            Cell("gsc_alif", "gsc_alif", "gsc"),
            Cell("smnist_alif", "smnist_alif", "smnist"),
            Cell("psmnist_alif", "psmnist_alif", "psmnist"),
            Cell("soli_alif", "soli_alif", "soli"),
            Cell("timit_bialif", "timit_bialif", "timit"),
        ),
        columns=(
            # the main column is test_acc (the rule of the run's dataset.unlabelled); per-step-label runs also show
            # both counting rules (srnn_bench/metrics/accuracy.py): the paper's 85.9% counts unlabelled steps as class 0
            Column("acc. (%), unlabelled steps = class 0 (authors' counting)", ours=_acc_class0, spread=True),
            Column("acc. (%), labelled steps only", ours=_acc_masked, spread=True),
            Column("SOP / step", ours=_sop_per_step, fmt="{:.4g}"),
        ),
    ),
    "src_table2": TableSpec(
        "De Geeter et al., Table 2 (SRC vs LIF, 1/2/3/5 layers)",
        "degeeter2023_table2.yaml",
        tuple(
            Cell(f"{neuron}_{task}_l{layers}", f"{neuron}_{task}", dataset, overrides=(f"model.hidden={hidden}",))
            for task, dataset in _SRC_TASKS.items()
            for layers, hidden in _SRC_HIDDEN.items()
            for neuron in ("src", "lif")
        ),
    ),
    "ponghiran_table1": TableSpec(
        "Ponghiran & Roy 2022, Table 1",
        "ponghiran2022_table1.yaml",
        tuple(Cell(f"{ds}_{arch}", f"{ds}_{arch}", ds) for ds in ("timit", "librispeech") for arch in _PONGHIRAN_ARCHS),
        columns=(
            Column("zero outputs (%)", "zeros", _zero_output_pct),
            Column("ops / inf. (norm. to LSTM)", "ops"),
        ),
    ),
}


def paper_values(spec: TableSpec) -> dict:
    return yaml.safe_load((RESULTS / "paper_values" / spec.paper_values).read_text())


def run_cell(cell: Cell, seed: int, run_dir: Path, data_dir: str | None, extra: list[str]) -> int:
    """Train one cell for one seed in its own process (a crash never stops the others)."""
    cmd = [sys.executable, "-m", "srnn_bench", f"experiment={cell.experiment}", f"trainer.seed={seed}", f"hydra.run.dir={run_dir}"]
    if data_dir:
        cmd.append(f"paths.data_dir={data_dir}")
    cmd += [*cell.overrides, *extra]
    print(f"[{cell.name} seed {seed}] {' '.join(cmd[3:])}", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}).returncode


def smoke_cell(cell: Cell, seed: int, run_dir: Path, data_dir: str, extra: list[str]) -> bool:
    """Smoke run of one cell in this process (no interpreter start-up per cell); a failure is recorded in
    ``run_dir/error.txt`` like a failed CLI run, and the other cells go on."""
    import traceback

    from ..resources import compose
    from ..run import run

    overrides = [f"experiment={cell.experiment}", f"trainer.seed={seed}", f"paths.run_dir={run_dir}", f"paths.data_dir={data_dir}", *cell.overrides, *extra]
    print(f"[{cell.name} smoke] {' '.join(overrides[1:])}", flush=True)
    try:
        cfg = compose(overrides)
        run(cfg)
        return True
    except Exception as e:  # noqa: BLE001 — recorded, reported in the table, never silently dropped
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / layout.ERROR, f"{type(e).__name__}: {e}".splitlines()[0] + "\n\n" + traceback.format_exc())
        print(f"[{cell.name} smoke] FAILED: {type(e).__name__}: {e}", flush=True)
        return False


def collect_cell(cell_dir: Path) -> tuple[list[dict], list[str]]:
    """(metrics of finished runs, one line per failed or unfinished run) under ``<runs>/<table>/<cell>/``."""
    done, problems = [], []
    if not cell_dir.is_dir():
        return done, problems
    for record in iter_run_dirs(cell_dir):
        if record.ok:
            done.append({**record.metrics, "run_dir": str(record.run_dir)})
        else:
            problems.append(f"{record.run_dir.name}: {record.status} — {record.error}")
    return done, problems


def _pct(values: list[float]) -> str:
    if not values:
        return "—"
    mean = 100 * statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.2f} (n=1)"
    return f"{mean:.2f} ± {100 * statistics.stdev(values):.2f} (n={len(values)})"


def build_table(name: str, runs_root: Path, out: Path, smoke: bool, absent: dict[str, str] | None = None) -> str:
    spec = TABLES[name]
    paper = paper_values(spec)
    lines = []
    if smoke:
        lines.append("> **SMOKE TABLE — NOT RESULTS.** Built from 1-epoch runs on generated fixtures; the 'ours' column only proves the pipeline runs.\n")
    lines += [
        f"# {spec.title}: paper vs. srnn_bench",
        "",
        f"Paper values: {paper['source']} (stored in `results/paper_values/{spec.paper_values}`).",
        f"Built from run directories under `{runs_root.relative_to(ROOT) if runs_root.is_relative_to(ROOT) else runs_root}` at commit `{git_info()['commit']}`.",
        "",
    ]
    extra_heads = []
    for col in spec.columns:
        extra_heads += ([f"paper {col.header}"] if col.paper_key else []) + ([f"ours {col.header}"] if col.ours else [])
    heads = ["cell", "task", "network", "paper acc. (%)", "ours acc. (%) mean ± std", *extra_heads, "firing rate", "SOP / sample", "runs"]
    lines += ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    notes = []
    for cell in spec.cells:
        p = paper["cells"][cell.name]
        done, problems = collect_cell(runs_root / cell.name)
        rate = _plain([m.get("firing_rate") for m in done], "{:.4f}")
        sop = _plain([m.get("sop_per_sample") for m in done], "{:.3g}")
        dirs = ", ".join(f"`{Path(m['run_dir']).name}`" for m in done) or "—"
        extras = []
        for col in spec.columns:
            if col.paper_key:
                extras.append("—" if p.get(col.paper_key) is None else str(p[col.paper_key]))
            if col.ours:
                values = [col.ours(m) for m in done]
                extras.append(_pct([v for v in values if v is not None]) if col.spread else _plain(values, col.fmt))
        ours = _pct([m["test_acc"] for m in done])
        if not done and absent and cell.name in absent:
            ours = "data absent"
        row = [cell.name, p["task"], p["network"], p[cell.paper_key], ours, *extras, rate, sop, dirs]
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
        if absent and cell.name in absent and not done:
            notes.append(f"- {cell.name}: data absent — {absent[cell.name]}")
        elif not done and not problems:
            notes.append(f"- {cell.name}: no runs yet")
        notes += [f"- {cell.name}: {msg}" for msg in problems]
    if notes:
        lines += ["", "Missing or failed:", *notes]
    text = "\n".join(lines) + "\n"
    atomic_write_text(out, text)
    return text


def _plain(values, fmt: str) -> str:
    values = [v for v in values if isinstance(v, (int, float))]
    return fmt.format(statistics.fmean(values)) if values else "—"


def parse_args(argv: list[str] | None = None):
    """(options, extra Hydra overrides passed to every cell)."""
    ap = argparse.ArgumentParser(description="Run and tabulate a paper table")
    ap.add_argument("table", choices=sorted(TABLES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--smoke", action="store_true", help="1 epoch on generated fixtures: proves the pipeline, not results")
    ap.add_argument("--build-only", action="store_true", help="only rebuild the table from existing run directories")
    ap.add_argument("--data-dir", default=None, help="datasets root (default: the config's paths.data_dir)")
    ap.add_argument("--runs-root", default=None)
    ap.add_argument("--out", default=None, help="markdown output (default results/[smoke/]<table>.md)")
    return ap.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    spec = TABLES[args.table]
    runs_root = Path(args.runs_root) if args.runs_root else (RESULTS / "runs" / ("smoke" if args.smoke else "") / args.table)
    out = Path(args.out) if args.out else RESULTS / ("smoke" if args.smoke else "") / f"{args.table}.md"
    absent: dict[str, str] = {}
    if args.build_only and not args.smoke:
        from ..data.presence import dataset_status

        for cell in spec.cells:
            status = dataset_status(cell.dataset, args.data_dir or os.environ.get("SRNN_BENCH_DATA", "data"))
            if not status.present:
                absent[cell.name] = status.message
    if not args.build_only:
        from ..data.fixtures import make_fixture
        from ..data.presence import dataset_status

        for cell in spec.cells:
            if args.smoke:
                data_dir = str(runs_root / "_fixtures")
                make_fixture(cell.dataset, data_dir)
                for seed in args.seeds:
                    smoke_cell(cell, seed, runs_root / cell.name / f"seed{seed}", data_dir, [*SMOKE_OVERRIDES, *extra])
                continue
            status = dataset_status(cell.dataset, args.data_dir or os.environ.get("SRNN_BENCH_DATA", "data"))
            if not status.present:
                absent[cell.name] = status.message
                print(f"[{cell.name}] skipped: {status.message}", flush=True)
                continue
            for seed in args.seeds:
                run_cell(cell, seed, runs_root / cell.name / f"seed{seed}", args.data_dir, list(extra))
    print(build_table(args.table, runs_root, out, args.smoke, absent))
    print(f"wrote {out}")
    return 0


SMOKE_OVERRIDES = [
    "debug=smoke",  # configs/debug/smoke.yaml: 1 epoch, no progress bar, CPU, 1 thread (and limits 64, below 8)
    "dataset.limit_train=8",
    "dataset.limit_test=8",
    "trainer.batch_size=4",
    "trainer.eval_batch_size=8",
]
"""``--smoke``: the ``debug=smoke`` group plus what a paper-table smoke run shrinks further (8 samples, small
batches), so a whole table's cells run in minutes on generated fixtures."""


if __name__ == "__main__":
    raise SystemExit(main())
