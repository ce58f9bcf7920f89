"""Multirun directory -> CSV and heatmaps of accuracy and firing rate over two swept keys.

    python -m srnn_bench.reporting.sweeps outputs/multirun/<experiment>/<date> [--x surrogate.s --y surrogate.h]

Reads every job directory's own ``config.yaml`` (the swept values are the keys whose value differs
between jobs; :func:`srnn_bench.utils.runs.identities`) and ``metrics.json``; jobs that failed
(``error.txt``) or never finished are listed in the CSV with their status, drawn as blank cells, and
reported on the console. Writes ``sweep.csv``, and ``sweep_test_acc.png`` / ``sweep_firing_rate.png``
when ``--x`` and ``--y`` (default: the two swept keys, when exactly two numeric ones were swept) were
both swept, into the multirun directory (or ``--out``).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from ..utils.io import atomic_write, atomic_write_text
from ..utils.runs import identities, iter_run_dirs


def collect(sweep_dir: str | Path) -> list[dict]:
    """One row per job: its swept values (from its config.yaml), status (ok / failed / incomplete) and final metrics."""
    rows = []
    records = [r for r in iter_run_dirs(sweep_dir) if r.run_dir != Path(sweep_dir)]
    for record, ident in zip(records, identities(records)):
        row = {"job": record.run_dir.name, **ident, "status": record.status}
        if record.ok:
            m = record.metrics
            row.update(test_acc=m.get("test_acc"), firing_rate=m.get("firing_rate"), sop_per_sample=m.get("sop_per_sample"))
        else:
            row["error"] = record.error
        rows.append(row)
    return rows


def swept_keys(rows: list[dict]) -> list[str]:
    """Keys whose value differs between jobs and is a number in every job that has it (heatmap axes)."""
    fixed = {"job", "status", "error", "test_acc", "firing_rate", "sop_per_sample"}
    keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in fixed]

    def number(v) -> bool:
        try:
            float(v)
            return True
        except (TypeError, ValueError):
            return False

    return [k for k in keys if len({r.get(k) for r in rows}) > 1 and all(number(r[k]) for r in rows if k in r)]


def write_csv(rows: list[dict], path: Path) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)

    atomic_write(path, write)


def heatmap(rows: list[dict], x: str, y: str, value: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    xs = sorted({float(r[x]) for r in rows if x in r})
    ys = sorted({float(r[y]) for r in rows if y in r})
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        if r.get("status") == "ok" and r.get(value) is not None and x in r and y in r:
            grid[ys.index(float(r[y])), xs.index(float(r[x]))] = float(r[value])
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 2, 1.0 * len(ys) + 1.5))
    im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for i in range(len(ys)):
        for j in range(len(xs)):
            text = "failed" if math.isnan(grid[i, j]) else f"{grid[i, j]:.3f}"
            ax.text(j, i, text, ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(im, ax=ax, label=value)
    ax.set_title(f"{value} over {y} x {x}")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"), suffix=".png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir")
    ap.add_argument("--x", default=None, help="swept key on the x axis (default: the first of two swept keys)")
    ap.add_argument("--y", default=None, help="swept key on the y axis")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    rows = collect(args.sweep_dir)
    if not rows:
        print(f"no job directories under {args.sweep_dir}")
        return 1
    out = Path(args.out or args.sweep_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "sweep.csv")
    swept = swept_keys(rows)
    x, y = args.x, args.y
    if x is None and y is None and len(swept) == 2:
        x, y = swept
    not_swept = [k for k in (x, y) if k is not None and k not in swept]
    if x is None or y is None or not_swept:
        note = (f"no heatmap: {', '.join(not_swept)} not swept" if not_swept else "no heatmap: give --x and --y") + \
            f" (numeric keys swept: {', '.join(swept) or 'none'})"
    else:
        for value in ("test_acc", "firing_rate"):
            heatmap(rows, x, y, value, out / f"sweep_{value}.png")
        note = f"heatmaps over {y} x {x}"
    bad = [r for r in rows if r["status"] != "ok"]
    summary = f"{len(rows) - len(bad)}/{len(rows)} jobs ok; {note}"
    for r in bad:
        summary += f"\n  job {r['job']}: {r['status']}" + (f" — {r['error']}" if "error" in r else "")
    print(summary)
    atomic_write_text(out / "sweep_summary.txt", summary + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
