"""Multirun directory -> CSV and heatmaps of accuracy and firing rate over two swept keys.

    python -m srnn_bench.reporting.sweeps outputs/multirun/<experiment>/<date> [--x surrogate.s --y surrogate.h]

Reads every job directory's ``.hydra/overrides.yaml`` (the swept values) and ``metrics.json``; jobs that
failed (``error.txt``) or never finished are listed in the CSV with their status, drawn as blank cells,
and reported on the console. Writes ``sweep.csv``, ``sweep_test_acc.png`` and ``sweep_firing_rate.png``
into the multirun directory (or ``--out``).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from ..utils.io import atomic_write, atomic_write_text
from ..utils.runs import iter_run_dirs


def collect(sweep_dir: str | Path) -> list[dict]:
    """One row per job: its swept values, status (ok / failed / incomplete) and final metrics."""
    rows = []
    for record in iter_run_dirs(sweep_dir):
        if record.run_dir == Path(sweep_dir):
            continue
        row = {"job": record.run_dir.name, **dict(o.split("=", 1) for o in record.overrides if "=" in o), "status": record.status}
        if record.ok:
            m = record.metrics
            row.update(test_acc=m.get("test_acc"), firing_rate=m.get("firing_rate"), sop_per_sample=m.get("sop_per_sample"))
        else:
            row["error"] = record.error
        rows.append(row)
    return rows


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
    ap.add_argument("--x", default="surrogate.s")
    ap.add_argument("--y", default="surrogate.h")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    rows = collect(args.sweep_dir)
    if not rows:
        print(f"no job directories under {args.sweep_dir}")
        return 1
    out = Path(args.out or args.sweep_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "sweep.csv")
    for value in ("test_acc", "firing_rate"):
        heatmap(rows, args.x, args.y, value, out / f"sweep_{value}.png")
    bad = [r for r in rows if r["status"] != "ok"]
    summary = f"{len(rows) - len(bad)}/{len(rows)} jobs ok"
    for r in bad:
        summary += f"\n  job {r['job']}: {r['status']}" + (f" — {r['error']}" if "error" in r else "")
    print(summary)
    atomic_write_text(out / "sweep_summary.txt", summary + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
