"""Peak memory of loading SHD-sized data through the real loader (tonic -> binning -> sparse cache).

    OMP_NUM_THREADS=1 python scripts/measure_shd_memory.py [--n-train 8156] [--n-test 2264] [--spikes 8000]

Generates an SHD-sized fixture (HDF5 in the published layout, ``--n-train`` samples of ~``--spikes``
spikes each) in a temporary directory, then, in fresh processes, (1) builds the dataset from the
files (binning, writing the cache) and (2) builds it again from the cache, and reports for each the
peak resident memory above the interpreter + imports baseline, the in-memory size of the sparse
training set, and the time to densify one batch of 64. For comparison: dense float32 would be
n x 250 x 700 x 4 bytes (5.7 GB for 8156 samples).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(data_dir: str) -> None:
    import torch

    torch.set_num_threads(1)
    from srnn_bench.data import build_data, collate_time_first

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t0 = time.perf_counter()
    d = build_data({"name": "shd", "dt_ms": 4.0, "duration_ms": 1000.0, "val_fraction": 0.0, "split_seed": 0}, data_dir)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    x, y = collate_time_first([d.train[i] for i in range(64)])
    t_batch = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    train = d.train.dataset if hasattr(d.train, "dataset") else d.train
    print(json.dumps({
        "n_train": len(d.train), "n_test": len(d.test), "batch_shape": list(x.shape),
        "baseline_mib": base / 1024, "peak_mib": peak / 1024, "peak_above_baseline_mib": (peak - base) / 1024,
        "sparse_train_mib": train.nbytes / 2**20, "build_s": t_build, "batch64_s": t_batch,
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=8156)
    ap.add_argument("--n-test", type=int, default=2264)
    ap.add_argument("--spikes", type=int, default=8000, help="mean spikes per sample (Poisson)")
    ap.add_argument("--dir", default=None, help="where to write the fixture (default: a temporary directory)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    sys.path.insert(0, str(ROOT))
    from srnn_bench.data.fixtures import random_hsd

    tmp = tempfile.TemporaryDirectory() if args.dir is None else None
    data_dir = Path(args.dir or tmp.name)
    t0 = time.perf_counter()
    random_hsd(data_dir / "SHD" / "shd_train.h5", args.n_train, spikes_per_sample=args.spikes, seed=1)
    random_hsd(data_dir / "SHD" / "shd_test.h5", args.n_test, spikes_per_sample=args.spikes, seed=2)
    size = sum(p.stat().st_size for p in (data_dir / "SHD").glob("*.h5"))
    print(f"fixture: {args.n_train} + {args.n_test} samples, ~{args.spikes} spikes each, {size / 2**20:.0f} MiB of HDF5, "
          f"written in {time.perf_counter() - t0:.0f} s")
    dense = args.n_train * 250 * 700 * 4 / 2**30
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for label in ("from files (bins + writes the cache)", "from the cache"):
        out = subprocess.run([sys.executable, __file__, "--child", str(data_dir)], env=env, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{label}: peak RSS {r['peak_mib']:.0f} MiB ({r['peak_above_baseline_mib']:.0f} MiB above the "
              f"{r['baseline_mib']:.0f} MiB interpreter+imports baseline); sparse train set {r['sparse_train_mib']:.0f} MiB; "
              f"build {r['build_s']:.1f} s; one batch of 64 densified in {r['batch64_s'] * 1000:.0f} ms -> {r['batch_shape']}")
    cache = sum(p.stat().st_size for p in (data_dir / "cache" / "shd").glob("*.npz"))
    print(f"cache on disk: {cache / 2**20:.0f} MiB; dense float32 train set would be {dense:.2f} GiB")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
