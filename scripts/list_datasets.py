"""Which datasets are present under the data directory, and where each is expected.

    python scripts/list_datasets.py [--data-dir DIR] [--json]

DIR defaults to $SRNN_BENCH_DATA, else ./data (the same as ``paths.data_dir``). For every dataset the
script checks the files its loader reads (by name and count only: it neither opens nor verifies them —
the loaders do that, and name any corrupt file) and prints present / partial / missing with the
expected layout. Datasets that download themselves (MNIST, Fashion-MNIST, SHD, SSC, N-MNIST, GSC,
QTDB) are fetched on first use when the network allows; the others must be placed by hand.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from srnn_bench.data.presence import survey


def main() -> None:
    ap = argparse.ArgumentParser(description="List which datasets are present under the data directory.")
    ap.add_argument("--data-dir", default=os.environ.get("SRNN_BENCH_DATA", "data"))
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args()
    data_dir = Path(args.data_dir).expanduser()
    rows = survey(data_dir)
    if args.json:
        print(json.dumps({"data_dir": str(data_dir), "datasets": rows}, indent=2))
        return
    print(f"data directory: {data_dir.resolve()}")
    for r in rows:
        detail = ", ".join(f"{f['what']} {f['found']}/{f['expected_at_least']}" for f in r["files"])
        print(f"  {r['dataset']:<26} {r['status']:<8} {r['path']}  [{detail}]")
        if r["status"] != "present":
            print(f"  {'':<26} {'':<8} get it: {r['get']}")


if __name__ == "__main__":
    main()
