"""scripts/list_datasets.py: present / partial / missing per dataset, all nine paper datasets listed."""

import json
import subprocess
import sys

from conftest import ROOT

from srnn_bench.data.fixtures import random_hsd, random_mnist


def test_list_datasets_reports_status(tmp_path):
    random_mnist(tmp_path / "MNIST" / "raw", n_train=4, n_test=2)
    random_hsd(tmp_path / "SHD" / "shd_train.h5", 2)  # test file missing -> partial
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "list_datasets.py"), "--data-dir", str(tmp_path), "--json"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    rows = {r["dataset"]: r for r in json.loads(out.stdout)["datasets"]}
    for name in ("shd", "ssc", "nmnist", "mnist / smnist / psmnist", "fmnist", "soli", "gsc", "ecg", "timit", "librispeech"):
        assert name in rows
    assert rows["mnist / smnist / psmnist"]["status"] == "present"
    assert rows["shd"]["status"] == "partial" and rows["ssc"]["status"] == "missing"
    text = subprocess.run([sys.executable, str(ROOT / "scripts" / "list_datasets.py"), "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "zenkelab.org" in text and str(tmp_path / "SoLi") in text


def test_dataset_readers_are_named_after_their_configs():
    """srnn_bench.data.datasets' naming rule: configs/dataset/<name>.yaml -> datasets/<name>.py, or the
    family module whose name says it serves <name> (shd_ssc: shd, ssc; mnist: mnist, fmnist, smnist, psmnist)."""
    import importlib

    from srnn_bench.data import DATASETS

    configs = {p.stem for p in (ROOT / "configs" / "dataset").glob("*.yaml")}
    assert set(DATASETS) == configs
    package = ROOT / "srnn_bench" / "data" / "datasets"
    readers = {p.stem for p in package.glob("*.py")} - {"__init__"}
    assert {m.rpartition(".")[2] for m in DATASETS.values()} == readers  # no stray module, none missing
    for name, module in DATASETS.items():
        stem = module.rpartition(".")[2]
        family = name in stem.split("_") or (name.endswith(stem) and stem in DATASETS)
        assert stem == name or family, (name, module)
        assert module.startswith("srnn_bench.data.datasets."), module
        assert callable(importlib.import_module(module).build), module
